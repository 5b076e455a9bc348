"""Fundamental on the market timeline: a price far above its fair value is sold where still open.

The test market's fair value is exact: price = 100 − 100 x renewables share,
the share cycling 20 %..80 % over six hours, so after its warm-up the fit
knows it and one hour 60 €/MWh above it stands out.
"""

from __future__ import annotations

import pytest

from engine.events import Event, Fundamentals, PriceTick
from engine.strategies.fundamental import FundamentalConfig, FundamentalStrategy
from tests.stubs.strategy_host import (
    COSTS,
    ID,
    at,
    da,
    feed,
    fills_of,
    host,
    hours_of,
    intraday,
    settles_of,
)

CONFIG = FundamentalConfig(warmup=24, entry_eur_mwh=20, exit_eur_mwh=5, forgetting=1.0)


def fair(hour: int) -> float:
    return 100 - 100 * (0.2 + 0.6 * (hour % 6) / 5)


def market(hours: range, price_of: object, outlier: int) -> list[Event]:
    events: list[Event] = []
    for h in hours:
        share = 0.2 + 0.6 * (h % 6) / 5
        events.append(
            Fundamentals(
                ts=at(h), market="DE", load_mw=50_000.0, wind_mw=50_000 * share, solar_mw=0.0
            )
        )
        price = fair(h) + (60.0 if h == outlier else 0.0)
        tick: PriceTick = price_of("DE", price, h)  # type: ignore[operator]
        events.append(tick)
    return events


def test_fundamental_sells_the_first_open_period_intraday_when_the_price_is_far_above_fair():
    strategy = FundamentalStrategy(CONFIG)
    manager = host(strategy, execution=COSTS, kind=ID)
    out = feed(manager, market(range(30), intraday, outlier=27))
    fills = fills_of(out)
    # 27:00: 104 against a fair 44 → short the first open period (28:00) at 104 − 0.5.
    # 28:00: back at fair value → flat, and the next open period (29:00) holds nothing.
    assert [(t.side, hours_of([t])[0], t.price_eur_mwh) for t in fills] == [("sell", 28, 103.5)]
    # Period 28:00 is delivered at 29:00 and closed at the intraday price then, fair(29) = 20.
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx(10 * (103.5 - fair(29)) - 1.0)]
    assert strategy.fair_value["DE"][1] == pytest.approx(fair(29), abs=5)


def test_fundamental_on_a_day_ahead_only_feed_commits_the_target_of_its_gate_bar():
    # Gate bars at hours 10, 34 and 58. At 10 it is still warming up (24 prices);
    # at 34 the price is 60 above fair: short every hour of 2021-03-03 (hours 47..70).
    manager = host(FundamentalStrategy(CONFIG), execution=COSTS)
    out = feed(manager, market(range(71), da, outlier=34))
    out += manager.on_timer(at(71))
    fills = fills_of(out)
    assert hours_of(fills) == list(range(47, 71))
    assert {(t.side, t.volume_mwh, t.product) for t in fills} == {("sell", 10.0, "day_ahead")}
    assert [t.price_eur_mwh for t in fills] == [fair(h) for h in range(47, 71)]
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx(-1.0)] * 24
