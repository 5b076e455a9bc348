"""BusFeed: what an ingest node published, as the feed of an analytics node.

``gridtui daemon --role analytics`` runs the spreads, forecasts, batteries,
strategies and alerts on the raw events another node (``--role ingest``) put on
the bus: prices, fundamentals and that node's feed health. It reads them
through one lossless subscription — on Redis a consumer group named after the
service — so a standby analytics node that takes over under the same group and
consumer name resumes after the last batch the dead one acknowledged, and
nothing is skipped. The kernel runs with ``forward_input=False`` on this feed:
the events are already stored and published, only what is derived goes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Final

from engine.bus.base import Bus, BusClosed
from engine.clock import Clock
from engine.events import FUNDAMENTALS, HEALTH, PRICES, Event

# The topics an ingest node publishes (engine.events): the analytics stages' input.
RAW_TOPICS: Final = (PRICES, FUNDAMENTALS, HEALTH)


class BusFeed:
    """The raw topics of ``bus`` as a :class:`engine.ports.Feed` (see the module docstring)."""

    def __init__(self, bus: Bus, *, group: str = "analytics", topics: Sequence[str] = RAW_TOPICS):
        self.bus = bus
        self.group = group
        self.topics = tuple(topics)

    @property
    def name(self) -> str:
        return "bus"

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        """Yield each batch the bus delivers until the bus closes.

        The clock is not waited on: the ingest node paced the events already.
        Asking for the next batch acknowledges the one before (at-least-once).
        """
        del clock
        subscription = await self.bus.subscribe(self.topics, name=self.group, lossless=True)
        try:
            while True:
                try:
                    batch = await subscription.next_batch(timeout=1.0)
                except BusClosed:
                    return
                if batch:
                    yield batch
        finally:
            await subscription.close()
