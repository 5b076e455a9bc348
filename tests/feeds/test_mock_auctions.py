"""The mock market on the real timeline: local delivery days, publication after the
gate, and the three SIDC intraday auctions."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from engine.clock import SimClock
from engine.events import INTRADAY_AUCTION_KINDS, Event, PriceKind, PriceTick
from engine.market.timeline import MarketRules, MarketTimeline, TimelineConfig
from engine.validation import TickValidator, ValidationConfig
from feeds.mock.feed import MockFeed, MockFeedConfig

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
SIDC = ("DE", "FR", "NL", "BE", "AT")  # GB's rules have no intraday auctions
TIMELINE = MarketTimeline()
QUARTER = timedelta(minutes=15)
# A winter day after the switch to 15-minute day-ahead MTUs (2025-10-01).
WINTER = date(2025, 12, 3)


def utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def rounds(config: MockFeedConfig, until: datetime) -> list[list[Event]]:
    """The feed's batches, one round of ticks each, until a tick reaches ``until``."""
    assert config.start is not None
    stream = MockFeed(config).stream(SimClock(config.start))
    batches: list[list[Event]] = []
    while not batches or tick_time(batches[-1]) < until:
        batches.append(list(await anext(stream)))
    await stream.aclose()
    return batches


def fast(start: datetime, step_s: float = 300.0, **fields: Any) -> MockFeedConfig:
    """One round of ticks per batch, ``step_s`` apart: a batch's tick time is when
    everything in it came out."""
    return MockFeedConfig(
        start=start,
        tick_interval_s=0,
        fast_step_s=step_s,
        fast_batch_ticks=len(MARKETS),
        **fields,
    )


def tick_time(batch: list[Event]) -> datetime:
    return next(e.ts for e in batch if isinstance(e, PriceTick) and e.kind is PriceKind.INTRADAY)


def of_kind(batch: list[Event], kind: PriceKind) -> list[PriceTick]:
    return [e for e in batch if isinstance(e, PriceTick) and e.kind is kind]


def by_market(ticks: list[PriceTick]) -> dict[str, list[PriceTick]]:
    found: dict[str, list[PriceTick]] = defaultdict(list)
    for tick in ticks:
        found[tick.market].append(tick)
    return found


def local_day(tick: PriceTick) -> date:
    return TIMELINE.delivery_day(tick.market, tick.ts)


# --- day-ahead: local delivery days --------------------------------------------


async def test_a_winter_day_is_96_quarters_from_2300_utc():
    batches = await rounds(fast(utc(WINTER, 9)), utc(WINTER, 9))
    curve = by_market(of_kind(batches[0], PriceKind.DAY_AHEAD))
    assert set(curve) == set(MARKETS)
    first = utc(WINTER - timedelta(days=1), 23)
    for ticks in curve.values():
        assert [t.ts for t in ticks] == [first + QUARTER * q for q in range(96)]
        assert all(t.delivery_minutes == 15 and t.source == "mock" for t in ticks)


@pytest.mark.parametrize(
    ("day", "first_utc_hour", "periods", "minutes"),
    [
        (date(2026, 3, 29), 23, 92, 15),  # spring forward: 23 hours
        (date(2026, 10, 25), 22, 100, 15),  # fall back: 25 hours
        (date(2024, 3, 31), 23, 23, 60),  # hourly MTU before 2025-10-01
        (date(2024, 10, 27), 22, 25, 60),
    ],
)
async def test_dst_days_have_their_own_length(
    day: date, first_utc_hour: int, periods: int, minutes: int
):
    before = day - timedelta(days=1)
    batches = await rounds(fast(utc(before, 9)), utc(before, 13))
    published = [t for b in batches[1:] for t in of_kind(b, PriceKind.DAY_AHEAD)]
    first = utc(before, first_utc_hour)
    period = timedelta(minutes=minutes)
    for market, ticks in by_market(published).items():
        assert {local_day(t) for t in ticks} == {day}, market
        assert [t.ts for t in ticks] == [first + period * p for p in range(periods)]
        assert all(t.delivery_minutes == minutes for t in ticks)


@pytest.mark.parametrize("day", [WINTER, date(2026, 7, 15)])
async def test_day_ahead_comes_out_at_its_publication_instant_after_the_gate(day: date):
    before = day - timedelta(days=1)
    batches = await rounds(fast(utc(before, 9), step_s=60), utc(before, 13))
    seen: dict[str, datetime] = {}
    for batch in batches[1:]:
        for tick in of_kind(batch, PriceKind.DAY_AHEAD):
            assert local_day(tick) == day
            seen.setdefault(tick.market, tick_time(batch))
    assert set(seen) == set(MARKETS)
    for market, at in seen.items():
        auction = TIMELINE.day_ahead(market, day)
        assert at == auction.publication
        assert at > auction.gate_closure
    # 12:45 Brussels; GB's own auction publishes at 11:50 UK time, 5 minutes later.
    offset = 1 if day.month == 12 else 2
    assert seen["DE"] == utc(before, 12 - offset, 45)
    assert seen["GB"] == utc(before, 12 - offset, 50)


@pytest.mark.parametrize(
    ("hour", "minute", "days"),
    [(11, 30, 1), (11, 45, 2), (15, 3, 2)],
)
async def test_start_up_shows_today_and_tomorrow_once_published(hour: int, minute: int, days: int):
    batches = await rounds(fast(utc(WINTER, hour, minute)), utc(WINTER, hour, minute))
    curve = of_kind(batches[0], PriceKind.DAY_AHEAD)
    de = [t for t in curve if t.market == "DE"]
    expected = {WINTER + timedelta(days=d) for d in range(days)}
    assert {local_day(t) for t in de} == expected
    assert len(de) == 96 * days


# --- the intraday auctions ---------------------------------------------------------


async def auction_run(start: datetime, end: datetime, **fields: Any) -> list[list[Event]]:
    return await rounds(fast(start, **fields), end)


def auction_ticks(batches: list[list[Event]]) -> list[PriceTick]:
    return [
        e
        for batch in batches
        for e in batch
        if isinstance(e, PriceTick) and e.kind in INTRADAY_AUCTION_KINDS
    ]


async def test_each_intraday_auction_prices_its_window_at_its_gate_plus_the_delay():
    start, end = utc(WINTER), utc(WINTER + timedelta(days=2))
    batches = await auction_run(start, end)
    seen: dict[tuple[str, date], list[tuple[datetime, PriceTick]]] = defaultdict(list)
    for batch in batches:
        for tick in auction_ticks([batch]):
            seen[(tick.kind.value.upper(), local_day(tick))].append((tick_time(batch), tick))
    expected = {
        (a.name, day): a
        for day in (WINTER + timedelta(days=d) for d in range(4))
        for a in TIMELINE.intraday_auctions("DE", day)
        if start <= a.gate_closure + timedelta(minutes=20) < end
    }
    # IDA3 of the 3rd, IDA1 and IDA2 of the 4th and 5th, IDA3 of the 4th.
    assert sorted(seen) == sorted(expected)
    assert len(expected) == 6
    for key, found in seen.items():
        auction = expected[key]
        assert {at for at, _ in found} == {auction.gate_closure + timedelta(minutes=20)}
        ticks = by_market([t for _, t in found])
        assert set(ticks) == set(SIDC)
        quarters = int((auction.delivery_end - auction.delivery_start) / QUARTER)
        assert quarters == (48 if key[0] == "IDA3" else 96)
        for market_ticks in ticks.values():
            assert [t.ts for t in market_ticks] == [
                auction.delivery_start + QUARTER * q for q in range(quarters)
            ]
            assert all(t.delivery_minutes == 15 and t.source == "mock" for t in market_ticks)


async def test_intraday_auctions_clear_near_day_ahead_and_drift_with_new_information():
    start = utc(WINTER)
    batches = await auction_run(start, start + timedelta(days=6), step_s=900)
    curve = {
        (t.market, t.ts): t.price_eur_mwh for b in batches for t in of_kind(b, PriceKind.DAY_AHEAD)
    }
    gaps: dict[PriceKind, list[float]] = defaultdict(list)
    prices: dict[tuple[PriceKind, str, datetime], float] = {}
    for tick in auction_ticks(batches):
        gaps[tick.kind].append(tick.price_eur_mwh - curve[(tick.market, tick.ts)])
        prices[(tick.kind, tick.market, tick.ts)] = tick.price_eur_mwh
    level = float(np.mean(np.abs(list(curve.values()))))
    spread = {kind: float(np.std(gap)) for kind, gap in gaps.items()}
    for kind, gap in gaps.items():
        assert 0.005 * level < spread[kind] < 0.15 * level, kind  # close, not equal
        assert abs(float(np.mean(gap))) < 0.3 * spread[kind], kind  # no bias
    # Each auction adds what became known since the one before.
    assert spread[PriceKind.IDA1] < spread[PriceKind.IDA2] < spread[PriceKind.IDA3]
    # Zones that cleared at one day-ahead price clear at one auction price too.
    coupled = [
        (kind, ts)
        for (kind, market, ts) in prices
        if market == "DE" and curve[("DE", ts)] == curve[("NL", ts)]
    ]
    assert coupled
    assert all(prices[(kind, "DE", ts)] == prices[(kind, "NL", ts)] for kind, ts in coupled)


async def test_same_seed_same_auctions_whatever_the_tick_interval():
    start, end = utc(WINTER, 9), utc(WINTER + timedelta(days=1), 10)
    first = auction_ticks(await auction_run(start, end))
    again = auction_ticks(await auction_run(start, end))
    coarse = auction_ticks(await auction_run(start, end, step_s=900))
    other = auction_ticks(await auction_run(start, end, seed=43))
    assert first and first == again == coarse
    assert [t.price_eur_mwh for t in first] != [t.price_eur_mwh for t in other]


async def test_the_timeline_is_injectable():
    rules = MarketRules(mtu_switch=date(2020, 1, 1), intraday_auctions=())
    config = TimelineConfig(default=rules)
    start = utc(date(2024, 3, 5), 9)
    batches = await auction_run(start, start + timedelta(days=1), timeline=config)
    assert auction_ticks(batches) == []
    curve = [t for b in batches for t in of_kind(b, PriceKind.DAY_AHEAD) if t.market == "DE"]
    assert curve and all(t.delivery_minutes == 15 for t in curve)


async def test_the_engine_validation_lets_auction_results_through():
    start = utc(WINTER, 9)
    batches = await auction_run(start, start + timedelta(days=1))
    for batch in batches:
        clock = SimClock(tick_time(batch))
        validator = TickValidator(ValidationConfig(markets=MARKETS), clock)
        assert validator.filter(batch) == batch
