"""The committed battery: planned at D−1's gate closure on a forecast, settled at D's prices."""

import math
from datetime import UTC, date, datetime

import numpy as np
import pytest

from engine.battery.commitment import (
    ControllerPlanner,
    DayEnd,
    LpPlanner,
    plan_day,
    run_committed,
)
from engine.battery.gate_forecast import (
    KnownAtGate,
    delivery_days,
    forecast_at_gate,
    forecast_on_grid,
    lagged_forecast,
)
from engine.battery.optimum import solve_schedule
from engine.battery.physics import BatterySpec
from engine.battery.policy_controller import PolicyController
from engine.battery.price_series import US_PER_DAY, PriceSeries, to_us
from engine.information import Information

HOUR_US = 3_600_000_000
# Local midnight of 2022-01-10 in Brussels (CET = UTC+1): delivery days start at 23:00Z.
FIRST_DAY = datetime(2022, 1, 9, 23, tzinfo=UTC)


def daily_prices(days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    shape = 80 + 40 * np.sin(2 * np.pi * (hours - 10) / 24) + 20 * np.sin(4 * np.pi * hours / 24)
    return np.asarray(shape + rng.normal(0, 12, len(hours)))


def hourly(prices, start=FIRST_DAY, market="DE") -> PriceSeries:
    times = to_us(start) + np.arange(len(prices)) * HOUR_US
    return PriceSeries.from_points(market, times, prices)


def rewrite_from(prices: np.ndarray, first_step: int, seed: int = 99) -> np.ndarray:
    """Every price from ``first_step`` on replaced: what is published after D−1's gate."""
    changed = prices.copy()
    rng = np.random.default_rng(seed)
    changed[first_step:] = rng.uniform(-200, 900, len(changed) - first_step)
    return changed


def mean_of_known_day(known: KnownAtGate) -> np.ndarray:
    """A forecast function that sees only the history known at the gate."""
    assert known.history_times_us.size == 0 or known.history_times_us.max() < (
        known.target_times_us.min()
    )
    if len(known.history_prices) < 24:
        return np.full(len(known.target_times_us), np.nan)
    last_day = known.history_prices[-24:]
    return np.asarray(np.resize(last_day, len(known.target_times_us)) * 0.9 + last_day.mean() * 0.1)


class ShapePolicy:
    """Charges when the current (normalised) price is low, discharges when high."""

    policy_id = "shape"

    def act(self, observation: np.ndarray) -> float:
        return float(np.tanh(observation[2]))  # index 2: this step's normalised price


@pytest.mark.parametrize("make_forecast", ["persistence", "gate_function"])
@pytest.mark.parametrize("planner", ["lp", "rl"])
def test_no_price_published_after_the_gate_changes_the_committed_plan(make_forecast, planner):
    spec = BatterySpec()
    prices = daily_prices(12, seed=1)
    d_index = 7  # day D: its prices and all later ones are rewritten
    first_step = d_index * 24
    runs = []
    for values in (prices, rewrite_from(prices, first_step)):
        series = hourly(values)
        if make_forecast == "persistence":
            forecast = lagged_forecast(series, 1)
        else:
            forecast = forecast_at_gate(series, mean_of_known_day)
        chosen = (
            LpPlanner() if planner == "lp" else ControllerPlanner(PolicyController(ShapePolicy()))
        )
        runs.append(run_committed(spec, series, forecast, chosen))
    # Day D's plan was made at D−1 12:00: it is unchanged to the bit, and so is everything before.
    through_d = slice(0, first_step + 24)
    assert np.array_equal(runs[0].power_mw[through_d], runs[1].power_mw[through_d])
    assert np.any(runs[0].power_mw[through_d] != 0)
    # The day after D plans on D's (rewritten) prices, so it does change.
    assert not np.array_equal(
        runs[0].power_mw[first_step + 24 :], runs[1].power_mw[first_step + 24 :]
    )


def test_committed_lp_on_the_true_prices_is_the_perfect_foresight_optimum():
    spec = BatterySpec()
    one_day = hourly(daily_prices(1, seed=3))
    assert len(delivery_days(one_day)) == 1
    run = run_committed(spec, one_day, one_day.prices, LpPlanner(DayEnd("free")))
    best = solve_schedule(spec, one_day.prices, 1.0)
    assert run.net_revenue_eur == pytest.approx(best.net_revenue_eur, abs=1e-6)
    np.testing.assert_allclose(run.power_mw, best.power_mw, atol=1e-7)
    assert run.information is Information.GATE_CLOSURE
    assert run.max_clipped_mw < 1e-9


def test_state_of_charge_carries_over_from_one_committed_day_to_the_next():
    spec = BatterySpec()
    prices = daily_prices(2, seed=5)
    prices[20:24] = -50.0  # cheap late evening: the plan ends day 1 charged
    series = hourly(prices)
    run = run_committed(spec, series, series.prices)
    end_of_day_one = run.soc_mwh[23]
    assert end_of_day_one > spec.initial_soc_mwh + 0.5
    day_two = plan_day(spec, series.prices[24:], 1.0, end_of_day_one)
    np.testing.assert_array_equal(run.power_mw[24:], day_two.power_mw)
    # The settled path runs on from where the committed plan of day 1 left it.
    first = run.log.power_mw[24]
    soc_after = end_of_day_one - (
        first / spec.discharge_efficiency if first > 0 else first * spec.charge_efficiency
    )
    assert run.soc_mwh[24] == pytest.approx(soc_after)


def test_settlement_is_at_the_real_prices_not_the_forecast():
    spec = BatterySpec()
    series = hourly(daily_prices(3, seed=2))
    forecast = series.prices[::-1].copy()  # a wrong forecast: the committed plan loses money
    run = run_committed(spec, series, forecast)
    expected = math.fsum(series.prices * run.power_mw) - spec.degradation_eur_mwh * math.fsum(
        np.abs(run.power_mw)
    )
    assert run.net_revenue_eur == pytest.approx(expected)
    best = solve_schedule(spec, series.prices, 1.0).net_revenue_eur
    assert run.net_revenue_eur < best


def test_days_without_a_forecast_are_not_traded():
    spec = BatterySpec()
    series = hourly(daily_prices(3))
    run = run_committed(spec, series, lagged_forecast(series, 1))
    assert run.days == 3 and run.idle_days == 1
    assert not run.power_mw[:24].any() and run.power_mw[24:].any()
    weekly = run_committed(spec, series, lagged_forecast(series, 7))
    assert weekly.idle_days == 3 and weekly.net_revenue_eur == 0.0


def test_dst_days_are_planned_on_their_own_length():
    # 2022-03-26 .. 2022-03-28 and 2022-10-29 .. 2022-10-31 in Brussels.
    spring = hourly(daily_prices(3), start=datetime(2022, 3, 25, 23, tzinfo=UTC))
    autumn = hourly(daily_prices(4)[:73], start=datetime(2022, 10, 28, 22, tzinfo=UTC))
    spring_days = delivery_days(spring)
    assert [(d.day, len(d)) for d in spring_days[:2]] == [
        (date(2022, 3, 26), 24),
        (date(2022, 3, 27), 23),
    ]
    autumn_days = delivery_days(autumn)
    assert [(d.day, len(d)) for d in autumn_days] == [
        (date(2022, 10, 29), 24),
        (date(2022, 10, 30), 25),
        (date(2022, 10, 31), 24),
    ]
    # Gate closure for 2022-10-30 is 12:00 CEST on the 29th.
    assert autumn_days[1].gate_closure_us == to_us(datetime(2022, 10, 29, 10, tzinfo=UTC))
    for series, days in ((spring, spring_days), (autumn, autumn_days)):
        forecast = lagged_forecast(series, 1)
        assert np.isfinite(forecast[days[1].start : days[2].stop]).all()
        run = run_committed(BatterySpec(), series, forecast)
        assert run.max_clipped_mw < 1e-9
    # The repeated 02:00 of the fall-back day takes the source day's one 02:00 (00:00Z on the 29th).
    forecast = lagged_forecast(autumn, 1)
    day = autumn_days[1]
    two_am = autumn.prices[day.start - 24 + 2]
    assert forecast[day.start + 2] == forecast[day.start + 3] == two_am


def test_a_timestamped_forecast_lands_on_the_grid():
    series = hourly(daily_prices(2))
    times = series.times_us()[24:30]
    aligned = forecast_on_grid(series, times, np.arange(6.0))
    assert np.isnan(aligned[:24]).all() and np.isnan(aligned[30:]).all()
    np.testing.assert_array_equal(aligned[24:30], np.arange(6.0))
    # Quarter hours are averaged into their hour; points outside the series are dropped.
    quarter = series.start_us + np.arange(8) * HOUR_US // 4
    aligned = forecast_on_grid(series, np.append(quarter, -US_PER_DAY), [*range(8), 1e6])
    assert aligned[0] == 1.5 and aligned[1] == 5.5


def test_plan_day_day_ends_and_the_cycle_cap():
    spec = BatterySpec(max_cycles_per_day=1.0)
    prices = daily_prices(1, seed=7)
    days = (to_us(FIRST_DAY) + np.arange(24) * HOUR_US) // US_PER_DAY
    for end in (DayEnd("free"), DayEnd("hold"), DayEnd("value"), DayEnd("repeat", 2)):
        schedule = plan_day(spec, prices, 1.0, 1.0, day_end=end, day_numbers=days)
        assert len(schedule.power_mw) == 24
        assert spec.soc_min_mwh - 1e-9 <= schedule.soc_mwh.min()
        assert schedule.soc_mwh.max() <= spec.soc_max_mwh + 1e-9
    held = plan_day(spec, prices, 1.0, 1.0, day_end=DayEnd("hold"))
    assert held.soc_mwh[-1] >= 1.0 - 1e-9
    free = plan_day(spec, prices, 1.0, 1.0, day_end=DayEnd("free"))
    assert free.soc_mwh[-1] == pytest.approx(spec.soc_min_mwh, abs=1e-6)
