"""The backtester: the live runtime, driven by a replay feed on a SimClock, as fast as it goes.

A backtest is :class:`engine.runtime.Runtime` — the same kernel, validator,
spread engine and :class:`~engine.strategies.manager.StrategyManager` the daemon
runs — with three things swapped:

- the feed is history (``feeds.replay.ReplayFeed``, or any :class:`~engine.ports.Feed`),
  cut to ``[start, end)`` by :class:`~engine.backtest.window_feed.WindowFeed`;
- the clock is a :class:`~engine.clock.SimClock` that the feed moves along;
- the store is :class:`~engine.backtest.results_only_store.ResultsOnlyStore`: a backtest
  replays ticks that are already stored (or never need to be), so the kernel's
  writer hands them to nothing. What a run produces — config, metrics, equity
  curve, trades — is kept by :class:`~engine.backtest.recorder.BacktestRecorder`,
  gathered into a :class:`~engine.backtest.result.BacktestResult` and saved by
  the caller in one go (``Store.save_backtest`` + ``Store.save_backtest_trades``).

The run is configured by :class:`~engine.backtest.config.BacktestConfig`.

On the bus go :class:`~engine.events.BacktestProgress` events (percent of the
time window done, ETA from the real time spent so far); ``on_progress`` gets
the same events, so a CLI progress bar or the dashboard's engine bus can
follow. Callers: ``gridtui backtest``, ``gridtui.client.in_process.InProcessClient``
(the dashboard's new-backtest form), ``bench/backtest_throughput.py``.

The battery's percentage of perfect foresight (:mod:`engine.backtest.result`)
compares its revenue with :func:`engine.battery.optimum.solve_schedule` on the very
prices it traded, without fees or slippage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from engine.backtest.config import BacktestConfig, NoDataInWindow
from engine.backtest.recorder import BacktestRecorder, ProgressCallback
from engine.backtest.result import BacktestResult, collect_result
from engine.backtest.results_only_store import ResultsOnlyStore
from engine.backtest.window_feed import WindowFeed
from engine.bus.base import Bus
from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.kernel import Component
from engine.ports import Feed
from engine.spreads.engine import SpreadEngine
from engine.store.writer import WriterConfig
from engine.strategies.base import Strategy
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from engine.validation import ValidationConfig

log = logging.getLogger(__name__)


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
            timeline=config.timeline,
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
        if stats.events_in == 0:
            # A run over no prices would "succeed" with zero ticks and a blank report.
            raise NoDataInWindow(
                f"backtest {config.run_id}: {config.data or 'the feed'} has no prices for "
                f"{', '.join(config.markets)} from {config.start:%Y-%m-%d %H:%M} to "
                f"{config.end:%Y-%m-%d %H:%M} UTC; nothing was stored"
            )
        end_ts = manager.event_now if manager.event_now > config.start else config.start
        recorder.take(
            manager.stop_all(now=end_ts, actor=actor, reason="end of backtest", finish_bar=True)
        )
        # Periods delivered inside the window settle; commitments beyond it are not counted.
        recorder.take(manager.settle_until(min(config.end, end_ts + _LAST_PERIOD)))
        manager.sample_equity(end_ts)
        state = "finished"
    finally:
        await runtime.close()
        if state != "finished":
            recorder.progress(clock.now(), state)
    result = collect_result(config, manager, recorder, able, skipped, created_at)
    result.events_in = stats.events_in
    result.events_derived = stats.derived
    result.engine_s = engine_s
    result.total_s = clock.monotonic() - total_started_s
    recorder.progress(end_ts, "finished")
    return result


_LAST_PERIOD: Final = timedelta(hours=1)  # the last bar's delivery period ends after it


def new_run_id(now: datetime) -> str:
    """A run id from the caller's clock: ``bt-YYYYMMDD-HHMMSS``."""
    return now.astimezone(UTC).strftime("bt-%Y%m%d-%H%M%S")


__all__ = ["new_run_id", "run_backtest", "runnable"]
