"""The backtester: the live runtime, driven by a replay feed on a SimClock, as fast as it goes.

A backtest is :class:`engine.runtime.Runtime` — the same kernel, validator,
spread engine and :class:`~engine.strategy_manager.StrategyManager` the daemon
runs — with three things swapped:

- the feed is history (``feeds.replay.ReplayFeed``, or any :class:`~engine.ports.Feed`),
  cut to ``[start, end)`` by :class:`WindowFeed`;
- the clock is a :class:`~engine.clock.SimClock` that the feed moves along;
- the store is :class:`ResultsOnlyStore`: a backtest replays ticks that are
  already stored (or never need to be), so the kernel's writer hands them to
  nothing. What a run produces — config, metrics, equity curve, trades — is
  kept by :class:`BacktestRecorder` and saved by the caller in one go
  (``Store.save_backtest`` + ``Store.save_backtest_trades``).

On the bus go :class:`~engine.events.BacktestProgress` events (percent of the
time window done, ETA from the real time spent so far); ``on_progress`` gets
the same events, so a CLI progress bar or the dashboard's engine bus can
follow. Callers: ``gridtui backtest``, ``gridtui.client.InProcessClient``
(the dashboard's new-backtest form), ``bench/backtest_throughput.py``.

The battery's percentage of perfect foresight compares its revenue with
:func:`engine.optimum.solve_schedule` on the very prices it traded (gaps filled
as :class:`engine.dispatch.PriceSeries` fills them), without fees or slippage.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Final

import msgspec

from engine.bus.base import Bus
from engine.bus.memory import MemoryBus
from engine.clock import Clock, SimClock
from engine.events import (
    Alert,
    AuditEntry,
    BacktestProgress,
    BatteryState,
    Event,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
    Trade,
)
from engine.kernel import Component
from engine.metrics import BacktestMetrics, compute_metrics
from engine.ports import Feed
from engine.spread_config import DEFAULT_MARKETS, SpreadConfig
from engine.spreads import SpreadEngine
from engine.store.base import BacktestRecord
from engine.store.writer import WriterConfig
from engine.strategies.base import Strategy
from engine.strategies.battery import BatteryStrategy
from engine.strategies.execution import ExecutionConfig
from engine.strategy_config import ManagerConfig
from engine.strategy_manager import StrategyManager
from engine.validation import ValidationConfig

log = logging.getLogger(__name__)

MAX_STORED_EQUITY_POINTS: Final = 20_000
ProgressCallback = Callable[[BacktestProgress], None]


class BacktestConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One backtest run.

    Attributes:
        run_id: the run's name in the store (``bt-20240301-101500``).
        start / end: the window, ``start`` included, ``end`` excluded (UTC).
        strategies: the names asked for (a strategy without its inputs is skipped).
        data: where the history came from, for the record (a path, ``mock``).
        markets: the markets replayed and validated.
        price_kind: the prices strategies trade (replayed history is day-ahead).
        execution: fees, slippage and limits.
        spreads: the spread engine's config; None = defaults on ``price_kind``.
        inputs: what the run feeds besides prices and spreads (``forecasts``,
            ``fundamentals``): decides which strategies can run.
        equity_interval_s: event-time spacing of the equity curve.
        progress_interval_s: real seconds between two progress events.
    """

    run_id: str
    start: datetime
    end: datetime
    strategies: tuple[str, ...]
    data: str = ""
    markets: tuple[str, ...] = DEFAULT_MARKETS
    price_kind: PriceKind = PriceKind.DAY_AHEAD
    execution: ExecutionConfig = ExecutionConfig()
    spreads: SpreadConfig | None = None
    inputs: tuple[str, ...] = ()
    equity_interval_s: float = 3600.0
    progress_interval_s: float = 0.25

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("backtest start and end must be tz-aware (UTC)")
        if not self.start < self.end:
            raise ValueError(f"backtest window is empty: {self.start} .. {self.end}")

    def spread_config(self) -> SpreadConfig:
        if self.spreads is None:
            return SpreadConfig(markets=self.markets, price_kind=self.price_kind)
        return msgspec.structs.replace(self.spreads, price_kind=self.price_kind)


class ResultsOnlyStore:
    """A Store that keeps nothing: a backtest's ticks and derived events go nowhere.

    The kernel always hands its batches to the writer; in a backtest they are
    history already, and the recorder keeps what the run produced. Reads answer
    empty; every write is counted.
    """

    backend = "none"

    def __init__(self) -> None:
        self.discarded = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def write(self, events: Sequence[Event]) -> None:
        self.discarded += len(events)

    async def latest_prices(
        self, markets: Sequence[str], kind: PriceKind = PriceKind.INTRADAY
    ) -> dict[str, PriceTick]:
        return {}

    async def price_history(
        self,
        market: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        kind: PriceKind | None = None,
    ) -> list[PriceTick]:
        return []

    async def opportunities_since(self, since: datetime) -> list[SpreadOpportunity]:
        return []

    async def trades(self, strategy: str | None = None, limit: int = 1000) -> list[Trade]:
        return []

    async def alerts(self, limit: int = 100) -> list[Alert]:
        return []

    async def battery_states(self, battery_id: str, limit: int = 1000) -> list[BatteryState]:
        return []

    async def audit_log(self, strategy: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return []

    async def save_backtest(self, record: BacktestRecord) -> None:
        return None

    async def backtests(self, limit: int = 100) -> list[BacktestRecord]:
        return []

    async def backtest(self, run_id: str) -> BacktestRecord | None:
        return None

    async def delete_backtest(self, run_id: str) -> bool:
        return False

    async def save_backtest_trades(self, run_id: str, trades: Sequence[Trade]) -> None:
        return None

    async def backtest_trades(
        self, run_id: str, strategy: str | None = None, limit: int = 100_000
    ) -> list[Trade]:
        return []

    async def count(self, table: str) -> int:
        return 0


class WindowFeed:
    """Any feed, cut to ``[start, end)``: earlier events are dropped, the stream ends at ``end``."""

    def __init__(self, feed: Feed, start: datetime, end: datetime) -> None:
        self.feed = feed
        self.start = start
        self.end = end

    @property
    def name(self) -> str:
        return self.feed.name

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        start, end = self.start, self.end
        source = self.feed.stream(clock)
        try:
            async for batch in source:
                # Every event is checked: a feed may mix times (day-ahead curves
                # published ahead of intraday ticks), so a batch's ends prove nothing.
                inside = [e for e in batch if start <= e.ts < end]
                if inside:
                    yield inside
                if clock.now() >= end:
                    return
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()


class BacktestRecorder:
    """The last component of a backtest: keeps what the report needs, reports progress."""

    name = "backtest-recorder"

    def __init__(
        self,
        config: BacktestConfig,
        clock: Clock,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.on_progress = on_progress
        self.trades: list[Trade] = []
        self.battery_states: list[BatteryState] = []
        self.prices: dict[str, list[tuple[datetime, float]]] = {}
        self.events_seen = 0
        self.started_s = clock.monotonic()
        self._last_progress_s = -math.inf
        self._span_s = (config.end - config.start).total_seconds()
        self._kind = config.price_kind

    def take(self, events: Sequence[Event]) -> None:
        """Keep the trades and battery states of events produced outside the kernel loop."""
        for event in events:
            if type(event) is Trade:
                self.trades.append(event)
            elif type(event) is BatteryState:
                self.battery_states.append(event)

    def on_events(self, events: Sequence[Event], now: datetime) -> list[Event]:
        self.events_seen += len(events)
        prices = self.prices
        kind = self._kind
        trades = self.trades
        states = self.battery_states
        for event in events:
            event_type = type(event)
            if event_type is PriceTick:
                if event.kind is kind:  # type: ignore[attr-defined]
                    series = prices.get(event.market)  # type: ignore[attr-defined]
                    if series is None:
                        series = prices[event.market] = []  # type: ignore[attr-defined]
                    series.append((event.ts, event.price_eur_mwh))  # type: ignore[attr-defined]
            elif event_type is Trade:
                trades.append(event)  # type: ignore[arg-type]
            elif event_type is BatteryState:
                states.append(event)  # type: ignore[arg-type]
        if self.clock.monotonic() - self._last_progress_s >= self.config.progress_interval_s:
            return [self.progress(now)]
        return []

    def on_timer(self, now: datetime) -> list[Event]:
        return []

    def fraction(self, now: datetime) -> float:
        done = (now - self.config.start).total_seconds()
        return min(max(done / self._span_s, 0.0), 1.0) if self._span_s > 0 else 1.0

    def progress(self, now: datetime, state: str = "running") -> BacktestProgress:
        """A progress event for ``now``; also handed to ``on_progress``."""
        elapsed_s = self.clock.monotonic() - self.started_s
        self._last_progress_s = self.clock.monotonic()
        fraction = 1.0 if state == "finished" else self.fraction(now)
        eta_s = elapsed_s * (1 - fraction) / fraction if 0 < fraction < 1 else None
        total = round(self.events_seen / fraction) if fraction > 0 else 0
        event = BacktestProgress(
            ts=now,
            run_id=self.config.run_id,
            state=state,
            percent=100.0 * fraction,
            events_done=self.events_seen,
            events_total=max(total, self.events_seen),
            eta_s=0.0 if state == "finished" else eta_s,
        )
        if self.on_progress is not None:
            try:
                self.on_progress(event)
            except Exception:
                log.exception("backtest %s: the progress callback failed", self.config.run_id)
        return event


class BacktestResult(msgspec.Struct, kw_only=True):
    """Everything a run produced: what is stored, and what a report draws."""

    record: BacktestRecord
    metrics: BacktestMetrics
    trades: list[Trade]
    equity_curve: list[tuple[datetime, float]]
    strategy_equity: dict[str, list[float]]
    battery_states: list[BatteryState]
    prices: dict[str, list[tuple[datetime, float]]]
    descriptions: dict[str, str]
    skipped: dict[str, str]
    events_in: int
    events_derived: int
    engine_s: float
    total_s: float

    def __repr__(self) -> str:
        # Short on purpose: Python 3.11's asyncio.run formats the main task (and
        # so this result) into an error message while restoring the SIGINT
        # handler at exit; a full repr of a year's trades took 0.8 s there.
        return (
            f"BacktestResult(run_id={self.record.run_id!r}, trades={len(self.trades)}, "
            f"events_in={self.events_in}, events_derived={self.events_derived})"
        )

    @property
    def events_per_s(self) -> float:
        """Engine events (ticks in + events derived from them) per second of engine time."""
        return (self.events_in + self.events_derived) / max(self.engine_s, 1e-9)

    @property
    def ticks_per_s(self) -> float:
        return self.events_in / max(self.engine_s, 1e-9)


def runnable(
    strategies: Sequence[Strategy], inputs: Sequence[str]
) -> tuple[list[Strategy], dict[str, str]]:
    """The strategies whose inputs the run provides, and why the others are left out."""
    available = {"prices", "spreads", *inputs}
    able: list[Strategy] = []
    skipped: dict[str, str] = {}
    for strategy in strategies:
        missing = sorted(strategy.inputs - available)
        if missing:
            skipped[strategy.name] = f"needs {', '.join(missing)}, which this run does not feed"
        else:
            able.append(strategy)
    return able, skipped


async def run_backtest(
    config: BacktestConfig,
    feed: Feed,
    strategies: Sequence[Strategy],
    *,
    created_at: datetime | None = None,
    extra_components: Sequence[Component] = (),
    on_progress: ProgressCallback | None = None,
    bus: Bus | None = None,
) -> BacktestResult:
    """Run one backtest to the end of its window (or of the feed); return its results.

    Args:
        config: the run.
        feed: the history (it must pace itself on a SimClock: a replay).
        strategies: built strategies; those without their inputs are skipped.
        created_at: stamped on the record (the caller's wall clock; default: ``config.start``).
        extra_components: run between the spread engine and the strategies
            (a forecaster emitting Forecast events, say).
        on_progress: called with every BacktestProgress, the last one ``finished``.
        bus: where events are published (default: a private MemoryBus).
    """
    from engine.runtime import Runtime  # the runtime imports the store writer; keep import light

    clock = SimClock(config.start)
    able, skipped = runnable(strategies, config.inputs)
    for name, why in skipped.items():
        log.info("backtest %s: strategy %s left out: %s", config.run_id, name, why)
    manager = StrategyManager(
        able,
        ManagerConfig(
            price_kind=config.price_kind,
            execution=config.execution,
            record_equity=True,
            equity_interval_s=config.equity_interval_s,
            id_prefix=f"{config.run_id}/",
            status_interval_s=3600.0,
        ),
    )
    recorder = BacktestRecorder(config, clock, on_progress)
    runtime = Runtime(
        feed=WindowFeed(feed, config.start, config.end),
        clock=clock,
        bus=bus or MemoryBus(),
        store=ResultsOnlyStore(),
        components=[SpreadEngine(config.spread_config()), *extra_components, manager, recorder],
        writer_config=WriterConfig(batch_size=200_000, max_age_s=5.0, max_in_flight=1),
        validation=ValidationConfig(markets=config.markets),
        paced=False,  # the results-only store keeps nothing: no store pace to follow
    )
    actor = f"backtest:{config.run_id}"
    total_started_s = clock.monotonic()
    await runtime.start()
    state = "failed"
    try:
        for strategy in able:
            recorder.take(
                manager.start(strategy.name, now=config.start, actor=actor, reason="backtest")
            )
        engine_started_s = clock.monotonic()
        stats = await runtime.run()
        engine_s = clock.monotonic() - engine_started_s
        end_ts = manager.event_now if manager.event_now > config.start else config.start
        recorder.take(
            manager.stop_all(now=end_ts, actor=actor, reason="end of backtest", finish_bar=True)
        )
        manager.sample_equity(end_ts)
        state = "finished"
    finally:
        await runtime.close()
        if state != "finished":
            recorder.progress(clock.now(), state)
    result = _results(config, manager, recorder, able, skipped, created_at)
    result.events_in = stats.events_in
    result.events_derived = stats.derived
    result.engine_s = engine_s
    result.total_s = clock.monotonic() - total_started_s
    recorder.progress(end_ts, "finished")
    return result


def _results(
    config: BacktestConfig,
    manager: StrategyManager,
    recorder: BacktestRecorder,
    strategies: Sequence[Strategy],
    skipped: dict[str, str],
    created_at: datetime | None,
) -> BacktestResult:
    kinds = {s.name: s.kind for s in strategies}
    batteries = [s for s in strategies if isinstance(s, BatteryStrategy)]
    battery = batteries[0] if batteries else None
    equity_curve = [(config.start, 0.0), *manager.equity_curve]
    trades = sorted(recorder.trades, key=lambda t: (t.ts, t.trade_id))
    battery_states: list[BatteryState] = []
    battery_prices: list[tuple[datetime, float]] = []
    perfect_eur: float | None = None
    if battery is not None:
        spec = battery.spec
        battery_states = [s for s in recorder.battery_states if s.battery_id == spec.battery_id]
        battery_prices = recorder.prices.get(spec.market, [])
        perfect_eur = perfect_foresight_eur(battery, battery_prices)
    metrics = compute_metrics(
        trades,
        equity_curve,
        kinds=kinds,
        battery_states=battery_states,
        battery_power_mw=battery.spec.power_mw if battery else None,
        battery_usable_mwh=battery.spec.usable_mwh if battery else None,
        battery_prices=battery_prices,
        perfect_foresight_eur=perfect_eur,
    )
    stride = max(1, math.ceil(len(equity_curve) / MAX_STORED_EQUITY_POINTS))
    stored_curve = equity_curve[::stride]
    if stored_curve[-1] != equity_curve[-1]:
        stored_curve.append(equity_curve[-1])
    record = BacktestRecord(
        run_id=config.run_id,
        created_at=created_at or config.start,
        state="finished",
        config={
            "from": config.start.isoformat(),
            "to": config.end.isoformat(),
            "data": config.data,
            "markets": list(config.markets),
            "price_kind": config.price_kind.value,
            "strategies": list(config.strategies),
            "ran": [s.name for s in strategies],
            "skipped": skipped,
            "descriptions": {s.name: s.describe() for s in strategies},
            "execution": msgspec.to_builtins(config.execution),
        },
        metrics=metrics.to_dict(),
        equity_curve=stored_curve,
    )
    return BacktestResult(
        record=record,
        metrics=metrics,
        trades=trades,
        equity_curve=equity_curve,
        strategy_equity={name: [0.0, *values] for name, values in manager.strategy_equity.items()},
        battery_states=battery_states,
        prices=recorder.prices,
        descriptions={s.name: s.describe() for s in strategies},
        skipped=skipped,
        events_in=0,
        events_derived=0,
        engine_s=0.0,
        total_s=0.0,
    )


def perfect_foresight_eur(
    battery: BatteryStrategy, prices: Sequence[tuple[datetime, float]]
) -> float | None:
    """The net revenue the battery would have made knowing every price (None if unsolvable)."""
    if len(prices) < 2:
        return None
    from engine.dispatch import PriceSeries, to_us
    from engine.optimum import OptimumError, solve_schedule

    series = PriceSeries.from_points(
        battery.spec.market,
        [to_us(ts) for ts, _ in prices],
        [p for _, p in prices],
        battery.settings.period_minutes,
    )
    try:
        schedule = solve_schedule(battery.spec, series.prices, series.dt_h)
    except OptimumError as exc:
        log.warning("perfect foresight for %s failed: %s", battery.spec.battery_id, exc)
        return None
    return schedule.net_revenue_eur


def new_run_id(now: datetime) -> str:
    """A run id from the caller's clock: ``bt-YYYYMMDD-HHMMSS``."""
    return now.astimezone(UTC).strftime("bt-%Y%m%d-%H%M%S")


__all__ = [
    "BacktestConfig",
    "BacktestRecorder",
    "BacktestResult",
    "ProgressCallback",
    "ResultsOnlyStore",
    "WindowFeed",
    "new_run_id",
    "perfect_foresight_eur",
    "run_backtest",
    "runnable",
]
