"""The live battery fleet: each day committed at the day-ahead gate, delivered along the plan.

A live feed publishes day D's prices at ~12:45 CET on D−1, ahead of the
clock; the fleet commits D at 11:00 CET on D−1 from what is published then
(all of D−1), so its persistence battery is ``run_committed`` of ``eval
battery``'s "lp on persistence (D-1)" row, to the cent.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from engine.battery.commitment import ControllerPlanner, run_committed
from engine.battery.costs import trading_spec
from engine.battery.fleet import BatteryFleet, BatteryUnit
from engine.battery.gate_forecast import lagged_forecast
from engine.battery.physics import BatterySpec
from engine.battery.price_series import PriceSeries, to_us
from engine.battery.threshold import RuleController
from engine.events import BatteryState, Event, Forecast, PriceKind, PriceTick

BRUSSELS = ZoneInfo("Europe/Brussels")
FIRST_DAY = date(2022, 3, 21)  # a week across the spring-forward day (03-27)
DAYS = 8
FEE = 0.1


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BRUSSELS).astimezone(UTC)


def day_prices(day: date, seed: int) -> list[tuple[datetime, float]]:
    """One local day of hourly prices (23 or 25 hours at the DST changes)."""
    start, end = local(day), local(day + timedelta(days=1))
    hours = int((end - start) / timedelta(hours=1))
    rng = np.random.default_rng(seed)
    shape = 70 + 40 * np.sin(2 * np.pi * (np.arange(hours) - 9) / 24)
    return [
        (start + timedelta(hours=h), round(float(p), 2))
        for h, p in enumerate(shape + rng.normal(0, 15, hours))
    ]


def ticks(market: str, points: list[tuple[datetime, float]]) -> list[PriceTick]:
    return [
        PriceTick(
            ts=ts, market=market, price_eur_mwh=p, kind=PriceKind.DAY_AHEAD, delivery_minutes=60
        )
        for ts, p in points
    ]


def live(
    fleet: BatteryFleet, days: dict[date, list[tuple[datetime, float]]], market: str = "DE"
) -> list[BatteryState]:
    """Run ``fleet`` hour by hour; each day's prices are published at 12:45 local the day before."""
    first = min(days)
    now = local(first)
    out: list[Event] = list(fleet.on_events(ticks(market, days[first]), now))
    end = local(max(days) + timedelta(days=1))
    while now < end:
        for minute in (0, 45):
            at = now + timedelta(minutes=minute)
            tomorrow = at.astimezone(BRUSSELS).date() + timedelta(days=1)
            if at == local(tomorrow - timedelta(days=1), 12, 45) and tomorrow in days:
                out += fleet.on_events(ticks(market, days[tomorrow]), at)
            else:
                out += fleet.on_timer(at)
        now += timedelta(hours=1)
    return [e for e in out if isinstance(e, BatteryState)]


def week(seed: int = 0) -> dict[date, list[tuple[datetime, float]]]:
    return {FIRST_DAY + timedelta(days=k): day_prices(FIRST_DAY + timedelta(days=k), seed + k)
            for k in range(DAYS)}  # fmt: skip


def test_a_persistence_battery_is_evals_committed_persistence_row_to_the_cent():
    spec = BatterySpec(battery_id="bess-de", market="DE")
    days = week()
    states = live(BatteryFleet([BatteryUnit(spec, forecast="persistence")], fee_eur_mwh=FEE), days)
    points = [point for day in sorted(days) for point in days[day]]
    series = PriceSeries.from_points("DE", [to_us(t) for t, _ in points], [p for _, p in points])
    run = run_committed(trading_spec(spec, FEE), series, lagged_forecast(series, 1))
    assert len(states) == len(series)  # one state per delivered hour, the first day idle
    assert [s.ts for s in states] == [t for t, _ in points]
    assert all(s.mode == "idle" for s in states[:24])  # started after the first day's gate
    assert abs(states[-1].revenue_eur - run.net_revenue_eur) < 0.005
    assert np.allclose([s.power_mw for s in states], run.power_mw)
    assert np.allclose([s.soc_mwh for s in states], run.soc_mwh)
    assert run.net_revenue_eur > 0


def test_prices_published_after_the_gate_change_nothing_of_that_days_plan():
    spec = BatterySpec(battery_id="bess-de", market="DE")
    days = week()
    changed = dict(days)
    last = max(days)
    changed[last] = [(ts, 500.0 - p) for ts, p in days[last]]  # published after its gate
    plans = []
    for prices in (days, changed):
        states = live(BatteryFleet([BatteryUnit(spec, forecast="persistence")]), prices)
        plans.append([s.power_mw for s in states if s.ts >= local(last)])
    assert any(plans[0]) and plans[0] == plans[1]


def test_each_battery_trades_its_own_market_with_its_own_planner_and_forecast():
    de = BatterySpec(battery_id="bess-de", market="DE")
    fr = BatterySpec(battery_id="bess-fr", market="FR", initial_soc_fraction=0.1)
    fleet = BatteryFleet(
        [
            BatteryUnit(de, forecast="persistence"),
            BatteryUnit(fr, ControllerPlanner(RuleController())),
        ]
    )
    days = week()
    out: list[Event] = []
    for market in ("DE", "FR"):
        out += fleet.on_events(
            ticks(market, [pt for d in sorted(days) for pt in days[d]]), local(FIRST_DAY)
        )
    for hour in range(1, DAYS * 24):
        out += fleet.on_timer(local(FIRST_DAY) + timedelta(hours=hour))
    states = [e for e in out if isinstance(e, BatteryState)]
    assert {s.battery_id for s in states} == {"bess-de", "bess-fr"}
    assert all(0.1 - 1e-9 <= s.soc_fraction <= 0.9 + 1e-9 for s in states)
    # FR plans on weekly naive (the default), persistence until D−7 is published.
    second = local(FIRST_DAY + timedelta(days=1))
    fr_moves = [s.ts for s in states if s.battery_id == "bess-fr" and s.mode != "idle"]
    assert fr_moves and min(fr_moves) >= second
    assert any(s.mode != "idle" for s in states if s.battery_id == "bess-de")
    with pytest.raises(ValueError, match="unique"):
        BatteryFleet([BatteryUnit(de), BatteryUnit(de)])


def test_model_forecasts_drive_the_plan_and_a_failing_planner_idles_its_battery(caplog):
    spec = BatterySpec(battery_id="bess-de", market="DE")
    fleet = BatteryFleet([BatteryUnit(spec, forecast="model")])
    day = FIRST_DAY + timedelta(days=1)
    dear = local(day, 19)
    guesses = [
        Forecast(ts=local(FIRST_DAY, 9), market="DE", target_ts=ts, horizon_steps=1,
                 price_eur_mwh=400.0 if ts == dear else 40.0)
        for ts, _ in day_prices(day, 0)
    ]  # fmt: skip
    states = live_with(
        fleet, guesses, {FIRST_DAY: day_prices(FIRST_DAY, 0), day: day_prices(day, 1)}
    )
    selling = [s.ts for s in states if s.mode == "discharging"]
    assert selling == [dear]

    class Broken:
        name = "broken"

        def plan(self, view):
            raise RuntimeError("boom")

    broken = BatteryFleet([BatteryUnit(spec, Broken(), forecast="persistence")])
    with caplog.at_level(logging.ERROR):
        states = live(broken, {FIRST_DAY: day_prices(FIRST_DAY, 0), day: day_prices(day, 1)})
    assert "planner broken failed" in caplog.text
    assert states and all(s.mode == "idle" and s.power_mw == 0.0 for s in states)


def live_with(fleet: BatteryFleet, forecasts: list[Forecast], days) -> list[BatteryState]:
    fleet.on_events(forecasts, forecasts[0].ts)
    return live(fleet, days)


def test_a_committed_step_waits_for_its_price_then_settles_at_zero_with_a_warning(caplog):
    spec = BatterySpec(battery_id="bess-de", market="DE")
    fleet = BatteryFleet([BatteryUnit(spec, forecast="persistence")])
    day = FIRST_DAY + timedelta(days=1)
    fleet.on_events(ticks("DE", day_prices(FIRST_DAY, 0)), local(FIRST_DAY, 10))
    fleet.on_timer(local(FIRST_DAY, 11))  # committed at 11:00; D's prices never published
    waiting = fleet.on_timer(local(day))  # the rest of today, idle (nothing committed) ...
    assert waiting and all(s.ts < local(day) for s in waiting)  # ... D waits for its price
    with caplog.at_level(logging.WARNING):
        (state,) = fleet.on_timer(local(day, 1))
    assert state.ts == local(day) and fleet.units[0].unpriced == 1
    assert "no clearing price" in caplog.text
