"""The mock market: its price model (realism, determinism) and its Feed adapter."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from engine.clock import LiveClock, SimClock
from engine.events import Event, Fundamentals, PriceKind, PriceTick
from engine.ports import Feed
from feeds.mock.feed import MockFeed, MockFeedConfig
from feeds.mock.model import MarketModel, simulate_hourly_prices

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
CORE = ("DE", "FR", "NL", "BE", "AT")
YEAR_START = datetime(2023, 1, 1, tzinfo=UTC)
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    """One simulated year, hourly, one column per market, with fundamentals alongside."""
    return simulate_hourly_prices(MARKETS, YEAR_START, 365, seed=7, with_fundamentals=True)


def wide(frame: pd.DataFrame, column: str = "price_eur_mwh") -> pd.DataFrame:
    return frame.pivot(index="timestamp", columns="market", values=column)[list(MARKETS)]


async def take(feed: MockFeed, clock: SimClock | LiveClock, batches: int) -> list[Sequence[Event]]:
    stream = feed.stream(clock)
    out = [await anext(stream) for _ in range(batches)]
    await stream.aclose()
    return out


def flat(batches: list[Sequence[Event]]) -> list[Event]:
    return [event for batch in batches for event in batch]


def intraday(events: list[Event]) -> list[PriceTick]:
    return [e for e in events if isinstance(e, PriceTick) and e.kind is PriceKind.INTRADAY]


def day_ahead(events: list[Event]) -> list[PriceTick]:
    return [e for e in events if isinstance(e, PriceTick) and e.kind is PriceKind.DAY_AHEAD]


# --- the price model ------------------------------------------------------------


def test_hourly_frame_looks_like_the_real_parquet(year: pd.DataFrame):
    assert list(year.columns[:3]) == ["timestamp", "market", "price_eur_mwh"]
    assert str(year["timestamp"].dt.tz) == "UTC"
    assert isinstance(year["market"].dtype, pd.CategoricalDtype)
    assert len(year) == 365 * 24 * len(MARKETS)
    # Sorted by market, then time, like prices_real_train.parquet.
    assert list(year["market"].drop_duplicates()) == list(MARKETS)
    assert year.groupby("market", observed=True)["timestamp"].is_monotonic_increasing.all()
    assert year["price_eur_mwh"].notna().all()


def test_same_seed_and_start_give_the_same_prices_and_another_seed_does_not():
    first = simulate_hourly_prices(("DE", "GB"), YEAR_START, 10, seed=3)
    again = simulate_hourly_prices(("DE", "GB"), YEAR_START, 10, seed=3)
    other = simulate_hourly_prices(("DE", "GB"), YEAR_START, 10, seed=4)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["price_eur_mwh"], other["price_eur_mwh"])


def test_model_output_does_not_depend_on_how_days_are_chunked():
    one_by_one = MarketModel(MARKETS, seed=11, start=YEAR_START)
    at_once = MarketModel(MARKETS, seed=11, start=YEAR_START)
    chunked = np.concatenate([one_by_one.next_days(1).price_eur_mwh for _ in range(3)])
    np.testing.assert_array_equal(chunked, at_once.next_days(3).price_eur_mwh)


def test_a_year_has_negative_prices_and_spikes(year: pd.DataFrame):
    prices = wide(year)
    negative_share = (prices < 0).mean()
    assert negative_share["DE"] > 0.002  # real DE 2020–22: 0.8–3.4 % of hours
    assert (negative_share < 0.05).all()
    # A spike: an hour at more than three times its market's average.
    assert (prices.max() > 3 * prices.mean()).sum() >= 3
    assert 60 < prices["DE"].mean() < 150  # the moderate, 2021-like regime


def test_coupled_zones_often_clear_at_exactly_one_price_and_gb_does_not(year: pd.DataFrame):
    prices = wide(year)
    for a, b in combinations(CORE, 2):
        same = float(((prices[a] - prices[b]).abs() < 0.005).mean())
        assert 0.25 < same < 0.8, (a, b, same)
    for market in CORE:
        assert ((prices[market] - prices["GB"]).abs() < 0.005).mean() < 0.01
    # Coupled zones still move together when they split; GB less so.
    de_nl = prices["DE"].corr(prices["NL"])
    de_gb = prices["DE"].corr(prices["GB"])
    assert de_nl > 0.85
    assert 0.4 < de_gb < de_nl


def test_prices_follow_residual_load(year: pd.DataFrame):
    prices = wide(year)
    residual_mw = wide(year, "load_mw") - wide(year, "wind_mw") - wide(year, "solar_mw")
    for market in MARKETS:
        assert prices[market].corr(residual_mw[market]) > 0.5, market


def test_daily_and_weekly_shape(year: pd.DataFrame):
    prices = wide(year)["DE"]
    index = pd.DatetimeIndex(prices.index)
    by_hour = prices.groupby(index.hour).mean()
    # Evening peak (17–18 UTC) above the night (2–3 UTC) and the solar dip (11–12 UTC).
    assert by_hour.loc[17] > 1.2 * by_hour.loc[3]
    assert by_hour.loc[17] > 1.2 * by_hour.loc[12]
    solar_by_hour = wide(year, "solar_mw")["DE"].groupby(index.hour).mean()
    assert solar_by_hour.idxmax() in (10, 11, 12)
    assert solar_by_hour.loc[0] == 0.0
    by_weekday = prices.groupby(index.day_of_week).mean()
    assert by_weekday.loc[6] < 0.9 * by_weekday.loc[[1, 2, 3]].mean()


def test_unknown_market_gets_a_generic_uncoupled_profile():
    frame = simulate_hourly_prices(("DE", "XX"), YEAR_START, 30, seed=1)
    prices = frame.pivot(index="timestamp", columns="market", values="price_eur_mwh")
    assert prices["XX"].notna().all()
    assert ((prices["DE"] - prices["XX"]).abs() < 0.005).mean() < 0.01


def test_model_rejects_naive_or_off_grid_starts():
    with pytest.raises(ValueError, match="tz-aware"):
        MarketModel(MARKETS, seed=1, start=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="grid"):
        MarketModel(MARKETS, seed=1, start=datetime(2024, 1, 1, 0, 7, tzinfo=UTC))


# --- the Feed adapter -----------------------------------------------------------


def test_mock_feed_is_a_feed():
    feed: Feed = MockFeed()
    assert feed.name == "mock"


async def test_feed_emits_tz_aware_ticks_of_both_kinds_and_fundamentals_for_every_market():
    feed = MockFeed(MockFeedConfig(tick_interval_s=60.0, start=T0))
    batches = await take(feed, SimClock(T0), 40)
    assert all(batches)
    events = flat(batches)
    assert all(e.ts.tzinfo is not None and e.ts.utcoffset() == timedelta(0) for e in events)
    assert {e.market for e in intraday(events)} == set(MARKETS)
    assert {e.market for e in day_ahead(events)} == set(MARKETS)
    fundamentals = [e for e in events if isinstance(e, Fundamentals)]
    assert {e.market for e in fundamentals} == set(MARKETS)
    assert all(f.load_mw > 0 and f.wind_mw >= 0 and f.solar_mw >= 0 for f in fundamentals)
    assert all(e.source == "mock" for e in intraday(events) + day_ahead(events))
    # 40 rounds at 60 s from 09:00 cross 09:15 and 09:30: three quarters of fundamentals.
    assert sorted({f.ts for f in fundamentals}) == [T0 + timedelta(minutes=m) for m in (0, 15, 30)]
    # Before 2025-10-01 the day-ahead MTU is an hour (15 minutes from then).
    assert all(e.delivery_minutes == 60 for e in day_ahead(events))


async def test_intraday_ticks_move_around_the_quarter_hour_price():
    # After 2025-10-01 the day-ahead curve is the quarter-hour fundamental price.
    start = datetime(2025, 11, 4, 9, 0, tzinfo=UTC)
    feed = MockFeed(MockFeedConfig(tick_interval_s=0, start=start, fast_batch_ticks=6000))
    events = flat(await take(feed, SimClock(start), 1))
    curve = {(e.market, e.ts): e.price_eur_mwh for e in day_ahead(events)}
    ticks = intraday(events)
    quarter = timedelta(minutes=15)
    deviations = np.array(
        [
            t.price_eur_mwh - curve[(t.market, start + quarter * ((t.ts - start) // quarter))]
            for t in ticks
        ]
    )
    levels = np.array([abs(p) for p in curve.values()])
    assert np.std(deviations) > 0.1  # it is noisy ...
    assert abs(np.mean(deviations)) < 0.1 * np.mean(levels)  # ... around the curve
    assert all(t.volume_mwh is not None and t.volume_mwh > 0 for t in ticks)


async def test_same_seed_and_start_give_the_same_event_sequence():
    def feed(seed: int) -> MockFeed:
        return MockFeed(MockFeedConfig(tick_interval_s=0, seed=seed, start=T0))

    first = flat(await take(feed(42), SimClock(T0), 8))
    again = flat(await take(feed(42), SimClock(T0), 8))
    other = flat(await take(feed(43), SimClock(T0), 8))
    assert first == again
    assert [e.price_eur_mwh for e in intraday(first)] != [e.price_eur_mwh for e in intraday(other)]


async def test_day_ahead_curve_does_not_depend_on_the_tick_interval():
    slow = flat(await take(MockFeed(MockFeedConfig(start=T0)), SimClock(T0), 1))
    fast = flat(await take(MockFeed(MockFeedConfig(start=T0, tick_interval_s=0)), SimClock(T0), 1))
    assert day_ahead(slow) == day_ahead(fast)


async def test_fast_mode_runs_fast_on_a_sim_clock_and_moves_it_along():
    clock = SimClock(T0)
    feed = MockFeed(MockFeedConfig(tick_interval_s=0, start=T0, fast_batch_ticks=1200))
    stream = feed.stream(clock)
    started = time.perf_counter()
    ticks: list[PriceTick] = []
    batches = 0
    while len(ticks) < 120_000:
        batch = await anext(stream)
        assert batch
        batches += 1
        ticks.extend(intraday(list(batch)))
    await stream.aclose()
    elapsed_s = time.perf_counter() - started
    assert elapsed_s < 3.0, f"{len(ticks) / elapsed_s:,.0f} ticks/s is too slow"
    assert batches == 100  # 1200 ticks a batch: 200 rounds of six markets
    # Simulated time moves a notional second per round; the clock follows the batches.
    stamps = sorted({t.ts for t in ticks})
    assert stamps[1] - stamps[0] == timedelta(seconds=1)
    assert clock.now() == stamps[-1] == T0 + timedelta(seconds=len(stamps) - 1)


async def test_paced_mode_waits_on_the_clock_between_rounds():
    class RecordingClock(SimClock):
        def __init__(self, start: datetime) -> None:
            super().__init__(start)
            self.waits: list[datetime] = []

        async def sleep_until(self, when: datetime) -> None:
            self.waits.append(when)
            await super().sleep_until(when)

    clock = RecordingClock(T0)
    batches = await take(MockFeed(MockFeedConfig(tick_interval_s=10.0)), clock, 4)
    # No start configured: the feed starts at clock.now() and ticks every 10 s.
    assert clock.waits == [T0 + timedelta(seconds=10 * k) for k in (1, 2, 3)]
    assert [intraday(list(b))[0].ts for b in batches] == [
        T0 + timedelta(seconds=10 * k) for k in range(4)
    ]


async def test_live_clock_paces_in_real_time():
    clock = LiveClock()
    before = clock.now()
    started = time.perf_counter()
    batches = await take(MockFeed(MockFeedConfig(tick_interval_s=0.02)), clock, 4)
    assert time.perf_counter() - started >= 0.05
    first_tick = intraday(list(batches[0]))[0].ts
    assert before <= first_tick <= before + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tick_interval_s", -1.0, "tick_interval_s"),
        ("tick_interval_s", math.nan, "tick_interval_s"),
        ("start", datetime(2024, 1, 1), "tz-aware"),
        ("markets", ("DE", "DE"), "duplicates"),
        ("markets", (), "at least one"),
        ("ida_publication_delay_min", -1.0, "ida_publication_delay_min"),
        ("ida_noise_share", -0.1, "ida_noise_share"),
        ("ida_noise_tau_min", 0.0, "ida_noise_tau_min"),
    ],
)
def test_config_rejects_nonsense(field: str, value: object, message: str):
    with pytest.raises(ValueError, match=message):
        MockFeedConfig(**{field: value})  # type: ignore[arg-type]
