"""The market timeline: gate closures, publication, MTUs and what is tradable, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from engine.market.timeline import (
    MarketRules,
    MarketTimeline,
    Product,
    TimelineConfig,
)

TL = MarketTimeline()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_day_ahead_gate_is_noon_brussels_on_the_day_before_in_winter_and_summer():
    winter = TL.day_ahead("DE", date(2022, 1, 15))
    assert winter.gate_closure == utc(2022, 1, 14, 11)  # 12:00 CET
    assert winter.publication == utc(2022, 1, 14, 11, 45)
    assert winter.delivery_start == utc(2022, 1, 14, 23)
    summer = TL.day_ahead("FR", date(2022, 7, 15))
    assert summer.gate_closure == utc(2022, 7, 14, 10)  # 12:00 CEST


def test_dst_days_have_23_and_25_hours():
    start, end = TL.day_bounds("DE", date(2022, 3, 27))
    assert end - start == timedelta(hours=23)
    start, end = TL.day_bounds("DE", date(2022, 10, 30))
    assert end - start == timedelta(hours=25)


def test_mtu_is_60_minutes_before_the_switch_and_15_from_it():
    assert TL.mtu_minutes("DE", date(2025, 9, 30)) == 60
    assert TL.mtu_minutes("DE", date(2025, 10, 1)) == 15


def test_gb_runs_its_own_auction_times():
    gb = TL.day_ahead("GB", date(2022, 1, 15))
    assert gb.gate_closure == utc(2022, 1, 14, 11)  # 11:00 London = 12:00 CET in winter
    assert gb.publication == utc(2022, 1, 14, 11, 50)
    assert TL.intraday_auctions("GB", date(2022, 1, 15)) == []


def test_a_day_ahead_order_is_refused_after_gate_closure_with_the_reason():
    delivery = utc(2022, 1, 15, 10)
    assert TL.refusal("DE", Product.DAY_AHEAD, delivery, utc(2022, 1, 14, 10, 59)) is None
    why = TL.refusal("DE", Product.DAY_AHEAD, delivery, utc(2022, 1, 14, 11, 0))
    assert why is not None and "closed at 2022-01-14 11:00Z" in why


def test_next_day_ahead_moves_on_at_the_gate():
    before = TL.next_day_ahead("DE", utc(2022, 1, 14, 10, 30))
    after = TL.next_day_ahead("DE", utc(2022, 1, 14, 11, 0))
    assert TL.delivery_day("DE", before.delivery_start) == date(2022, 1, 15)
    assert TL.delivery_day("DE", after.delivery_start) == date(2022, 1, 16)


def test_sidc_intraday_auctions_and_continuous_lead_time():
    auctions = TL.intraday_auctions("DE", date(2022, 1, 15))
    assert [(a.name, a.gate_closure) for a in auctions] == [
        ("IDA1", utc(2022, 1, 14, 14)),  # 15:00 CET on D−1, all of D
        ("IDA2", utc(2022, 1, 14, 21)),  # 22:00 CET on D−1
        ("IDA3", utc(2022, 1, 15, 9)),  # 10:00 CET on D, for 12:00–24:00
    ]
    ida3 = auctions[-1]
    assert ida3.delivery_start == utc(2022, 1, 15, 11)
    delivery = utc(2022, 1, 15, 12)
    assert TL.gate_closure("DE", Product.INTRADAY, delivery) == delivery - timedelta(minutes=30)
    assert TL.refusal("DE", Product.INTRADAY, delivery, utc(2022, 1, 15, 11, 31)) is not None


def test_tradable_lists_what_is_open_now():
    now = utc(2022, 1, 14, 10)  # 11:00 CET: the day-ahead gate for the 15th is open
    windows = TL.tradable("DE", now)
    products = {(w.product, w.name) for w in windows}
    assert (Product.DAY_AHEAD, "DA") in products
    assert (Product.INTRADAY, "continuous") in products
    da = next(w for w in windows if w.product is Product.DAY_AHEAD)
    assert da.closes_at == utc(2022, 1, 14, 11)
    assert all(w.closes_at > now for w in windows)


def test_rules_are_configurable_per_market_and_checked():
    timeline = MarketTimeline(
        TimelineConfig(markets={"NL": MarketRules(day_ahead_gate=time(11, 0))})
    )
    assert timeline.day_ahead("NL", date(2022, 1, 15)).gate_closure == utc(2022, 1, 14, 10)
    with pytest.raises(ValueError, match=r"market\.timezone: unknown time zone 'Mars/Olympus'"):
        MarketRules(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="mtu_after_minutes must be 15, 30 or 60"):
        MarketRules(mtu_after_minutes=20)
