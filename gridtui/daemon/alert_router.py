"""The alert router: takes alerts off the bus's ``alerts`` topic and hands each to every sink.

The sinks themselves are in :mod:`gridtui.daemon.sinks`. A sink that fails is
counted and logged (without its URL's secrets) and the others still get the
alert; a failing sink never stops the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.bus.base import Bus, BusClosed, BusError, Subscription
from engine.events import ALERTS, Alert, Event
from gridtui.daemon.bus_consumer import consume
from gridtui.daemon.sinks import RANK, AlertSink, DashboardSink, SinkError

if TYPE_CHECKING:
    from gridtui.daemon.metrics import DaemonMetrics

# The logger these lines had in sinks.py: log lines keep their logger name.
log = logging.getLogger("gridtui.daemon.sinks")


class AlertRouter:
    """Takes alerts off the bus and hands each to every sink (see the module docstring)."""

    def __init__(
        self,
        sinks: Sequence[AlertSink],
        *,
        dashboard: DashboardSink | None = None,
        metrics: DaemonMetrics | None = None,
    ) -> None:
        self.sinks = list(sinks)
        self.dashboard = dashboard
        self.metrics = metrics
        self.delivered = 0
        self.failed = 0

    async def deliver(self, alert: Alert) -> None:
        """Send one alert to every sink whose floor it reaches, concurrently."""
        targets = [s for s in self.sinks if RANK[alert.severity] >= RANK[s.min_severity]]
        if not targets:
            return
        results = await asyncio.gather(
            *(sink.send(alert) for sink in targets), return_exceptions=True
        )
        for sink, result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                self.failed += 1
                if self.metrics:
                    self.metrics.sink_failures.labels(sink.name).inc()
                reason = str(result) if isinstance(result, SinkError) else repr(result)
                log.error("alert sink %s failed: %s", sink.name, reason)
            else:
                self.delivered += 1
                if self.metrics:
                    self.metrics.sink_deliveries.labels(sink.name).inc()

    @staticmethod
    async def subscribe(bus: Bus) -> Subscription | None:
        """The router's lossless subscription to ``alerts``; None when the bus is unreachable.

        On Redis a consumer group: several daemons sharing one Redis deliver
        each alert once, and a restarted daemon delivers what it missed.
        """
        try:
            return await bus.subscribe([ALERTS], name="alert-sinks", lossless=True)
        except (BusError, BusClosed) as exc:
            log.warning("alert sinks cannot subscribe yet (%s); retrying", exc)
            return None

    async def run(
        self, bus: Bus, subscription: Subscription | None = None, *, retry_s: float = 1.0
    ) -> None:
        """Deliver every alert published on the bus until the bus closes."""

        async def deliver_alerts(batch: list[Event]) -> None:
            for event in batch:
                if isinstance(event, Alert):
                    await self.deliver(event)

        await consume(
            subscription,
            lambda: self.subscribe(bus),
            deliver_alerts,
            retry_s=retry_s,
            give_up=lambda: bool(getattr(bus, "closed", False)),
        )

    async def raise_local(self, alert: Alert) -> None:
        """An alert of the daemon's own: to the dashboards via the bus, or straight to the sinks."""
        if self.dashboard is not None:
            try:
                await self.dashboard.send(alert)
                return  # the bus brings it back to run(), which hands it to the sinks
            except SinkError:
                pass
        await self.deliver(alert)

    async def close(self) -> None:
        for sink in self.sinks:
            with contextlib.suppress(Exception):
                await sink.close()
