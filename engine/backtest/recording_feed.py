"""RecordingFeed: the engine's own recording played back as a backtest's price source.

"Re-run from here" (:mod:`engine.backtest.rerun`) is a backtest whose history is
the store the live engine wrote: the intraday and day-ahead ticks of the markets
from ``since`` to ``until``. It goes through :func:`engine.backtest.run.run_backtest`
like any replay, so a re-run and a backtest over the same prices are one code path.

What the live engine knew, when it knew it:

- intraday ticks go out at their own instant, one batch per recorded instant
  (the simulator's rounds: one tick per market);
- a day-ahead curve is stamped with its delivery but was known only from its
  publication (:meth:`engine.market.timeline.MarketTimeline.day_ahead`, ~12:45
  D−1). It goes out with the first intraday instant at or after its
  publication, ahead of that instant's ticks — where the simulator put it —
  or at its publication when the recording has no intraday ticks then. A
  curve published before ``since`` goes out with the first batch: it was
  already on the screen at that instant.

Intraday-auction prices (IDA1-3) are not replayed: the strategies trade
intraday or day-ahead prices, and an IDA result carries no publication the
timeline knows for every market.

The store is read a window of hours at a time through
:meth:`engine.ports.Store.recorded` (an index range scan per market), so a month
of recording never sits in memory at once. The clock is moved to each batch's
instant before the batch is yielded, as :class:`feeds.replay.ReplayFeed` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Final

from engine.clock import Clock
from engine.events import Event, PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.ports import FeedError
from engine.store.base import Store

WINDOW: Final = timedelta(hours=6)
PAGE: Final = 5_000
_TICK: Final = timedelta(microseconds=1)


class RecordingFeed:
    """The stored ticks of ``markets`` in ``[since, until)``, released as they were known live.

    Args:
        store: the live engine's store (only read).
        markets: the markets replayed.
        since / until: the span, ``since`` included, ``until`` excluded (UTC).
        timeline: gate closures and publications (the live engine's).
    """

    def __init__(
        self,
        store: Store,
        markets: Sequence[str],
        since: datetime,
        until: datetime,
        timeline: MarketTimeline | None = None,
    ) -> None:
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("a recording's since and until must be tz-aware (UTC)")
        self.store = store
        self.markets = tuple(markets)
        self.since = since
        self.until = until
        self.timeline = timeline or MarketTimeline()
        self.ticks_sent = 0

    @property
    def name(self) -> str:
        return "recording"

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        advance_to = getattr(clock, "advance_to", None)
        if clock.is_live or advance_to is None:
            raise FeedError("a re-run needs a simulated clock (engine.clock.SimClock)")
        curves = await self._day_ahead_curves()
        cursor = self.since
        while cursor < self.until:
            stop = min(cursor + WINDOW, self.until)
            for instant, ticks in await self._intraday(cursor, stop):
                batch: list[Event] = []
                while curves and curves[0][0] <= instant:
                    batch.extend(curves.pop(0)[1])
                batch.extend(ticks)
                advance_to(instant)
                self.ticks_sent += len(batch)
                yield batch
            cursor = stop
        while curves:  # published after the last intraday tick (a day-ahead-only recording)
            released, curve = curves.pop(0)
            if released >= self.until:
                break
            advance_to(released)
            self.ticks_sent += len(curve)
            yield curve

    async def _intraday(
        self, start: datetime, stop: datetime
    ) -> list[tuple[datetime, list[PriceTick]]]:
        """Intraday ticks of every market in ``[start, stop)``, by instant, in time order."""
        by_instant: dict[datetime, list[PriceTick]] = defaultdict(list)
        for market in self.markets:  # market order within an instant, as the simulator's rounds
            for tick in await self._read(market, PriceKind.INTRADAY, start, stop):
                by_instant[tick.ts].append(tick)
        return sorted(by_instant.items(), key=lambda item: item[0])

    async def _day_ahead_curves(self) -> list[tuple[datetime, list[PriceTick]]]:
        """Day-ahead curves delivered in the span, keyed by when each became known."""
        released: dict[datetime, list[PriceTick]] = defaultdict(list)
        for market in self.markets:
            for tick in await self._read(market, PriceKind.DAY_AHEAD, self.since, self.until):
                day = self.timeline.delivery_day(market, tick.ts)
                publication = self.timeline.day_ahead(market, day).publication or tick.ts
                released[max(publication, self.since)].append(tick)
        # A published curve goes out period by period, every market's price of a
        # period together, as the simulator publishes it.
        order = {market: i for i, market in enumerate(self.markets)}
        return [
            (at, sorted(curve, key=lambda tick: (tick.ts, order[tick.market])))
            for at, curve in sorted(released.items(), key=lambda item: item[0])
        ]

    async def _read(
        self, market: str, kind: PriceKind, start: datetime, stop: datetime
    ) -> list[PriceTick]:
        """One market's ticks of one kind in ``[start, stop)``, oldest first, page by page."""
        found: list[PriceTick] = []
        since = start
        while since < stop:
            page = await self.store.recorded(
                PriceTick,
                since=since,
                until=stop - _TICK,
                limit=PAGE,
                match={"market": market, "kind": kind.value},
                oldest=True,
            )
            found.extend(page)
            if len(page) < PAGE:
                break
            since = page[-1].ts + _TICK
        return found


__all__ = ["RecordingFeed"]
