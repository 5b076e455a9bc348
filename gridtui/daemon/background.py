"""The daemon app's background tasks, one per cleanup context.

Each task is cancelled and awaited when the app stops (aiohttp's
background-tasks pattern):

* the **bus pump** — one lossy subscription to every topic; folds each batch
  into the live view and broadcasts it to the WebSocket clients;
* the **alert router** — a lossless subscription to ``alerts`` feeding the sinks
  (:mod:`gridtui.daemon.alert_router`);
* the **health monitor** — samples event-loop lag and ingest rate for
  ``/metrics``, tracks store and bus up/down, and raises the daemon's own
  alerts when either goes down or comes back;
* the **training worker** — runs API-started training jobs one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from engine.bus.base import BusError, Subscription
from engine.events import ALL_TOPICS, Alert, Event, Severity
from gridtui.daemon.bus_consumer import consume
from gridtui.daemon.keys import ALERT_ROUTER, ENGINE, HUB, JOBS, METRICS
from gridtui.daemon.ledger_broadcast import LedgerBroadcaster

# The logger these lines had in app.py: log lines keep their logger name.
log = logging.getLogger("gridtui.daemon.api")

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


async def subscribe_all(app: web.Application) -> Subscription | None:
    """The API's one lossy subscription to every topic; None when the bus is unreachable."""
    try:
        return await app[ENGINE].runtime.bus.subscribe(
            ALL_TOPICS, name="api", lossless=False, maxsize=100_000
        )
    except BusError as exc:
        log.warning("API cannot subscribe to the bus yet (%s); retrying", exc)
        return None


async def bus_pump(app: web.Application, subscription: Subscription | None) -> None:
    """Fold every bus batch into the live view and broadcast it to WebSocket clients."""
    engine, hub, metrics = app[ENGINE], app[HUB], app[METRICS]
    ledger = LedgerBroadcaster(engine, hub)

    async def fold_and_broadcast(batch: list[Event]) -> None:
        engine.live.apply(batch)
        metrics.bus_events.inc(len(batch))
        hub.broadcast(batch)
        ledger.after(batch)

    await consume(subscription, lambda: subscribe_all(app), fold_and_broadcast, retry_s=1.0)


async def health_monitor(app: web.Application, interval_s: float) -> None:
    """Loop lag, ingest rate, and the daemon's own alerts on store/bus outages."""
    engine, metrics = app[ENGINE], app[METRICS]
    runtime = engine.runtime
    loop = asyncio.get_running_loop()
    last_events, last_time = runtime.kernel.stats.events_in, loop.time()
    last_bus_errors, bus_quiet_s = runtime.kernel.stats.bus_errors, 0.0
    store_up, spill_failing = True, False
    while True:
        expected = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        now = loop.time()
        lag_s = max(0.0, now - expected)
        metrics.loop_lag.set(lag_s)
        metrics.loop_lag_histogram.observe(lag_s)
        events = runtime.kernel.stats.events_in
        metrics.events_per_second.set((events - last_events) / max(now - last_time, 1e-9))
        last_events, last_time = events, now

        bus_errors = runtime.kernel.stats.bus_errors
        if bus_errors != last_bus_errors:
            last_bus_errors, bus_quiet_s = bus_errors, 0.0
            if engine.bus_up:
                engine.bus_up = False
                await _local_alert(
                    app,
                    "bus_down",
                    Severity.WARNING,
                    f"the {runtime.bus.backend} bus is unreachable: dashboards and other "
                    "daemons get nothing; events are still stored",
                )
        else:
            bus_quiet_s += interval_s
            if not engine.bus_up and bus_quiet_s >= 3 * max(interval_s, 1.0):
                engine.bus_up = True
                await _local_alert(
                    app,
                    "bus_recovered",
                    Severity.INFO,
                    f"the {runtime.bus.backend} bus is back",
                )

        writer = runtime.writer
        if writer.stats.store_up != store_up:
            store_up = writer.stats.store_up
            if store_up:
                await _local_alert(
                    app,
                    "store_recovered",
                    Severity.INFO,
                    f"the {runtime.store.backend} store is back; {writer.pending} events "
                    "still to write",
                )
            else:
                await _local_alert(
                    app,
                    "store_down",
                    Severity.CRITICAL,
                    f"the {runtime.store.backend} store is down: buffering "
                    f"({writer.pending} events pending, spilled to disk past "
                    f"{writer.config.max_buffered}): {writer.stats.last_error}",
                )
        if writer.stats.spill_failing != spill_failing:
            spill_failing = writer.stats.spill_failing
            if spill_failing:
                await _local_alert(
                    app,
                    "store_spill_failed",
                    Severity.CRITICAL,
                    f"cannot spill to disk ({writer.stats.spill_error}): {writer.pending} "
                    "events held in memory, retrying; free space in the spill dir",
                )
            else:
                await _local_alert(
                    app,
                    "store_spill_recovered",
                    Severity.INFO,
                    "no events wait for the spill disk any more",
                )


async def _local_alert(app: web.Application, rule: str, severity: Severity, message: str) -> None:
    engine = app[ENGINE]
    alert = Alert(ts=engine.now(), rule=rule, severity=severity, message=message, key="daemon")
    engine.runtime.writer.add([alert])  # kept like every alert (buffered if the store is down)
    engine.live.apply([alert])
    try:
        await app[ALERT_ROUTER].raise_local(alert)
    except Exception:
        log.exception("could not deliver the daemon alert %s", rule)


async def _one_task(
    app: web.Application, name: str, work: Coroutine[Any, Any, None]
) -> AsyncIterator[None]:
    """The body of a cleanup context that owns exactly one background task."""
    task = asyncio.create_task(work, name=name)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _task_context(
    name: str, start: Callable[[web.Application], Coroutine[Any, Any, None]]
) -> CleanupContext:
    """A cleanup context running ``start(app)`` as its one background task."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async for _ in _one_task(app, name, start(app)):
            yield

    context.__name__ = f"{name}_context"
    return context


async def _pump_context(app: web.Application) -> AsyncIterator[None]:
    # Subscribed before the app serves: nothing published from then on is missed.
    subscription = await subscribe_all(app)
    async for _ in _one_task(app, "bus-pump", bus_pump(app, subscription)):
        yield


async def _alert_router_context(app: web.Application) -> AsyncIterator[None]:
    router, bus = app[ALERT_ROUTER], app[ENGINE].runtime.bus
    subscription = await router.subscribe(bus)
    try:
        async for _ in _one_task(app, "alert-router", router.run(bus, subscription)):
            yield
    finally:
        await router.close()


async def _backtests_context(app: web.Application) -> AsyncIterator[None]:
    # Last in start order, so first to stop: running backtests are cancelled and
    # recorded while the pump, the store and the bus still run.
    yield
    cancelled = await app[ENGINE].client.cancel_backtests()
    if cancelled:
        log.info("cancelled %d running backtests on shutdown", cancelled)


async def _training(app: web.Application) -> None:
    await app[JOBS].run(app[ENGINE].trainer)


def cleanup_contexts(monitor_interval_s: float) -> list[CleanupContext]:
    """The app's background tasks (see the module docstring), in start order."""

    async def monitor(app: web.Application) -> None:
        await health_monitor(app, monitor_interval_s)

    return [
        _pump_context,
        _alert_router_context,
        _task_context("health-monitor", monitor),
        _task_context("training-worker", _training),
        _backtests_context,
    ]
