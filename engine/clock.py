"""Clocks: the only place in ``engine/`` that may read the wall clock.

Live and backtest differ only in clock and feed. Everything in the engine asks
an injected :class:`Clock` for the time, so a replay on a :class:`SimClock`
behaves exactly like the live system, only faster.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What the engine knows about time."""

    @property
    def is_live(self) -> bool:
        """True for wall-clock time, False for simulated (replay/backtest) time."""
        ...

    def now(self) -> datetime:
        """The current time, tz-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, for measuring durations and latencies."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Wait until ``when``; a simulated clock may jump there at once."""
        ...


class LiveClock:
    """Wall-clock time."""

    is_live = True

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.perf_counter()

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class SimClock:
    """Simulated time that advances when told to.

    ``speed`` is how many simulated seconds pass per real second while sleeping:
    1.0 replays in real time, 60.0 a minute per second, ``math.inf`` (the default)
    as fast as the CPU allows. Time never moves backwards.
    """

    is_live = False

    def __init__(self, start: datetime, speed: float = math.inf) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs a tz-aware start time (UTC)")
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self._now = start.astimezone(UTC)
        self.speed = speed

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return time.perf_counter()

    def advance_to(self, when: datetime) -> None:
        """Move simulated time forward to ``when`` (never backwards)."""
        if when > self._now:
            self._now = when

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            return
        if math.isfinite(self.speed):
            await asyncio.sleep((when - self._now).total_seconds() / self.speed)
        self._now = when
