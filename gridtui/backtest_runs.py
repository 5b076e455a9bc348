"""Backtest runs from the settings: prepare one (config, feed, strategies), run it, store it.

Shared by ``gridtui backtest`` (:mod:`gridtui.commands.backtest`) and the
in-process engine client (:class:`~gridtui.client.in_process.InProcessClient`),
which runs backtests for the dashboard and the daemon's API: both build a run
with :func:`prepare` and execute it with :func:`run_and_save`, so a run started
from a key, a POST or the command line is the same run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.events import BacktestProgress, PriceKind
from engine.kernel import Component
from engine.ports import Feed, FeedError
from engine.store.base import Store
from engine.time_us import from_us
from gridtui import days
from gridtui.commands.backtest_output import (
    write_run_report,
)
from gridtui.settings.loader import Settings, SettingsError
from gridtui.wiring import build_components, build_strategies

if TYPE_CHECKING:
    # Imported when a backtest runs: `gridtui` itself starts without them.
    from engine.backtest.config import BacktestConfig
    from engine.backtest.result import BacktestResult


log = logging.getLogger("gridtui.commands.backtest")  # the name its log lines always had


@dataclass(slots=True)
class Prepared:
    """A backtest ready to go: its config, feed, strategies and extra components."""

    config: BacktestConfig
    feed: Feed
    strategies: list[Any]
    components: list[Component]


def parse_day(raw: str, flag: str) -> date:
    try:
        return days.parse_day(raw)
    except ValueError as exc:
        raise SettingsError(f"{flag} {exc}") from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def file_span(path: str, markets: Sequence[str]) -> tuple[datetime, datetime]:
    """First and last timestamp of a price file."""
    from feeds.price_file import load_prices

    history = load_prices(path, markets)
    if not len(history):
        raise FeedError(f"{path} holds no prices for {list(markets)}")
    return from_us(int(history.ts_us[0])), from_us(int(history.ts_us[-1]))


def analytics_components(settings: Settings) -> list[Component]:
    """The live analytics stages a backtest also runs (a wired-in forecaster, say).

    The spread engine, strategies and alerts are the backtest's own; a battery
    fleet and the gate-closure cockpit (it watches the live strategies'
    gates and publications) are live-only.
    """
    own = {"spreads", "strategies", "alerts", "batteries", "cockpit"}
    return [c for c in build_components(settings) if c.name not in own]


def needs_fundamentals(component: Component) -> bool:
    """Whether a wired-in forecaster reads load/wind/solar (which a price file lacks)."""
    forecaster = getattr(component, "forecaster", None)
    needed = getattr(getattr(forecaster, "config", None), "fundamentals", ())
    if needed:
        log.warning(
            "%s needs fundamentals (%s), which a price file lacks: left out of the backtest",
            component.name,
            ", ".join(needed),
        )
    return bool(needed)


def prepare(
    settings: Settings,
    *,
    data: str,
    start: date | None,
    end: date | None,
    names: Sequence[str],
    run_id: str,
) -> Prepared:
    """Build the backtest of ``names`` over the days ``start``..``end`` (included) of ``data``.

    Raises:
        SettingsError / FeedError / ValueError: what is wrong, in words.
    """
    from engine.backtest.config import BacktestConfig, check_window

    markets = settings.markets
    components = analytics_components(settings)
    if data != "mock":  # a price file has prices only
        components = [c for c in components if not needs_fundamentals(c)]
    forecasting = any("forecast" in c.name for c in components)
    inputs = ["forecasts"] if forecasting else []
    # A day-ahead forecaster acts once a day, when the clock passes its decision
    # time: it has to see every hour go by, so the feed comes an instant at a time.
    batch = len(markets) if forecasting else 10_000
    feed: Feed
    if data == "mock":
        from feeds.mock.feed import MockFeed, MockFeedConfig

        if start is None or end is None:
            raise SettingsError("--data mock needs --from and --to")
        first, stop = _midnight(start), _midnight(end + timedelta(days=1))
        # One intraday round per quarter-hour: the simulator's fundamentals and
        # prices at the resolution strategies trade, not a tick a second.
        feed = MockFeed(
            MockFeedConfig(
                markets=markets,
                seed=settings.feed.seed,
                tick_interval_s=0,
                start=first,
                fast_step_s=900,
                fast_batch_ticks=batch,
                timeline=settings.market,
            )
        )
        kind = PriceKind.INTRADAY
        inputs.append("fundamentals")
    else:
        from feeds.replay import ReplayConfig, ReplayFeed

        if not Path(data).expanduser().exists():
            raise FeedError(f"price file {data} does not exist")
        file_first, file_last = file_span(data, markets)
        first = _midnight(start) if start else file_first
        stop = _midnight(end + timedelta(days=1)) if end else file_last + timedelta(hours=1)
        check_window(first, stop, file_first, file_last, data)
        feed = ReplayFeed(ReplayConfig(path=data, markets=markets, batch_size=batch))
        kind = PriceKind.DAY_AHEAD
    config = BacktestConfig(
        run_id=run_id,
        start=first,
        end=stop,
        strategies=tuple(names),
        data=data,
        markets=markets,
        price_kind=kind,
        execution=settings.strategies.execution,
        spreads=settings.spreads,
        inputs=tuple(inputs),
        timeline=settings.market,
    )
    return Prepared(config, feed, build_strategies(settings, names), components)


async def run_and_save(
    prepared: Prepared,
    store: Store | None,
    *,
    created_at: datetime,
    on_progress: Callable[[BacktestProgress], None] | None = None,
    report: str | Path | None = None,
) -> BacktestResult:
    """Run a prepared backtest; write its ``report`` (None: none); keep it in ``store``.

    The record keeps the run's wall time (``wall_s``) and the report's path.
    """
    from engine.backtest.run import run_backtest

    result = await run_backtest(
        prepared.config,
        prepared.feed,
        prepared.strategies,
        created_at=created_at,
        extra_components=prepared.components,
        on_progress=on_progress,
    )
    result.record.config["wall_s"] = round(result.total_s, 3)
    if report is not None:
        from engine.backtest.capture import run_ledger

        ledger = run_ledger(result, prepared.strategies, prepared.config.execution.fee_eur_mwh)
        path = write_run_report(str(report), result.record.run_id, result, ledger)
        result.record.config["report"] = str(path.resolve())
    if store is not None:
        await store.save_backtest(result.record)
        await store.save_backtest_trades(result.record.run_id, result.trades)
    return result
