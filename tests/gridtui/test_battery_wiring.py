"""gridtui.wiring builds the battery fleet and the battery strategy from the settings.

Every fleet battery commits its day at the day-ahead gate; ``battery.controller``
picks the day planner (the LP by default, a controller rolled over the
forecast otherwise) and ``battery.forecast`` what it plans on. Without an RL
policy the fleet and the strategy plan with the LP and say so.
"""

from __future__ import annotations

from engine.battery.commitment import ControllerPlanner, LpPlanner
from engine.battery.fleet import BatteryFleet
from engine.battery.policy_controller import PolicyController
from engine.battery.threshold import RuleController
from engine.strategies.battery import BatteryStrategy
from gridtui.settings.loader import load_settings
from gridtui.wiring import build_components, build_strategies

FLEET = [
    {"battery_id": "bess-de", "market": "DE"},
    {"battery_id": "bess-fr", "market": "FR", "capacity_mwh": 4.0, "power_mw": 2.0},
]


def fleet_of(settings) -> BatteryFleet:
    (fleet,) = [c for c in build_components(settings) if isinstance(c, BatteryFleet)]
    return fleet


def test_the_fleet_plans_with_the_lp_by_default_and_counts_the_exchange_fee(tmp_path):
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "battery": {"fleet": FLEET},
            "strategies": {"execution": {"fee_eur_mwh": 0.25}},
        },
    )
    fleet = fleet_of(settings)
    assert [u.spec.battery_id for u in fleet.units] == ["bess-de", "bess-fr"]
    assert all(isinstance(u.planner, LpPlanner) for u in fleet.units)
    assert all(u.forecast == "weekly" for u in fleet.units)
    assert fleet.units[1].spec.capacity_mwh == 4.0
    assert fleet.fee_eur_mwh == 0.25


def test_rule_and_rl_are_rolled_over_the_forecast_and_no_policy_falls_back_to_the_lp(
    tmp_path, caplog
):
    rule = load_settings(
        environ={},
        overrides={
            "battery": {"fleet": FLEET[:1], "controller": "rule", "forecast": "persistence"}
        },
    )
    (unit,) = fleet_of(rule).units
    assert isinstance(unit.planner, ControllerPlanner)
    assert isinstance(unit.planner.controller, RuleController) and unit.forecast == "persistence"
    shipped = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "battery": {"controller": "rl"}}
    )
    units = fleet_of(shipped).units
    assert [u.spec.battery_id for u in units] == ["bess-de", "bess-nl"]  # the default fleet
    assert all(isinstance(u.planner.controller, PolicyController) for u in units)  # type: ignore[attr-defined]
    missing = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "battery": {"fleet": FLEET, "controller": "rl", "policy": "no-such-policy"},
        },
    )
    assert all(isinstance(u.planner, LpPlanner) for u in fleet_of(missing).units)
    assert "planning with the LP" in caplog.text


def test_no_fleet_and_batteries_outside_the_markets_are_left_out():
    none = load_settings(environ={}, overrides={"battery": {"fleet": []}})
    assert not [c for c in build_components(none) if isinstance(c, BatteryFleet)]
    elsewhere = load_settings(environ={}, overrides={"markets": ["FR", "BE"]})
    assert not [c for c in build_components(elsewhere) if isinstance(c, BatteryFleet)]


def test_the_battery_strategy_is_told_the_exchange_fee_its_fills_pay(tmp_path):
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "strategies": {"execution": {"fee_eur_mwh": 0.25}, "battery": {"controller": "rl"}},
            "battery": {"policy": "no-such-policy"},
        },
    )
    (strategy,) = build_strategies(settings, ["battery"])
    assert isinstance(strategy, BatteryStrategy)
    wear = strategy.spec.degradation_eur_mwh
    assert strategy.plan_spec.degradation_eur_mwh == wear + 0.25
    assert strategy.settings.controller == "lp"  # no policy: the LP plans
