"""Mining on the market timeline: limit-price bids at the day-ahead gate, intraday where open.

Hand-computed: break-even 100 €/MWh (0.06 EUR/TH/day at 25 J/TH), margin 5, so
the farm bids 10 MW in every hour of D at a limit of 95 €/MWh.
"""

from __future__ import annotations

import pytest

from engine.strategies.mining import MiningConfig, MiningStrategy, break_even_eur_mwh
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

CONFIG = MiningConfig(hash_price_eur_per_th_day=0.06, efficiency_j_per_th=25.0, power_mw=10.0)


def test_break_even_is_the_hash_price_over_the_energy_of_a_terahash_day():
    assert CONFIG.break_even_eur_mwh == pytest.approx(break_even_eur_mwh(0.06, 25.0)) == 100.0
    assert MiningStrategy(CONFIG).limit_eur_mwh == pytest.approx(95.0)


def test_mining_bids_at_the_gate_and_fills_only_at_or_below_break_even_minus_margin():
    manager = host(MiningStrategy(CONFIG), execution=COSTS)
    d_prices = {DAY_D: 90.0, DAY_D + 1: 95.0, DAY_D + 2: 95.01, DAY_D + 3: 150.0}
    ticks = [da("DE", d_prices.get(h, 200.0 if h >= DAY_D else 80.0), h) for h in range(47)]
    out = feed(manager, ticks)
    out += manager.on_timer(at(47))  # the last hour of D is delivered
    fills = fills_of(out)
    # Filled at the clearing price itself (no slippage in the auction), and only
    # where it cleared at or below the 95 € limit; nothing before D was bid for.
    assert [(hours_of([t])[0], t.side, t.price_eur_mwh, t.product) for t in fills] == [
        (DAY_D, "buy", 90.0, "day_ahead"),
        (DAY_D + 1, "buy", 95.0, "day_ahead"),
    ]
    assert all(t.volume_mwh == 10.0 and t.pnl_eur == 0.0 for t in fills)
    # Consumed at delivery: (break-even − clearing) x 10 MWh − 0.1 €/MWh fees.
    assert [t.pnl_eur for t in settles_of(out)] == [
        pytest.approx((100 - 90) * 10 - 1.0),
        pytest.approx((100 - 95) * 10 - 1.0),
    ]
    account = manager.account("mining")
    assert account.rejections == {"not filled": 22}  # the other hours of D cleared above 95
    assert account.realised_eur == pytest.approx(99.0 + 49.0)


def test_mining_switched_on_after_the_gate_bids_for_the_day_after():
    # Started at 11:00 UTC (12:00 CET): day D's gate has just closed.
    manager = host(MiningStrategy(CONFIG), start=at(GATE_BAR + 1))
    out = feed(manager, [da("DE", 50.0, h) for h in range(GATE_BAR + 1, 47)])
    assert fills_of(out) == []  # nothing for D: its auction was closed when it started
    status = manager.statuses(at(46))[0]
    assert status.pending_orders == 24  # D+1, bid at its gate bar (hour 34)


def test_mining_buys_intraday_below_its_limit_for_periods_it_has_no_bid_for():
    # An intraday feed, started at 12:00 UTC: D's day-ahead gate is past, so
    # today's and D's periods can only be bought on continuous intraday.
    manager = host(MiningStrategy(CONFIG), execution=COSTS, kind=ID, start=at(12))
    prices = [(12.0, 80.0), (12.25, 80.0), (12.5, 99.0), (13.0, 94.6), (14.0, 80.0)]
    out = feed(manager, [intraday("DE", p, h) for h, p in prices])
    fills = fills_of(out)
    # 12:00: the first period still open is 13:00 (12:30 + lead); bought at
    # 80 + 0.5 slippage. 12:15: held already. 12:30: 99 is above the limit.
    # 13:00: 94.6 + 0.5 = 95.1 is above the limit too: refused by the order path.
    assert [(hours_of([t])[0], t.price_eur_mwh, t.product) for t in fills] == [
        (13, 80.5, "intraday"),
        (15, 80.5, "intraday"),
    ]
    assert manager.account("mining").rejections == {"no room": 1}
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx((100 - 80.5) * 10 - 1.0)]
