"""Battery physics: energy is conserved, bounds hold, revenue is the priced flows."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.battery.physics import (
    ONE_WAY_EFFICIENCY,
    BatterySpec,
    BatteryStatus,
    DispatchLog,
    power_limits,
    step,
)

prices = st.floats(min_value=-500, max_value=4000, allow_nan=False)
requests = st.floats(min_value=-5, max_value=5, allow_nan=False)
specs = st.builds(
    BatterySpec,
    capacity_mwh=st.floats(min_value=0.5, max_value=200),
    power_mw=st.floats(min_value=0.1, max_value=100),
    charge_efficiency=st.floats(min_value=0.5, max_value=1.0),
    discharge_efficiency=st.floats(min_value=0.5, max_value=1.0),
    soc_min_fraction=st.just(0.1),
    soc_max_fraction=st.just(0.9),
    degradation_eur_mwh=st.floats(min_value=0, max_value=50),
    max_cycles_per_day=st.one_of(st.none(), st.floats(min_value=0.2, max_value=3)),
)


def test_defaults_are_the_issues_reference_battery():
    spec = BatterySpec()
    assert (spec.capacity_mwh, spec.power_mw) == (2.0, 1.0)
    assert spec.round_trip_efficiency == pytest.approx(0.9)
    assert spec.charge_efficiency == spec.discharge_efficiency == ONE_WAY_EFFICIENCY
    assert (spec.soc_min_mwh, spec.soc_max_mwh, spec.usable_mwh) == pytest.approx((0.2, 1.8, 1.6))
    assert spec.degradation_eur_mwh == 5.0 and spec.max_cycles_per_day is None


@pytest.mark.parametrize(
    "bad",
    [
        {"capacity_mwh": 0},
        {"power_mw": -1},
        {"charge_efficiency": 1.2},
        {"soc_min_fraction": 0.9, "soc_max_fraction": 0.1},
        {"initial_soc_fraction": 0.95},
        {"degradation_eur_mwh": -1},
        {"max_cycles_per_day": 0},
    ],
)
def test_invalid_specs_are_refused_with_the_battery_named(bad):
    with pytest.raises(ValueError, match="bess-x"):
        BatterySpec(battery_id="bess-x", **bad)


@settings(max_examples=150, deadline=None)
@given(
    spec=specs,
    steps=st.lists(st.tuples(requests, prices), min_size=1, max_size=60),
    dt_h=st.sampled_from([0.25, 0.5, 1.0]),
)
def test_energy_is_conserved_bounds_hold_and_revenue_is_the_priced_flows(spec, steps, dt_h):
    status = BatteryStatus.initial(spec)
    start_soc = status.soc_mwh
    revenue = degradation = charged = discharged = 0.0
    for i, (request_fraction, price) in enumerate(steps):
        result = step(spec, status, request_fraction * spec.power_mw, price, dt_h, i // 24)
        # Bounds: never beyond the rating or the SoC window.
        assert abs(result.power_mw) <= spec.power_mw + 1e-9
        assert spec.soc_min_mwh - 1e-9 <= status.soc_mwh <= spec.soc_max_mwh + 1e-9
        # Never both directions in one step.
        assert result.charged_mwh == 0.0 or result.discharged_mwh == 0.0
        # Revenue is the priced flow, degradation the priced throughput.
        assert result.revenue_eur == pytest.approx(price * result.power_mw * dt_h)
        assert result.degradation_eur == pytest.approx(
            spec.degradation_eur_mwh * abs(result.power_mw) * dt_h
        )
        revenue += result.revenue_eur
        degradation += result.degradation_eur
        charged += result.charged_mwh
        discharged += result.discharged_mwh
    # Energy: what is in the cells is what went in after losses minus what came out before them.
    expected_soc = (
        start_soc + charged * spec.charge_efficiency - discharged / spec.discharge_efficiency
    )
    assert status.soc_mwh == pytest.approx(expected_soc, abs=1e-6)
    assert status.revenue_eur == pytest.approx(revenue)
    assert status.net_revenue_eur == pytest.approx(revenue - degradation)
    assert (status.charged_mwh, status.discharged_mwh) == pytest.approx((charged, discharged))


@settings(max_examples=100, deadline=None)
@given(spec=specs, requests_mw=st.lists(requests, min_size=1, max_size=96))
def test_the_cycle_cap_bounds_each_days_discharge(spec, requests_mw):
    status = BatteryStatus.initial(spec)
    out_by_day: dict[int, float] = {}
    for i, fraction in enumerate(requests_mw):
        day = i // 24
        result = step(spec, status, fraction * spec.power_mw, 50.0, 1.0, day)
        out_by_day[day] = (
            out_by_day.get(day, 0.0) + result.discharged_mwh / spec.discharge_efficiency
        )
    for cell_out in out_by_day.values():
        assert cell_out <= spec.daily_discharge_budget_mwh + 1e-9


def test_a_request_beyond_the_limits_is_clipped_not_refused():
    spec = BatterySpec()
    status = BatteryStatus(soc_mwh=spec.soc_max_mwh - 0.1)
    # Only 0.1 MWh of room: 0.1/η_c MWh can be bought.
    result = step(spec, status, -5.0, 20.0, 1.0)
    assert result.power_mw == pytest.approx(-0.1 / spec.charge_efficiency)
    assert result.requested_mw == -5.0 and result.mode == "charging"
    assert status.soc_mwh == pytest.approx(spec.soc_max_mwh)
    # Full: nothing more goes in.
    assert step(spec, status, -1.0, 20.0, 1.0).power_mw == 0.0
    # NaN is idle.
    assert step(spec, status, math.nan, 20.0, 1.0).mode == "idle"


def test_power_limits_follow_soc_and_budget():
    spec = BatterySpec(max_cycles_per_day=1.0)
    low, high = power_limits(spec, spec.soc_min_mwh, 1.0)
    assert high == 0.0 and low == -1.0
    low, high = power_limits(spec, spec.soc_max_mwh, 1.0, discharged_today_mwh=spec.usable_mwh)
    assert high == 0.0 and low == 0.0


def test_a_new_day_resets_the_cycle_budget():
    spec = BatterySpec(max_cycles_per_day=0.5)
    status = BatteryStatus(soc_mwh=spec.soc_max_mwh, day_number=0)
    assert step(spec, status, 1.0, 100.0, 1.0, day_number=0).power_mw > 0
    assert step(spec, status, 1.0, 100.0, 1.0, day_number=0).power_mw == 0.0
    assert step(spec, status, 1.0, 100.0, 1.0, day_number=1).power_mw > 0


def test_dispatch_log_sums_the_steps():
    spec = BatterySpec()
    status = BatteryStatus.initial(spec)
    record = DispatchLog()
    for request, price in [(-1, 10.0), (1, 90.0), (0, 50.0)]:
        record.add(step(spec, status, request, price, 1.0))
    assert record.net_revenue_eur == pytest.approx(status.net_revenue_eur)
    assert len(record.power_mw) == 3
