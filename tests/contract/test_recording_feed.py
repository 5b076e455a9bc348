"""The re-run's price source on every store backend: the recording, released as it was known.

Intraday ticks go out at their instant; a day-ahead curve only from its
publication (12:45 Brussels on D−1), with the first intraday instant at or
after it; a curve published before the re-run's start goes with its first
batch. Nothing delivered outside ``[since, until)`` goes out, and the clock
stands at each batch's instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.backtest import recording_feed
from engine.backtest.recording_feed import RecordingFeed
from engine.clock import LiveClock, SimClock
from engine.events import Event, PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.ports import FeedError

MARKETS = ("DE", "FR")
DAY = datetime(2025, 1, 6, tzinfo=UTC)  # Monday; Brussels is UTC+1
SINCE = DAY + timedelta(hours=10, minutes=30)
UNTIL = DAY + timedelta(days=1, hours=1)  # 02:00 Brussels on Tuesday
PUBLISHED = DAY + timedelta(hours=11, minutes=45)  # 12:45 Brussels


def recording() -> list[Event]:
    events: list[Event] = []
    at = DAY + timedelta(hours=10)
    while at < DAY + timedelta(days=1, hours=2):  # intraday every quarter-hour
        events += [
            PriceTick(ts=at, market=m, price_eur_mwh=40.0 + i, kind=PriceKind.INTRADAY, source="t")
            for i, m in enumerate(MARKETS)
        ]
        at += timedelta(minutes=15)
    # Monday's curve (23:00 UTC Sunday on) and Tuesday's, hourly.
    delivery = DAY - timedelta(hours=1)
    while delivery < DAY + timedelta(days=1, hours=23):
        events += [
            PriceTick(
                ts=delivery,
                market=m,
                price_eur_mwh=60.0 + delivery.hour,
                kind=PriceKind.DAY_AHEAD,
                source="t",
                delivery_minutes=60,
            )
            for m in MARKETS
        ]
        delivery += timedelta(hours=1)
    return events


async def test_recorded_prices_go_out_as_they_were_known(store, monkeypatch):
    await store.write(recording())
    monkeypatch.setattr(recording_feed, "WINDOW", timedelta(hours=2))  # several windows
    monkeypatch.setattr(recording_feed, "PAGE", 7)  # several pages per window
    feed = RecordingFeed(store, MARKETS, SINCE, UNTIL, MarketTimeline())
    clock = SimClock(SINCE)
    batches: list[tuple[datetime, list[PriceTick]]] = []
    async for batch in feed.stream(clock):
        batches.append((clock.now(), [e for e in batch if isinstance(e, PriceTick)]))

    seen = [(now, tick) for now, ticks in batches for tick in ticks]
    assert all(SINCE <= tick.ts < UNTIL for _, tick in seen)
    intraday = [(now, t) for now, t in seen if t.kind is PriceKind.INTRADAY]
    assert all(now == t.ts for now, t in intraday)
    instants = [now for now, _ in batches]
    assert instants == sorted(set(instants)) and instants[0] == SINCE
    assert len(intraday) == 2 * ((UNTIL - SINCE) // timedelta(minutes=15))
    assert feed.ticks_sent == len(seen)

    day_ahead = [(now, t) for now, t in seen if t.kind is PriceKind.DAY_AHEAD]
    monday = [(now, t) for now, t in day_ahead if t.ts < DAY + timedelta(hours=23)]
    tuesday = [(now, t) for now, t in day_ahead if t.ts >= DAY + timedelta(hours=23)]
    # Monday's curve was out long before: with the first batch, ahead of its ticks.
    assert {now for now, _ in monday} == {SINCE}
    assert len(monday) == 2 * 12  # 11:00 .. 22:00 UTC: delivered from SINCE on
    assert batches[0][1][0].kind is PriceKind.DAY_AHEAD
    # Tuesday's only from 12:45 Brussels, the batch of the first tick at or after it.
    assert {now for now, _ in tuesday} == {PUBLISHED}
    assert [t.ts for _, t in tuesday] == sorted(t.ts for _, t in tuesday)
    assert len(tuesday) == 2 * 2  # 23:00 and 00:00 UTC: delivered before UNTIL
    published = next(ticks for now, ticks in batches if now == PUBLISHED)
    kinds = [t.kind for t in published]
    assert kinds == [PriceKind.DAY_AHEAD] * 4 + [PriceKind.INTRADAY] * 2


async def test_a_day_ahead_only_recording_goes_out_at_each_publication(store):
    await store.write([e for e in recording() if e.kind is PriceKind.DAY_AHEAD])  # type: ignore[attr-defined]
    feed = RecordingFeed(store, MARKETS, SINCE, UNTIL, MarketTimeline())
    clock = SimClock(SINCE)
    released: list[datetime] = []
    async for batch in feed.stream(clock):
        released.append(clock.now())
        assert all(isinstance(e, PriceTick) and e.kind is PriceKind.DAY_AHEAD for e in batch)
    assert released == [SINCE, PUBLISHED]


async def test_a_live_clock_is_refused(store):
    feed = RecordingFeed(store, MARKETS, SINCE, UNTIL)
    with pytest.raises(FeedError, match="simulated clock"):
        await anext(aiter(feed.stream(LiveClock())))
