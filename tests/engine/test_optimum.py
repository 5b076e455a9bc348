"""The perfect-foresight LP: feasible, optimal, exclusive, consistent with the physics."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.battery.optimum import OptimumError, solve_schedule
from engine.battery.physics import BatterySpec, BatteryStatus, step


def replay(spec, prices, power_mw, dt_h=1.0, days=None):
    """Run a schedule through the physics; returns (status, delivered powers)."""
    status = BatteryStatus.initial(spec)
    delivered = []
    for t, (price, power) in enumerate(zip(prices, power_mw, strict=True)):
        day = None if days is None else int(days[t])
        delivered.append(step(spec, status, float(power), float(price), dt_h, day).power_mw)
    return status, np.array(delivered)


price_lists = st.lists(
    st.floats(min_value=-300, max_value=500, allow_nan=False), min_size=1, max_size=72
)


@settings(max_examples=60, deadline=None)
@given(prices=price_lists, degradation=st.sampled_from([0.0, 2.0, 5.0]))
def test_the_schedule_is_feasible_and_its_revenue_is_what_the_physics_settles(prices, degradation):
    spec = BatterySpec(degradation_eur_mwh=degradation)
    schedule = solve_schedule(spec, prices, 1.0)
    assert np.all(np.minimum(schedule.charge_mw, schedule.discharge_mw) == 0.0)
    assert np.all(schedule.soc_mwh >= spec.soc_min_mwh - 1e-6)
    assert np.all(schedule.soc_mwh <= spec.soc_max_mwh + 1e-6)
    status, delivered = replay(spec, prices, schedule.power_mw)
    np.testing.assert_allclose(delivered, schedule.power_mw, atol=1e-6)
    assert status.net_revenue_eur == pytest.approx(schedule.net_revenue_eur, abs=1e-4)
    assert status.soc_mwh == pytest.approx(schedule.soc_mwh[-1], abs=1e-6)


def brute_force(spec, prices):
    """Best of all full-power charge/idle/discharge sequences (exhaustive, tiny inputs)."""
    best = -np.inf
    for actions in itertools.product((-1.0, 0.0, 1.0), repeat=len(prices)):
        status, _ = replay(spec, prices, actions)
        best = max(best, status.net_revenue_eur)
    return best


@settings(max_examples=25, deadline=None)
@given(prices=st.lists(st.floats(min_value=-200, max_value=200), min_size=2, max_size=6))
def test_the_optimum_beats_every_bang_bang_schedule(prices):
    spec = BatterySpec(degradation_eur_mwh=1.0)
    assert solve_schedule(spec, prices, 1.0).net_revenue_eur >= brute_force(spec, prices) - 1e-6


def test_at_deeply_negative_prices_the_battery_never_burns_energy():
    # Full battery, very negative prices: the LP relaxation would charge and
    # discharge at once to consume power; the exact schedule cannot.
    spec = BatterySpec(initial_soc_fraction=0.9, degradation_eur_mwh=0.0)
    prices = [-400.0, -400.0, -400.0, 50.0]
    exact = solve_schedule(spec, prices, 1.0)
    assert exact.binaries > 0
    assert np.all(np.minimum(exact.charge_mw, exact.discharge_mw) == 0.0)
    status, _ = replay(spec, prices, exact.power_mw)
    assert status.net_revenue_eur == pytest.approx(exact.net_revenue_eur, abs=1e-6)
    penalty = solve_schedule(spec, prices, 1.0, exclusivity="penalty")
    assert penalty.binaries == 0
    assert penalty.net_revenue_eur <= exact.net_revenue_eur + 1e-6


def test_a_flat_price_is_not_worth_the_wear():
    # Starting at the reserve: nothing stored to sell, and no spread to trade.
    schedule = solve_schedule(BatterySpec(initial_soc_fraction=0.1), [60.0] * 48, 1.0)
    assert np.all(schedule.power_mw == 0.0) and schedule.net_revenue_eur == 0.0


def test_one_cheap_and_one_dear_hour_make_one_cycle():
    spec = BatterySpec(initial_soc_fraction=0.1, degradation_eur_mwh=0.0)
    schedule = solve_schedule(spec, [10.0, 10.0, 200.0, 200.0], 1.0)
    assert schedule.power_mw[:2].sum() < 0 < schedule.power_mw[2:].sum()
    # 1.6 MWh usable: bought 1.6/η_c, sold 1.6·η_d.
    sold, bought = 1.6 * spec.discharge_efficiency, 1.6 / spec.charge_efficiency
    assert schedule.net_revenue_eur == pytest.approx(200 * sold - 10 * bought)


def test_the_cycle_cap_limits_each_days_discharge():
    spec = BatterySpec(max_cycles_per_day=0.5, degradation_eur_mwh=0.0)
    prices = np.tile([10.0, 10.0, 100.0, 100.0, 10.0, 10.0, 100.0, 100.0] * 3, 2)
    days = np.repeat([0, 1], 24)
    schedule = solve_schedule(spec, prices, 1.0, day_numbers=days)
    cell_out = schedule.discharge_mw / spec.discharge_efficiency
    for day in (0, 1):
        assert cell_out[days == day].sum() <= 0.5 * spec.usable_mwh + 1e-6
    _, delivered = replay(spec, prices, schedule.power_mw, days=days)
    np.testing.assert_allclose(delivered, schedule.power_mw, atol=1e-6)


def test_final_soc_and_terminal_value():
    spec = BatterySpec()
    prices = [10.0, 100.0, 100.0]
    free = solve_schedule(spec, prices, 1.0)
    assert free.soc_mwh[-1] == pytest.approx(spec.soc_min_mwh)
    kept = solve_schedule(spec, prices, 1.0, final_soc_min_mwh=1.0)
    assert kept.soc_mwh[-1] >= 1.0 - 1e-9
    valued = solve_schedule(spec, prices, 1.0, terminal_value_eur_mwh=500.0)
    assert valued.soc_mwh[-1] > free.soc_mwh[-1]


def test_quarter_hours_earn_what_hours_do_on_the_same_prices():
    rng = np.random.default_rng(3)
    hourly = rng.normal(80, 40, 24 * 7)
    spec = BatterySpec()
    by_hour = solve_schedule(spec, hourly, 1.0).net_revenue_eur
    by_quarter = solve_schedule(spec, np.repeat(hourly, 4), 0.25).net_revenue_eur
    # Quarter-hours can only add flexibility.
    assert by_quarter >= by_hour - 1e-6
    assert by_quarter == pytest.approx(by_hour, rel=0.05)


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(OptimumError, match="finite"):
        solve_schedule(BatterySpec(), [1.0, float("nan")], 1.0)
    with pytest.raises(ValueError, match="day_numbers"):
        solve_schedule(BatterySpec(max_cycles_per_day=1), [1.0, 2.0], 1.0, day_numbers=[0])
    assert solve_schedule(BatterySpec(), [], 1.0).net_revenue_eur == 0.0


def test_solving_prints_nothing_on_stdout():
    # HiGHS can print a banner from C++, past pytest's capture and into
    # `gridtui eval battery --json`: a fresh process shows whether it does.
    import subprocess
    import sys

    code = (
        "from engine.battery.physics import BatterySpec\n"
        "from engine.battery.optimum import solve_schedule\n"
        "solve_schedule(BatterySpec(), [10.0, 90.0, 20.0, 80.0], 1.0)\n"
        "print('done')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout == "done\n"
