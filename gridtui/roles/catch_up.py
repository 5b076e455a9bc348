"""Backfill on takeover: the simulator resumes right after the last stored instant.

A standby ingest node takes over a lease period or two after the active one
died; what the store holds stops at the dead node's last flushed tick. For the
simulator the missing stretch is regenerated: :class:`CatchUpFeed` starts it at
the newest stored intraday instant plus one tick interval, and hands it a clock
that is "behind" by the gap, so the feed emits the missed rounds at once and
then paces in real time again — the stored series continues tick after tick,
with no gap (same seed: the same day-ahead curves; the inserts are idempotent,
so a round both nodes stored is kept once). A feed of real data that can fetch
again (:class:`engine.ports.Resumable`, ENTSO-E) is told the newest stored
delivery per market instead and asks its source from there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta

from engine.clock import Clock
from engine.events import Event, PriceKind
from engine.ports import Feed, Resumable
from engine.store.base import Store


class _ShiftedClock:
    """The engine's clock, with waits ``lag`` earlier: a feed paced on it replays
    the ``lag`` it missed as fast as it can, then runs in real time."""

    def __init__(self, clock: Clock, lag: timedelta) -> None:
        self._clock = clock
        self._lag = lag

    @property
    def is_live(self) -> bool:
        return self._clock.is_live

    def now(self) -> datetime:
        return self._clock.now()

    def monotonic(self) -> float:
        return self._clock.monotonic()

    async def sleep_until(self, when: datetime) -> None:
        await self._clock.sleep_until(when - self._lag)


class CatchUpFeed:
    """A feed built when the node becomes active, from where the store stops.

    Args:
        build: makes the feed starting at a given instant (None: now, nothing stored).
        name: the feed's name before it is built (``feed.kind``).
        step_s: the feed's tick interval: it resumes one step after the last stored tick.
    """

    def __init__(self, build: Callable[[datetime | None], Feed], name: str, step_s: float) -> None:
        self._build = build
        self._name = name
        self._step = timedelta(seconds=step_s)
        self._resume_at: datetime | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def resume_at(self) -> datetime | None:
        return self._resume_at

    async def resume_from_store(self, store: Store, markets: Sequence[str]) -> datetime | None:
        """Set the instant to resume from: one step after the newest stored intraday tick."""
        stored = await store.latest_prices(markets, PriceKind.INTRADAY)
        if len(stored) < len(markets):  # a market with nothing stored: start afresh
            self._resume_at = None
        else:
            # The oldest market's newest tick: every market is complete up to it.
            self._resume_at = min(tick.ts for tick in stored.values()) + self._step
        return self._resume_at

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        start = self._resume_at
        if start is not None and start > clock.now():
            start = None  # the store ran ahead of this clock: never stamp ticks in the future
        feed = self._build(start)
        paced = clock if start is None else _ShiftedClock(clock, clock.now() - start)
        async for batch in feed.stream(paced):
            yield batch


async def resume(feed: Feed, store: Store, markets: Sequence[str]) -> datetime | None:
    """Point ``feed`` at the end of what ``store`` holds, just before it starts."""
    if isinstance(feed, CatchUpFeed):
        return await feed.resume_from_store(store, markets)
    if isinstance(feed, Resumable):
        stored = await store.latest_prices(feed.markets, PriceKind.DAY_AHEAD)
        feed.resume_after({market: tick.ts for market, tick in stored.items()})
        return max((tick.ts for tick in stored.values()), default=None)
    return None
