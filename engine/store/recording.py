"""The flight recorder: the engine's state at any recorded instant, rebuilt from the store.

The store keeps every event the engine publishes (ticks, opportunities,
battery states, strategy status lines, trades, alerts, forecasts), so it *is*
the recording. :func:`state_at` answers "what did the dashboard show at t" as
the same events the engine published then — what a dashboard folds live — so
a rewound pane is drawn by the same code as a live one:

* per market, the intraday ticks of the chart window ending at t, and the
  day-ahead prices that were **published by t** (the next day's curve only
  after its publication, never earlier: a rewind must not know more than the
  trader did then);
* per ordered market pair, its newest opportunity event at or before t, if it
  left the pair open;
* per battery and per strategy ever recorded, its newest state at or before t
  (a strategy's line carries its state, PnL and open positions);
* the newest alerts and forecasts at or before t.

Every read is an index probe (:mod:`engine.store.recording_sql`), so a jump
costs about the same anywhere in a month or a year of data
(``bench/rewind_jump.py`` measures it against one indexed query).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

from engine.events import (
    Alert,
    BatteryState,
    Event,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
    StrategyStatus,
)
from engine.market.timeline import MarketTimeline
from engine.store.base import Store

RECENT_ALERTS: Final = 100
# Forecasts of one market at or before t that a pane may need: every model's
# every horizon of the newest step, with room to spare.
RECENT_FORECASTS: Final = 96
CHART_TICKS: Final = 2_000
DAY_AHEAD_TICKS: Final = 300
_EXCLUSIVE: Final = timedelta(microseconds=1)
_END_OF_TIME: Final = datetime(9999, 1, 1, tzinfo=UTC)


class RecordingSpan(msgspec.Struct, frozen=True, kw_only=True):
    """The first and last recorded price instants: where a rewind can go."""

    first: datetime
    last: datetime


RecordedEvent = PriceTick | SpreadOpportunity | BatteryState | StrategyStatus | Alert | Forecast


class RecordedState(msgspec.Struct, frozen=True, kw_only=True):
    """The state at ``at`` as events, oldest first (``GET /api/v1/recorder/state``)."""

    at: datetime
    events: list[RecordedEvent]
    count: int


class RecordedPage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of one kind of recorded event, newest first; ``next_until`` continues it."""

    kind: str
    events: list[RecordedEvent]
    count: int
    next_until: datetime | None = None


async def recording_span(store: Store, markets: Sequence[str]) -> RecordingSpan | None:
    """The span of recorded intraday and day-ahead ticks of ``markets``; None if there are none."""

    # Day-ahead ticks are stamped with their delivery, which runs ahead of the
    # recording (tomorrow's prices are published today): the recording ends at
    # its newest intraday tick, or its newest day-ahead one where the feed has
    # no intraday prices (a replay of auction results).
    async def ends(kind: PriceKind) -> list[datetime]:
        found = await asyncio.gather(
            *(
                store.recorded(
                    PriceTick,
                    until=_END_OF_TIME,
                    limit=1,
                    match={"market": m, "kind": kind.value},
                    oldest=oldest,
                )
                for m in markets
                for oldest in (True, False)
            )
        )
        return [tick.ts for ticks in found for tick in ticks]

    intraday, day_ahead = await asyncio.gather(ends(PriceKind.INTRADAY), ends(PriceKind.DAY_AHEAD))
    if not intraday and not day_ahead:
        return None
    first = min(intraday + day_ahead)
    return RecordingSpan(first=first, last=max(intraday or day_ahead))


async def state_at(
    store: Store,
    at: datetime,
    markets: Sequence[str],
    *,
    chart_hours: float = 6.0,
    timeline: MarketTimeline | None = None,
) -> list[Event]:
    """The events that put a fresh dashboard where the live one was at ``at``, oldest first.

    Raises ValueError for a naive ``at`` and StoreError when the store fails.
    """
    if at.tzinfo is None:
        raise ValueError(f"at must carry a time zone (got {at.isoformat()}): give UTC or an offset")
    timeline = timeline or MarketTimeline()
    end = at + _EXCLUSIVE  # price_history's end is exclusive; the instant itself counts
    chart_start = at - timedelta(hours=chart_hours)

    async def prices(market: str) -> list[Event]:
        intraday = await store.price_history(
            market, start=chart_start, end=end, limit=CHART_TICKS, kind=PriceKind.INTRADAY
        )
        # Day-ahead ticks are stamped with their delivery start; those delivered
        # up to the end of the last day published at ``at`` were known then.
        known_until = timeline.published_until(market, at)
        day_ahead = await store.price_history(
            market,
            start=chart_start,
            end=known_until,
            limit=DAY_AHEAD_TICKS,
            kind=PriceKind.DAY_AHEAD,
        )
        return [*intraday, *day_ahead]

    async def newest(kind: type[Event], match: dict[str, str]) -> list[Event]:
        return list(await store.recorded(kind, until=at, limit=1, match=match))

    async def open_pair(buy: str, sell: str) -> list[Event]:
        found = await store.recorded(
            SpreadOpportunity, until=at, limit=1, match={"buy_market": buy, "sell_market": sell}
        )
        return [e for e in found if e.status is not OpportunityStatus.CLOSED]

    batteries, strategies = await asyncio.gather(
        store.recorded_keys(BatteryState, "battery_id"),
        store.recorded_keys(StrategyStatus, "strategy"),
    )
    reads: list[Awaitable[Sequence[Event]]] = [
        *(prices(m) for m in markets),
        *(open_pair(a, b) for a in markets for b in markets if a != b),
        *(newest(BatteryState, {"battery_id": b}) for b in batteries),
        *(newest(StrategyStatus, {"strategy": s}) for s in strategies),
        *(
            store.recorded(Forecast, until=at, limit=RECENT_FORECASTS, match={"market": m})
            for m in markets
        ),
        store.recorded(Alert, until=at, limit=RECENT_ALERTS),
    ]
    parts = await asyncio.gather(*reads)
    events: list[Event] = [event for part in parts for event in part]
    # Oldest first, as the engine published them (a stable sort keeps each
    # market's ticks in their order).
    events.sort(key=lambda event: event.ts)
    return events
