"""Technical on the market timeline: a day-ahead commitment earns −fees, intraday its spread."""

from __future__ import annotations

import pytest

from engine.strategies.technical import TechnicalConfig, TechnicalStrategy
from tests.stubs.strategy_host import (
    COSTS,
    DAY_D,
    GATE_BAR,
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

BOLLINGER = TechnicalConfig(indicator="bollinger", bollinger_window=4)


def test_a_day_ahead_only_position_is_committed_at_the_gate_and_earns_minus_its_fees():
    strategy = TechnicalStrategy(BOLLINGER)
    manager = host(strategy, execution=COSTS)
    calm = [50, 52, 48, 50, 50, 52, 48, 50, 50, 52]  # inside the band: flat
    prices = {h: float(p) for h, p in enumerate(calm)}
    prices[GATE_BAR] = 20.0  # the last price known before D's gate: far below the band
    prices |= {h: 50.0 for h in range(GATE_BAR + 1, DAY_D)}
    prices |= {h: 40.0 + (h - DAY_D) for h in range(DAY_D, DAY_D + 24)}
    out = feed(manager, [da("DE", p, h) for h, p in sorted(prices.items())])
    out += manager.on_timer(at(DAY_D + 24))
    d_fills = [t for t in fills_of(out) if DAY_D <= hours_of([t])[0] < DAY_D + 24]
    # Long 10 MWh in every hour of D, filled at D's clearing prices (no slippage).
    assert [(t.side, t.volume_mwh, t.product) for t in d_fills] == [("buy", 10.0, "day_ahead")] * 24
    assert [t.price_eur_mwh for t in d_fills] == [40.0 + i for i in range(24)]
    # Nothing else to close it in: it settles at its own clearing price.
    settles = settles_of(out)
    assert [t.pnl_eur for t in settles] == [pytest.approx(-0.1 * 10)] * 24
    assert sum(t.pnl_eur for t in fills_of(out) + settles) == pytest.approx(-24.0)
    assert "day-ahead gate" in strategy.describe()


def test_an_intraday_round_trip_earns_its_price_difference_minus_costs():
    strategy = TechnicalStrategy(BOLLINGER)
    manager = host(strategy, execution=COSTS, kind=ID)
    ticks = [(9.0, 50), (9.25, 52), (9.5, 48), (9.75, 50), (10.0, 20), (10.25, 60)]
    ticks += [(10.5 + 0.25 * i, 50) for i in range(7)]  # back to calm, up to 12:00
    out = feed(manager, [intraday("DE", float(p), h) for h, p in ticks])
    fills = fills_of(out)
    # 10:00, a dip: long the first period still open (11:00) at 20 + 0.5.
    # 10:15, back above the mean: flat again, the same period sold at 60 − 0.5.
    assert [(t.side, hours_of([t])[0], t.price_eur_mwh) for t in fills] == [
        ("buy", 11, 20.5),
        ("sell", 11, 59.5),
    ]
    # Delivered flat: the period's result is the round trip, 10 x (59.5 − 20.5) − 2 x 1 fee.
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx(10 * 39.0 - 2.0)]
    assert "intraday" in strategy.describe()


def test_an_intraday_position_held_to_delivery_settles_at_the_reference():
    manager = host(TechnicalStrategy(BOLLINGER), execution=COSTS, kind=ID)
    ticks = [(9.0, 50), (9.25, 52), (9.5, 48), (9.75, 50), (10.0, 20)]
    ticks += [(10.25, 20), (10.5, 20), (12.0, 35)]  # still below its mean: held
    out = feed(manager, [intraday("DE", float(p), h) for h, p in ticks])
    fills = fills_of(out)
    assert [(t.side, hours_of([t])[0]) for t in fills] == [("buy", 11), ("buy", 12)]
    # Period 11:00 closes at the latest intraday price when delivered (35 at 12:00).
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx(10 * (35 - 20.5) - 1.0)]


@pytest.mark.parametrize(
    ("indicator", "prices", "sides"),
    [
        ("ma_cross", [10, 10, 10, 20, 30, 40, 10, 0, 0], ["buy"] * 3 + ["sell"] * 3),
        ("rsi", [50, 49, 48, 47, 46, 45, 44, 50, 60], ["buy"] * 4 + ["sell"] * 2),
    ],
)
def test_technical_ma_cross_and_rsi_hold_their_signal_hour_by_hour(indicator, prices, sides):
    config = TechnicalConfig(
        indicator=indicator, fast_window=2, slow_window=3, rsi_window=3, rsi_low=30, rsi_high=70
    )
    manager = host(TechnicalStrategy(config), kind=ID)
    out = feed(manager, [intraday("DE", float(p), h) for h, p in enumerate(prices)])
    # Each hour's tick trades the next open hour (delivery = first open period).
    assert [t.side for t in fills_of(out)] == sides
