"""The request budget every ENTSO-E call of a process shares (400 requests/min).

The Transparency Platform allows 400 requests per minute per token and bans
a client that goes over for a while, so every request of the live feed and of
``gridtui fetch`` first takes a token from one :class:`RequestBudget`.

It is a token bucket sized so that no 60-second window can hold more than the
limit: a small burst (``burst`` tokens, 5 % of the limit by default) plus a
steady refill of ``(limit − burst) / 60`` tokens per second. A plain bucket of
400 tokens refilled at 400/min would allow 800 requests in the first minute.
After an HTTP 429 the client calls :meth:`RequestBudget.pause` with the
server's Retry-After, which stops every caller, not only the one that was told.

The budget runs on real (monotonic) time even in a replay: it protects a real
API, whatever the engine's clock says.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class RequestBudget:
    """A shared token bucket: ``await budget.acquire()`` before each request."""

    def __init__(
        self,
        per_minute: int = 400,
        *,
        burst: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be >= 1, got {per_minute}")
        self.per_minute = per_minute
        self.burst = max(1, min(per_minute, burst if burst is not None else per_minute // 20))
        self.rate_per_s = max(per_minute - self.burst, 1) / WINDOW_S
        self._monotonic = monotonic
        self._tokens = float(self.burst)
        self._updated = monotonic()
        self._paused_until = 0.0
        self._recent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.acquired_total = 0
        self.waited_s = 0.0

    async def acquire(self) -> None:
        """Wait until a request may go out, then count it. Callers are served in order."""
        async with self._lock:
            started = self._monotonic()
            while True:
                now = self._monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    self._recent.append(now)
                    self.acquired_total += 1
                    self.waited_s += now - started
                    return
                await asyncio.sleep((1.0 - self._tokens) / self.rate_per_s)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (the server said 429, Retry-After)."""
        now = self._monotonic()
        self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
        self._tokens = 0.0
        self._updated = now

    @property
    def paused_for_s(self) -> float:
        return max(0.0, self._paused_until - self._monotonic())

    def used_last_minute(self) -> int:
        """Requests sent in the last 60 seconds."""
        cutoff = self._monotonic() - WINDOW_S
        recent = self._recent
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return len(recent)

    def used_fraction(self) -> float:
        """Share of the per-minute limit spent in the last 60 seconds (0..1)."""
        return min(1.0, self.used_last_minute() / self.per_minute)

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_s)
            self._updated = now
