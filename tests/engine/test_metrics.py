"""Backtest metrics: small cases computed by hand, and properties that hold for any input."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.backtest.metrics import (
    battery_utilization,
    compute_metrics,
    cycles_per_day,
    daily_pnl,
    max_drawdown,
    mean_daily_range,
    price_capture_rate,
    sharpe_ratio,
    strategy_figures,
    total_revenue,
    win_rate,
)
from engine.events import BatteryState, Trade

T0 = datetime(2021, 6, 1, tzinfo=UTC)


def trade(pnl: float, *, strategy="s", side="sell", volume=1.0, price=50.0, hour=0.0) -> Trade:
    return Trade(
        ts=T0 + timedelta(hours=hour),
        trade_id=f"{strategy}-{pnl}-{hour}-{side}",
        strategy=strategy,
        market="DE",
        side=side,
        volume_mwh=volume,
        price_eur_mwh=price,
        pnl_eur=pnl,
    )


def state(power: float, hour: float) -> BatteryState:
    return BatteryState(
        ts=T0 + timedelta(hours=hour),
        battery_id="b",
        market="DE",
        soc_mwh=1.0,
        soc_fraction=0.5,
        power_mw=power,
        mode="idle",
    )


def settle(pnl: float, **fields) -> Trade:
    return trade(pnl, side="settle", **fields)


def test_hand_computed_revenue_win_rate_and_drawdown():
    trades = [trade(0.0), settle(30.0), settle(-10.0), settle(20.0), settle(0.0)]
    assert total_revenue(trades) == 40.0
    # Settled periods: two gains, one loss; the scratch (0) and the fill do not count.
    assert win_rate(trades) == pytest.approx(2 / 3)
    assert win_rate([trade(5.0, side="sell")]) == 0.0  # a fill is not a settled period
    assert max_drawdown([0, 10, 4, 12, 3, 8]) == -9.0
    assert max_drawdown([0, 1, 2, 3]) == 0.0
    assert max_drawdown([]) == 0.0
    assert win_rate([]) == 0.0


def test_daily_pnl_and_an_annualised_sharpe_by_hand():
    curve = [
        (T0, 0.0),
        (T0 + timedelta(hours=5), 50.0),
        (T0 + timedelta(hours=23), 100.0),  # day 1 closes at 100
        (T0 + timedelta(days=1, hours=12), 90.0),  # day 2 closes at 90
        (T0 + timedelta(days=2, hours=12), 120.0),  # day 3 closes at 120
    ]
    daily = daily_pnl(curve)
    assert daily == [100.0, -10.0, 30.0]
    mean, std = 40.0, math.sqrt(((60**2) + (50**2) + (10**2)) / 2)
    assert sharpe_ratio(daily) == pytest.approx(mean / std * math.sqrt(365))
    assert sharpe_ratio([5.0]) == 0.0
    assert sharpe_ratio([5.0, 5.0, 5.0]) == 0.0  # no spread, no ratio


def test_price_capture_rate_by_hand():
    prices = [(T0 + timedelta(hours=h), p) for h, p in enumerate([20, 80, 40, 60])]
    prices += [(T0 + timedelta(days=1, hours=h), p) for h, p in enumerate([30, 50])]
    assert mean_daily_range(prices) == pytest.approx((60 + 20) / 2)
    trades = [
        trade(0.0, side="buy", volume=1.0, price=20.0),
        trade(0.0, side="buy", volume=3.0, price=40.0),  # VWAP bought 35
        trade(10.0, side="sell", volume=2.0, price=65.0),  # VWAP sold 65
    ]
    assert price_capture_rate(trades, 40.0) == pytest.approx((65 - 35) / 40)
    assert price_capture_rate(trades[:2], 40.0) is None
    assert price_capture_rate(trades, 0.0) is None


def test_battery_utilization_and_cycles_by_hand():
    states = [state(p, h) for h, p in enumerate([1.0, -0.5, 0.0, 0.5])]
    assert battery_utilization(states, power_mw=1.0) == pytest.approx(2.0 / 4)
    # 1.5 MWh discharged over 4 hours (1/6 day) on 1.5 MWh usable: 6 cycles a day
    assert cycles_per_day(states, usable_mwh=1.5) == pytest.approx(6.0)
    assert battery_utilization([], 1.0) is None


def test_compute_metrics_splits_revenue_by_kind_and_rates_the_battery():
    trades = [
        trade(0.0, strategy="battery", side="buy", price=20.0, volume=1.0),
        trade(0.0, strategy="battery", side="sell", price=80.0, volume=0.9),
        settle(50.0, strategy="battery", price=0.0, volume=0.1, hour=1),
        trade(0.0, strategy="arbitrage", side="sell", volume=2.0, price=60.0),
        settle(100.0, strategy="arbitrage", volume=2.0, price=10.0, hour=1),
        trade(0.0, strategy="mining", side="buy", volume=3.0),
        settle(-5.0, strategy="mining", volume=3.0, hour=1),
    ]
    curve = [(T0, 0.0), (T0 + timedelta(hours=1), 100.0), (T0 + timedelta(hours=2), 145.0)]
    metrics = compute_metrics(
        trades,
        curve,
        kinds={"battery": "battery", "arbitrage": "arbitrage", "mining": "mining"},
        battery_states=[state(-1.0, 0), state(0.9, 1)],
        battery_power_mw=1.0,
        battery_usable_mwh=1.6,
        battery_prices=[(T0, 20.0), (T0 + timedelta(hours=1), 80.0)],
        perfect_foresight_eur=80.0,
    )
    assert metrics.total_revenue == 145.0
    assert (metrics.battery_revenue, metrics.arbitrage_profit, metrics.mining_profit) == (
        50.0,
        100.0,
        -5.0,
    )
    # Fills are the trades and the volume; settlements carry the PnL.
    assert metrics.total_trades == 4
    assert metrics.total_volume_mwh == pytest.approx(6.9)
    assert metrics.win_rate == pytest.approx(2 / 3)
    # The battery's settlement is no sale: capture is of its buys and sells only.
    assert metrics.price_capture_rate == pytest.approx((80 - 20) / 60)
    assert metrics.battery_perfect_foresight_pct == pytest.approx(62.5)
    assert metrics.battery_utilization == pytest.approx(0.95)
    stored = metrics.to_dict()
    assert stored["total_trades"] == 4.0 and all(isinstance(v, float) for v in stored.values())
    assert "battery_perfect_foresight_pct" in stored


def test_metrics_without_a_battery_leave_its_figures_out():
    metrics = compute_metrics([trade(10.0)], [(T0, 0.0)], kinds={"s": "technical"})
    stored = metrics.to_dict()
    assert stored["technical_pnl"] == 10.0
    for absent in ("battery_utilization", "price_capture_rate", "battery_perfect_foresight_pct"):
        assert absent not in stored


def test_strategy_figures_count_fills_and_rate_settlements_and_the_own_equity_curve():
    trades = [
        trade(0.0, side="buy", volume=10.0, hour=0),
        trade(0.0, side="sell", volume=4.0, hour=0.5),
        settle(12.0, volume=6.0, hour=1),
        trade(0.0, side="buy", volume=5.0, hour=24),
        settle(-3.0, volume=5.0, hour=25),
    ]
    trades[3] = msgspec.structs.replace(trades[3], product="day_ahead")
    curve = [(T0, 0.0), (T0 + timedelta(hours=23), 12.0), (T0 + timedelta(hours=47), 9.0)]
    figures = strategy_figures(trades, curve)
    assert (figures.fills, figures.settlements) == (3, 2)
    assert figures.volume_mwh == 19.0 and figures.revenue_eur == 9.0
    assert figures.win_rate == 0.5
    assert figures.volume_by_product == {"intraday": 14.0, "day_ahead": 5.0}
    assert figures.sharpe_ratio == pytest.approx(sharpe_ratio([12.0, -3.0]))
    assert figures.max_drawdown == -3.0


money = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(money, max_size=200))
def test_max_drawdown_is_never_positive_and_bounded_by_the_range(values):
    drawdown = max_drawdown(values)
    assert drawdown <= 0
    if values:
        assert drawdown >= min(values) - max(values)


@given(st.lists(money, max_size=200))
def test_win_rate_is_a_share(pnls):
    rate = win_rate([settle(p) for p in pnls] + [trade(0.0, side="buy")])
    assert 0.0 <= rate <= 1.0


@given(st.lists(money, min_size=1, max_size=100), st.lists(st.integers(0, 72), min_size=1))
def test_total_revenue_is_the_sum_of_trade_pnl(pnls, hours):
    trades = [trade(p, hour=hours[i % len(hours)]) for i, p in enumerate(pnls)]
    kinds = {"s": "battery"}
    curve = [(T0, 0.0)]
    running = 0.0
    for t in sorted(trades, key=lambda t: t.ts):
        running += t.pnl_eur
        curve.append((t.ts, running))
    metrics = compute_metrics(trades, curve, kinds=kinds)
    assert metrics.total_revenue == pytest.approx(math.fsum(pnls), abs=1e-6)
    assert metrics.battery_revenue == pytest.approx(metrics.total_revenue)
    assert metrics.max_drawdown <= 0
    assert 0.0 <= metrics.win_rate <= 1.0
    assert math.isfinite(metrics.sharpe_ratio)
    # The daily PnL adds up to the final equity: nothing is lost between days.
    assert math.fsum(daily_pnl(curve)) == pytest.approx(curve[-1][1], abs=1e-6)
