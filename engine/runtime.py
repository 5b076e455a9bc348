"""Runtime: owns the lifecycle of one kernel with its bus, store and writer.

Start order is store → writer → bus → kernel; stop order is the reverse, and the
writer is flushed last so that every event the kernel accepted is stored before
the process exits (SIGINT/SIGTERM in the daemon call :meth:`Runtime.stop`).
With a :class:`~engine.store.retention.RetentionConfig`, the retention job runs
beside the kernel from :meth:`Runtime.start` until :meth:`Runtime.close`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from engine.bus.base import Bus
from engine.clock import Clock, SimClock
from engine.events import PriceKind
from engine.kernel import Component, Kernel, KernelStats
from engine.ports import Feed, Resumable
from engine.store.base import Store
from engine.store.retention import RetentionConfig, RetentionJob
from engine.store.writer import BatchedWriter, WriterConfig
from engine.validation import TickValidator, ValidationConfig

log = logging.getLogger(__name__)


class Runtime:
    """One running engine: the kernel, its feed, clock, bus and store, started and stopped together.

    ``gridtui.wiring`` builds it for the dashboard and the daemon; backtests build one on a
    SimClock.
    """

    def __init__(
        self,
        *,
        feed: Feed,
        clock: Clock,
        bus: Bus,
        store: Store,
        components: Sequence[Component] = (),
        writer_config: WriterConfig | None = None,
        validation: ValidationConfig | None = None,
        stale_after_s: float = 60.0,
        paced: bool | None = None,
        retention: RetentionConfig | None = None,
        forward_input: bool = True,
    ) -> None:
        self.clock = clock
        self.bus = bus
        self.store = store
        self.writer = BatchedWriter(store, clock, writer_config)
        self.validator = TickValidator(validation or ValidationConfig(), clock)
        self.kernel = Kernel(
            feed,
            clock=clock,
            bus=bus,
            writer=self.writer,
            validator=self.validator,
            components=components,
            stale_after_s=stale_after_s,
            # A feed on simulated time (a simulation, a replay) can wait for the
            # store; one on the wall clock cannot. See WriterConfig.pace_above.
            paced=isinstance(clock, SimClock) if paced is None else paced,
            forward_input=forward_input,
        )
        self.retention = (
            RetentionJob(store, clock, retention) if retention and retention.enabled else None
        )
        self._retention_task: asyncio.Task[None] | None = None
        self._started = False

    async def start(self) -> None:
        """Open the store and the bus. Raises StoreError/BusError with what to do."""
        await self.store.open()
        feed = self.kernel.feed
        if isinstance(feed, Resumable):
            stored = await self.store.latest_prices(feed.markets, PriceKind.DAY_AHEAD)
            feed.resume_after({market: tick.ts for market, tick in stored.items()})
        await self.writer.start()
        await self.bus.start()
        if self.retention is not None:
            self._retention_task = asyncio.create_task(self.retention.run(), name="retention")
        self._started = True

    async def run(self, duration_s: float | None = None) -> KernelStats:
        """Run the kernel until the feed ends, :meth:`stop`, or ``duration_s`` real seconds."""
        if not self._started:
            await self.start()
        if duration_s is None:
            return await self.kernel.run()
        loop = asyncio.get_running_loop()
        handle = loop.call_later(duration_s, self.kernel.stop)
        try:
            return await self.kernel.run()
        finally:
            handle.cancel()

    def stop(self) -> None:
        self.kernel.stop()

    async def close(self) -> None:
        """Flush everything and release the bus and the store."""
        if not self._started:
            return
        self._started = False
        if self._retention_task is not None:
            task, self._retention_task = self._retention_task, None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.writer.close()
        await self.bus.close()
        await self.store.close()
        stats = self.writer.stats
        log.info(
            "stopped: %d events stored in %d batches, %d pending, %d rejected",
            stats.written,
            stats.batches,
            self.writer.pending,
            self.validator.rejected_total,
        )
