"""The kernel: pulls a feed, runs the components, fans out to the bus and the store.

One loop, one direction::

    feed ──batch──▶ validate ──▶ components (spreads, later strategies, alerts …)
                                   │ derived events
                                   ▼
                      bus.publish(batch + derived)   writer.add(batch + derived)

Live and backtest differ only in the feed and the clock handed in. The kernel
owns the feed's :class:`~engine.feed_health.FeedHealthMachine` and is the only
publisher of its FeedHealth (once a second, and through the components when the
state changes, so the alert rules see it). The kernel never reads the wall
clock; a component error or a bus outage is logged and counted and the loop goes
on, because the daemon must not die on one bad event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import msgspec

from engine.bus.base import Bus, BusError
from engine.clock import Clock
from engine.events import Event, FeedHealth
from engine.feed_health import FeedHealthMachine
from engine.ports import Feed, ReportsHealth
from engine.store.writer import BatchedWriter
from engine.validation import TickValidator

log = logging.getLogger(__name__)


class Component(Protocol):
    """An analytics stage the kernel runs on every batch (spreads, strategies, alerts)."""

    @property
    def name(self) -> str: ...

    def on_events(self, events: Sequence[Event], now: datetime) -> Sequence[Event]:
        """React to validated events; return derived events (may be empty)."""
        ...

    def on_timer(self, now: datetime) -> Sequence[Event]:
        """Called about once a second: time-driven work such as closing stale spreads."""
        ...


class KernelStats(msgspec.Struct, kw_only=True):
    """The kernel's counters: events in and accepted, events derived, batches, component and bus
    errors.
    """

    events_in: int = 0
    accepted: int = 0
    derived: int = 0
    batches: int = 0
    component_errors: int = 0
    bus_errors: int = 0
    last_batch_at: datetime | None = None
    started_monotonic: float = 0.0
    stopped_monotonic: float | None = None


class Kernel:
    """The event loop: feed → validation → components → bus and store, one batch at a time.

    Owns the order of components and the batch cycle; built and started by
    :class:`~engine.runtime.Runtime`.
    """

    def __init__(
        self,
        feed: Feed,
        *,
        clock: Clock,
        bus: Bus,
        writer: BatchedWriter,
        validator: TickValidator,
        components: Sequence[Component] = (),
        timer_interval_s: float = 1.0,
        stale_after_s: float = 60.0,
        paced: bool = False,
        forward_input: bool = True,
    ) -> None:
        self.feed = feed
        self.paced = paced
        # False when the feed is the bus itself (an analytics node) or nothing (an api
        # node): the events are already stored and published by the node that ingested
        # them, so only what the components derive goes out, and the feed's health is
        # that node's to tell (two publishers of one health would flap it).
        self.forward_input = forward_input
        self.clock = clock
        self.bus = bus
        self.writer = writer
        self.validator = validator
        self.components = list(components)
        self.timer_interval_s = timer_interval_s
        self.stale_after_s = stale_after_s
        self.stats = KernelStats()
        self.feed_health = FeedHealthMachine(feed.name, stale_after_s=stale_after_s)
        if isinstance(feed, ReportsHealth):
            feed.report_health_to(self.feed_health)
        self._health_published = ""
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to finish after the batch in hand."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was asked (before :meth:`run` too: it then returns at once)."""
        return self._stop.is_set()

    def elapsed_s(self) -> float:
        end = self.stats.stopped_monotonic or self.clock.monotonic()
        return max(end - self.stats.started_monotonic, 1e-9)

    def events_per_s(self) -> float:
        return self.stats.events_in / self.elapsed_s()

    async def run(self) -> KernelStats:
        """Run until the feed ends or :meth:`stop` is called."""
        self.stats.started_monotonic = self.clock.monotonic()
        self.feed_health.start(self.clock.now())
        timer = asyncio.create_task(self._timer_loop(), name="kernel-timer")
        pump = asyncio.create_task(self._pump(), name="kernel-pump")
        stopper = asyncio.create_task(self._stop.wait(), name="kernel-stop")
        try:
            await asyncio.wait({pump, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, stopper, timer):
                task.cancel()
            results = await asyncio.gather(pump, stopper, timer, return_exceptions=True)
            self.stats.stopped_monotonic = self.clock.monotonic()
            failed = results[0] if isinstance(results[0], Exception) else None
            stopped = self._stop.is_set()
            self.feed_health.ended(
                self.clock.now(),
                stopped=stopped,
                error=f"the feed failed: {failed}" if failed else "",
            )
            # A stop the operator asked for is no feed failure to alert on.
            await self._publish_health(self.health(), alert=failed is not None or not stopped)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
        return self.stats

    async def _pump(self) -> None:
        async for batch in self.feed.stream(self.clock):
            await self.process(batch)
            if self.paced:  # a feed that can wait goes at the store's pace
                await self.writer.wait_for_room()
            # Let the writer, subscribers and the timer run even when the feed
            # is a replay that never waits.
            await asyncio.sleep(0)
            if self._stop.is_set():
                return

    async def process(self, batch: Sequence[Event]) -> list[Event]:
        """Validate a batch, run the components, publish and store. Returns what went out."""
        stats = self.stats
        stats.batches += 1
        stats.events_in += len(batch)
        self.feed_health.events_arrived(batch, self.clock.now())
        good = self.validator.filter(batch)
        if not good:
            return good
        stats.accepted += len(good)
        now = stats.last_batch_at = self.clock.now()
        outgoing = good
        for component in self.components:
            try:
                derived = component.on_events(outgoing, now)
            except Exception:
                stats.component_errors += 1
                log.exception("component %s failed on a batch; going on", component.name)
                continue
            if derived:
                stats.derived += len(derived)
                outgoing = [*outgoing, *derived]
        if not self.forward_input:
            outgoing = outgoing[len(good) :]
        self.writer.add(outgoing)
        await self._publish(outgoing)
        return outgoing

    async def _publish(self, events: Sequence[Event]) -> None:
        try:
            await self.bus.publish(events)
        except BusError as exc:
            self.stats.bus_errors += 1
            if self.stats.bus_errors == 1 or self.stats.bus_errors % 1000 == 0:
                log.error(
                    "bus publish failed (%d so far), events still stored: %s",
                    self.stats.bus_errors,
                    exc,
                )

    async def _timer_loop(self) -> None:
        while True:
            await asyncio.sleep(self.timer_interval_s)
            now = self.clock.now()
            derived: list[Event] = []
            for component in self.components:
                try:
                    derived.extend(component.on_timer(now))
                except Exception:
                    self.stats.component_errors += 1
                    log.exception("component %s failed on its timer; going on", component.name)
            if derived:
                self.writer.add(derived)
                await self._publish(derived)
            await self._publish_health(self.health())

    async def _publish_health(self, health: FeedHealth, *, alert: bool = True) -> None:
        """Publish the feed's health; a change of state goes through the components
        first (unless not ``alert``), so the alert rules raise ``feed_down``/
        ``feed_recovered`` from it."""
        if not self.forward_input:
            return
        outgoing: list[Event] = [health]
        if health.state != self._health_published and alert:
            self._health_published = health.state
            for component in self.components:
                try:
                    outgoing.extend(component.on_events([health], health.ts))
                except Exception:
                    self.stats.component_errors += 1
                    log.exception("component %s failed on feed health; going on", component.name)
        self.writer.add(outgoing)
        await self._publish(outgoing)

    def health(self) -> FeedHealth:
        """The feed's health now, from its one state machine."""
        stats = self.stats
        return self.feed_health.event(
            self.clock.now(),
            rejected_total=self.validator.rejected_total,
            errors_total=stats.component_errors + stats.bus_errors,
        )
