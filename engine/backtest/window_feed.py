"""WindowFeed: any feed, cut to a backtest's time window.

:func:`engine.backtest.run.run_backtest` wraps its history in it so the run sees
``[start, end)`` only and stops at ``end`` even if the feed goes on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from engine.clock import Clock
from engine.events import Event
from engine.ports import Feed


class WindowFeed:
    """Any feed, cut to ``[start, end)``: earlier events are dropped, the stream ends at ``end``."""

    def __init__(self, feed: Feed, start: datetime, end: datetime) -> None:
        self.feed = feed
        self.start = start
        self.end = end

    @property
    def name(self) -> str:
        return self.feed.name

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        start, end = self.start, self.end
        source = self.feed.stream(clock)
        try:
            async for batch in source:
                # Every event is checked: a feed may mix times (day-ahead curves
                # published ahead of intraday ticks), so a batch's ends prove nothing.
                inside = [e for e in batch if start <= e.ts < end]
                if inside:
                    yield inside
                if clock.now() >= end:
                    return
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()


__all__ = ["WindowFeed"]
