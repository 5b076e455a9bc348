"""Held events: what the strategy manager keeps back until the clock reaches it.

No look-ahead: an event stamped after the clock's ``now`` (a day-ahead price
for tomorrow's delivery) waits here, in time order, and
:class:`~engine.strategies.manager.StrategyManager` hands it over once the clock
gets there (module docstring of :mod:`engine.strategies.manager`).
"""

from __future__ import annotations

import heapq
from datetime import datetime

from engine.events import Event, PriceTick
from engine.strategies.config import ManagerStats


class HeldEvents:
    """A time-ordered heap of future-stamped events, capped at ``limit``.

    Same-time events keep their arrival order. Beyond ``limit`` the oldest is
    dropped; both holding and dropping are counted in the manager's stats.
    """

    __slots__ = ("_heap", "_seq", "limit", "stats")

    def __init__(self, limit: int, stats: ManagerStats) -> None:
        self.limit = limit
        self.stats = stats
        self._heap: list[tuple[datetime, int, Event]] = []
        self._seq = 0

    def hold(self, event: Event) -> None:
        held = self._heap
        self._seq += 1
        heapq.heappush(held, (event.ts, self._seq, event))
        self.stats.held += 1
        if len(held) > self.limit:
            heapq.heappop(held)
            self.stats.held_dropped += 1

    def due(self, now: datetime) -> bool:
        """Whether any held event has come due at ``now``."""
        held = self._heap
        return bool(held) and held[0][0] <= now

    def release(self, now: datetime) -> list[Event]:
        """Take out every held event stamped at or before ``now``, in time order."""
        held = self._heap
        released: list[Event] = []
        while held and held[0][0] <= now:
            released.append(heapq.heappop(held)[2])
        return released


class HeldResults:
    """Day-ahead prices in the order of the event time at which they are known."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, PriceTick]] = []
        self._seq = 0

    def hold(self, known_at: datetime, tick: PriceTick) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (known_at, self._seq, tick))

    def due(self, now: datetime) -> bool:
        held = self._heap
        return bool(held) and held[0][0] <= now

    def release(self, now: datetime) -> list[tuple[datetime, PriceTick]]:
        """Every result known by ``now``, in that order, with the moment it became known."""
        held = self._heap
        released: list[tuple[datetime, PriceTick]] = []
        while held and held[0][0] <= now:
            known_at, _, tick = heapq.heappop(held)
            released.append((known_at, tick))
        return released


__all__ = ["HeldEvents", "HeldResults"]
