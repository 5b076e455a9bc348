"""The battery strategy on the market timeline: day D committed at the gate, settled at delivery.

Clock of :mod:`tests.stubs.strategy_host`: delivery day D = 2021-03-02 runs
from hour 23 to 47 after T0, its gate closes at hour 11 and the strategy
commits it on its bar at hour 10. Prices follow the local hour of the day
(cheap nights, dear evenings), fed from hour −25 (the start of 02-28, local)
so that persistence has two whole days to read.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from engine.battery.physics import BatterySpec
from engine.events import AuditEntry, BatteryState, Event
from engine.strategies.battery import BatteryStrategy, BatteryStrategyConfig
from tests.stubs.strategy_host import (
    COSTS,
    DAY_D,
    GATE_BAR,
    T0,
    at,
    da,
    feed,
    fills_of,
    host,
    hours_of,
    settles_of,
)

SPEC = BatterySpec(battery_id="b1", market="DE", capacity_mwh=2.0, power_mw=1.0)
FIRST_HOUR = -25  # 2021-02-28 00:00 CET


def price(hour: int) -> float:
    """By local (CET) hour: 20 at night, 60 by day, 140 in the evening peak."""
    local = (hour + 1) % 24
    return 20.0 if local < 6 else 140.0 if 17 <= local < 21 else 60.0


def battery(**changes: object) -> BatteryStrategy:
    fields: dict[str, object] = {"spec": SPEC, "forecast": "persistence", **changes}
    config = BatteryStrategyConfig(**fields)  # type: ignore[arg-type]
    return BatteryStrategy(config, exchange_fee_eur_mwh=COSTS.fee_eur_mwh)


def run(strategy: BatteryStrategy, prices=price, until: int = DAY_D + 24) -> list[Event]:
    manager = host(strategy, execution=COSTS, start=at(FIRST_HOUR))
    ticks = [da("DE", prices(h), h) for h in range(FIRST_HOUR, until)] + [da("FR", 500.0, 30)]
    out = feed(manager, ticks)
    return out + manager.settle_until(at(until))


def of_day_d(events: list[Event]):
    return [t for t in fills_of(events) if DAY_D <= hours_of([t])[0] < DAY_D + 24]


def test_day_d_is_committed_at_the_gate_as_day_ahead_orders_and_filled_at_clearing():
    out = run(battery())
    fills = of_day_d(out)
    assert fills and all(t.product == "day_ahead" for t in fills)
    assert all(t.volume_mwh <= SPEC.power_mw + 1e-9 for t in fills)  # one hour at rated power
    buys = [t for t in fills if t.side == "buy"]
    sells = [t for t in fills if t.side == "sell"]
    assert {price(h) for h in hours_of(buys)} == {20.0}  # charges at night ...
    assert {price(h) for h in hours_of(sells)} == {140.0}  # ... sells the evening peak
    # Each fill at its own hour's clearing price, paying exchange fee + wear per MWh.
    for fill in fills:
        assert fill.price_eur_mwh == price(hours_of([fill])[0])
        wear = SPEC.degradation_eur_mwh
        assert fill.fee_eur == pytest.approx((COSTS.fee_eur_mwh + wear) * fill.volume_mwh)
    # Physical book: each delivered period settles for the money of its fills.
    settles = settles_of(out)
    assert all("delivered by b1" in s.reason for s in settles)
    cash = math.fsum(
        (t.price_eur_mwh if t.side == "sell" else -t.price_eur_mwh) * t.volume_mwh - t.fee_eur
        for t in fills_of(out)
    )
    assert math.fsum(s.pnl_eur for s in settles) == pytest.approx(cash)
    assert cash > 0


def test_nothing_published_after_the_gate_changes_the_orders_for_day_d():
    def later_changed(hour: int) -> float:
        return price(hour) if hour <= GATE_BAR else 1000.0 - 7.0 * (hour % 24)

    plans = []
    for prices in (price, later_changed):
        fills = of_day_d(run(battery(), prices))
        plans.append([(t.side, t.volume_mwh, t.delivery_start) for t in fills])
    assert plans[0] and plans[0] == plans[1]


def test_a_battery_started_after_the_gate_leaves_day_d_alone():
    strategy = battery()
    manager = host(strategy, execution=COSTS, start=at(GATE_BAR + 2))
    out = feed(manager, [da("DE", price(h), h) for h in range(FIRST_HOUR, DAY_D + 24)])
    assert of_day_d(out) == []
    assert manager.account(strategy.name).rejected == 0  # not tried and refused: not tried
    assert not [e for e in out if isinstance(e, AuditEntry) and e.action == "reject"]


def test_one_battery_state_per_delivered_hour_along_the_committed_plan():
    strategy = battery()
    out = run(strategy)
    states = [e for e in out if isinstance(e, BatteryState)]
    assert len(states) == DAY_D + 24 - FIRST_HOUR  # every DE hour, none for FR
    assert [s.ts for s in states] == [at(h) for h in range(FIRST_HOUR, DAY_D + 24)]
    assert all(SPEC.soc_min_mwh - 1e-9 <= s.soc_mwh <= SPEC.soc_max_mwh + 1e-9 for s in states)
    by_hour = {int((s.ts - T0) / timedelta(hours=1)): s for s in states}
    for fill in of_day_d(out):
        state = by_hour[hours_of([fill])[0]]
        signed = fill.volume_mwh if fill.side == "sell" else -fill.volume_mwh
        assert state.power_mw == pytest.approx(signed)  # the plan, delivered as filled
        assert state.mode == ("discharging" if signed > 0 else "charging")
    # Before anything was committed the battery idles at its initial charge.
    assert all(s.mode == "idle" and s.soc_mwh == SPEC.initial_soc_mwh for s in states[:10])
    # The SoC path follows the losses: charged energy reaches the cells at η.
    soc = SPEC.initial_soc_mwh
    for state in states:
        if state.power_mw < 0:
            soc -= state.power_mw * SPEC.charge_efficiency
        else:
            soc -= state.power_mw / SPEC.discharge_efficiency
        assert state.soc_mwh == pytest.approx(soc)
    # revenue_eur is the PnL settled before the state was emitted (charging costs first).
    settles = settles_of(out)
    for state in states:
        before = math.fsum(t.pnl_eur for t in settles if t.ts < state.ts)
        assert state.revenue_eur == pytest.approx(before)
    assert min(s.revenue_eur for s in states) < 0 < math.fsum(t.pnl_eur for t in settles)


def test_the_plan_counts_the_exchange_fee_like_the_wear_and_planners_are_selectable():
    assert battery().plan_spec.degradation_eur_mwh == pytest.approx(SPEC.degradation_eur_mwh + 0.1)
    assert battery().planner.name == "lp"
    rolled = battery(controller="rule", rule_lookback_hours=4, rule_lookahead_hours=6)
    assert rolled.planner.name == "rule"
    assert of_day_d(run(rolled))  # the rule rolled over the forecast commits a plan too
    with pytest.raises(ValueError, match="needs a policy"):
        BatteryStrategy(BatteryStrategyConfig(controller="rl"))


def test_weekly_falls_back_to_persistence_and_model_forecasts_drive_the_plan():
    # D−7 unknown: weekly takes the latest known day, so it commits what persistence does.
    weekly = [(t.side, t.volume_mwh) for t in of_day_d(run(battery(forecast="weekly")))]
    assert weekly and weekly == [(t.side, t.volume_mwh) for t in of_day_d(run(battery()))]
    from engine.events import Forecast

    strategy = battery(forecast="model")
    manager = host(strategy, execution=COSTS, start=at(FIRST_HOUR))
    # The forecaster (issued at hour 5) says D's dear hour is 03:00 local (hour 26).
    guesses = [
        Forecast(
            ts=at(5),
            market="DE",
            target_ts=at(h),
            horizon_steps=h - 5,
            price_eur_mwh=500.0 if h == DAY_D + 3 else 50.0,
        )
        for h in range(DAY_D, DAY_D + 24)
    ]
    ticks = [da("DE", 60.0, h) for h in range(FIRST_HOUR, DAY_D + 24)]
    out = feed(manager, sorted([*ticks, *guesses], key=lambda e: e.ts))
    sells = [t for t in of_day_d(out) if t.side == "sell"]
    assert hours_of(sells) == [DAY_D + 3]
