"""ML on the market timeline: forecasts issued before the gate commit D; intraday, open periods."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.events import Event, Forecast
from engine.strategies.ml import MlConfig, MlStrategy
from tests.stubs.strategy_host import (
    COSTS,
    DAY_D,
    GATE_BAR,
    ID,
    T0,
    at,
    da,
    feed,
    fills_of,
    host,
    hours_of,
    intraday,
    settles_of,
)


def forecast(
    issued: float, target: float, lower: float, upper: float, horizon: int = 0
) -> Forecast:
    return Forecast(
        ts=at(issued),
        market="DE",
        target_ts=at(target),
        horizon_steps=horizon or max(1, round(target - issued)),
        price_eur_mwh=(lower + upper) / 2,
        lower_eur_mwh=lower,
        upper_eur_mwh=upper,
        model_id="xgb",
    )


def test_ml_commits_the_periods_of_d_whose_forecast_issued_before_the_gate_leaves_its_band():
    manager = host(MlStrategy(MlConfig(volume_mwh=5.0)), execution=COSTS)
    events: list[Event] = [da("DE", 50.0, h) for h in range(DAY_D + 24)]
    events += [
        forecast(5, DAY_D + 5, 70.0, 90.0),  # lower bound above the price (50): long
        forecast(5, DAY_D + 7, 45.0, 65.0),  # within its band: nothing
        forecast(5, DAY_D + 8, 70.0, 90.0, horizon=60),  # beyond max_horizon_steps
        forecast(GATE_BAR + 1, DAY_D + 9, 70.0, 90.0),  # issued after the gate: too late for D
    ]
    out = feed(manager, events)
    out += manager.on_timer(at(DAY_D + 24))
    fills = fills_of(out)
    assert [(t.side, t.volume_mwh, t.product, hours_of([t])[0]) for t in fills] == [
        ("buy", 5.0, "day_ahead", DAY_D + 5)
    ]
    assert "ML xgb for 2021-03-02 04:00" in fills[0].reason
    # Bought in the auction, settled at the same clearing price: the fees.
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx(-0.1 * 5)]


def test_ml_trades_the_first_open_period_intraday_and_settles_it_at_the_reference():
    manager = host(MlStrategy(MlConfig(volume_mwh=5.0)), execution=COSTS, kind=ID)
    events: list[Event] = [
        intraday("DE", 50.0, 9),
        forecast(9, 9.25, 70.0, 90.0),  # period 09:00 closed at 08:30: never traded
        forecast(9, 11, 70.0, 90.0),  # period 11:00: traded once it is the first open one
        forecast(9, 12, 45.0, 65.0),  # period 12:00: within its band against 60
        intraday("DE", 60.0, 10),  # first open: 11:00; lower bound 70 > 60: long at 60.5
        forecast(10.1, 11.5, 10.0, 20.0),  # period 11:00 again, after it was traded
        intraday("DE", 60.0, 10.25),
        intraday("DE", 70.0, 11),  # first open: 12:00; 45..65 against 70: upper below → short
        intraday("DE", 75.0, 12),
    ]
    out = feed(manager, events)
    fills = fills_of(out)
    assert [(t.side, hours_of([t])[0], t.price_eur_mwh) for t in fills] == [
        ("buy", 11, 60.5),
        ("sell", 12, 69.5),
    ]
    # Period 11:00 delivered at 12:00, closed at the latest intraday price then: 75.
    assert [t.pnl_eur for t in settles_of(out)] == [pytest.approx(5 * (75 - 60.5) - 0.5)]
    assert fills[0].delivery_start == T0 + timedelta(hours=11)
