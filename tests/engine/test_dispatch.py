"""Dispatch: the information set, the backtest loop, the rule, the MPC (the live fleet:
tests/engine/test_battery_fleet.py)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from engine.battery.auction_calendar import AuctionCalendar
from engine.battery.controller import DecisionContext, seasonal_naive
from engine.battery.dispatch import run_controller
from engine.battery.mpc import ForecasterExtender, MpcController
from engine.battery.observation import OBSERVATION_SIZE, build_observation
from engine.battery.optimum import solve_schedule
from engine.battery.physics import BatterySpec
from engine.battery.policy_controller import PolicyController
from engine.battery.price_series import PriceSeries, from_us, to_us
from engine.battery.threshold import RuleController

WINTER = datetime(2022, 1, 10, tzinfo=UTC)  # CET = UTC+1
HOUR_US = 3_600_000_000


def daily_prices(days: int, seed: int = 0):
    """A day-shaped price curve with noise: cheap nights and middays, dear evenings."""
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    shape = 80 + 40 * np.sin(2 * np.pi * (hours - 10) / 24) + 20 * np.sin(4 * np.pi * hours / 24)
    return shape + rng.normal(0, 10, len(hours))


def series(prices, start=WINTER, market="DE"):
    times = to_us(start) + np.arange(len(prices)) * HOUR_US
    return PriceSeries.from_points(market, times, prices)


class Spy:
    """A controller that records what it was shown and idles."""

    name = "spy"

    def __init__(self):
        self.seen = []

    def decide(self, context: DecisionContext) -> float:
        self.seen.append(context)
        return 0.0


def test_from_points_fills_missing_steps_from_the_day_before():
    prices = np.arange(72, dtype=float)
    times = to_us(WINTER) + np.arange(72) * HOUR_US
    keep = np.ones(72, dtype=bool)
    keep[30:34] = False
    grid = PriceSeries.from_points("DE", times[keep], prices[keep])
    assert len(grid) == 72 and grid.filled.sum() == 4
    np.testing.assert_array_equal(grid.prices[30:34], prices[6:10])
    assert grid.dt_h == 1.0 and grid.steps_per_day == 24


def test_tomorrow_is_known_from_the_13_00_local_step_on():
    grid = series(daily_prices(3))
    known_end = AuctionCalendar().known_end(grid)
    # 2022-01-10 00:00Z is 01:00 CET; the delivery day ends at 23:00Z.
    assert known_end[0] == 23
    assert known_end[11] == 23  # 12:00 CET: only today
    assert known_end[12] == 47  # 13:00 CET: tomorrow too
    summer = series(daily_prices(3), start=datetime(2022, 7, 10, tzinfo=UTC))
    summer_end = AuctionCalendar().known_end(summer)
    assert summer_end[10] == 22 and summer_end[11] == 46  # CEST: 13:00 local is 11:00Z


def test_last_known_instant_matches_the_backtest_rule():
    rule = AuctionCalendar()
    at_noon = to_us(datetime(2022, 1, 10, 11, tzinfo=UTC))  # 12:00 CET
    assert from_us(rule.last_known_us(at_noon)) == datetime(2022, 1, 10, 23, tzinfo=UTC)
    at_one = at_noon + HOUR_US
    assert from_us(rule.last_known_us(at_one)) == datetime(2022, 1, 11, 23, tzinfo=UTC)


def test_a_controller_never_sees_an_unpublished_price():
    grid = series(daily_prices(4))
    known_end = AuctionCalendar().known_end(grid)
    spy = Spy()
    run_controller(BatterySpec(), grid, spy, known_end=known_end)
    assert len(spy.seen) == len(grid)
    for t, context in enumerate(spy.seen):
        first = t - context.now
        assert first + len(context.prices) == known_end[t]
        assert context.prices[context.now] == grid.prices[t]
        assert context.now <= 7 * 24


def hourly_context(
    prices: np.ndarray, *, now: int, soc_mwh: float = 1.0, spec: BatterySpec | None = None
) -> DecisionContext:
    """A decision on an hourly winter grid, nothing discharged yet today."""
    return DecisionContext(
        spec=spec or BatterySpec(),
        soc_mwh=soc_mwh,
        discharged_today_mwh=0.0,
        step_us=to_us(WINTER),
        step_minutes=60,
        prices=prices,
        now=now,
    )


def test_seasonal_naive_repeats_the_last_published_day():
    prices = np.arange(30, dtype=float)
    context = hourly_context(prices, now=20)
    path = seasonal_naive(context, 40)
    np.testing.assert_array_equal(path[:10], prices[20:30])
    np.testing.assert_array_equal(path[10:34], prices[6:30])  # one day back
    np.testing.assert_array_equal(path[34:], prices[6:12])  # two days back


def test_mpc_over_published_prices_is_close_to_perfect_foresight():
    spec = BatterySpec()
    grid = series(daily_prices(14, seed=1))
    optimum = solve_schedule(spec, grid.prices, 1.0).net_revenue_eur
    mpc = MpcController()
    run = run_controller(spec, grid, mpc)
    assert run.net_revenue_eur >= 0.97 * optimum
    # It replans once per auction (and at the start), not every step.
    assert mpc.solves <= 16


def test_mpc_plans_are_consistent_between_auctions():
    spec = BatterySpec()
    grid = series(daily_prices(5, seed=2))
    lazy = run_controller(spec, grid, MpcController())
    eager = run_controller(spec, grid, MpcController(replan="every_step"))
    assert lazy.net_revenue_eur == pytest.approx(eager.net_revenue_eur, rel=1e-3)


def test_mpc_with_a_forecaster_uses_its_forecasts_beyond_the_published_prices():
    from engine.events import Forecast

    class Flat:
        model_id = "flat"

        def __init__(self):
            self.calls = 0

        def forecast(self, history, now_ts):
            self.calls += 1
            last = history[-1].ts
            return [
                Forecast(
                    ts=now_ts,
                    market="DE",
                    target_ts=last + timedelta(hours=h),
                    horizon_steps=h,
                    price_eur_mwh=999.0,
                )
                for h in range(1, 30)
            ]

    forecaster = Flat()
    extend = ForecasterExtender(forecaster, "DE")
    grid = series(daily_prices(3))
    context = hourly_context(grid.prices[:23], now=0)
    path = extend(context, 40)
    np.testing.assert_array_equal(path[:23], grid.prices[:23])
    assert np.all(path[23:] == 999.0) and forecaster.calls == 1

    class Broken:
        model_id = "broken"

        def forecast(self, history, now_ts):
            raise RuntimeError("model file vanished")

    fallback = ForecasterExtender(Broken(), "DE")
    np.testing.assert_array_equal(fallback(context, 40), seasonal_naive(context, 40))
    assert fallback.failures == 1


def test_the_rule_charges_low_and_discharges_high():
    rule = RuleController(lookback_hours=4, lookahead_hours=4)
    prices = np.array([50, 50, 50, 50, 10, 50, 50, 50, 50], dtype=float)
    context = hourly_context(prices, now=4)
    assert rule.decide(context) == -1.0
    high = hourly_context(-prices, now=4)
    assert rule.decide(high) == 1.0
    with pytest.raises(ValueError, match="quantile"):
        RuleController(charge_quantile=0.9, discharge_quantile=0.1)


def test_every_policy_earns_less_than_perfect_foresight():
    spec = BatterySpec()
    grid = series(daily_prices(10, seed=4))
    optimum = solve_schedule(spec, grid.prices, 1.0).net_revenue_eur
    for controller in (RuleController(), MpcController()):
        assert run_controller(spec, grid, controller).net_revenue_eur <= optimum + 1e-6


class FixedPolicy:
    policy_id = "fixed"

    def __init__(self, action):
        self.action = action
        self.observations = []

    def act(self, observation):
        self.observations.append(observation)
        return self.action


def test_policy_controller_scales_and_clips_the_policys_answer():
    spec = BatterySpec(power_mw=2.0, capacity_mwh=4.0)
    context = hourly_context(daily_prices(2), now=30, soc_mwh=2.0, spec=spec)
    policy = FixedPolicy(5.0)
    assert PolicyController(policy).decide(context) == 2.0
    assert policy.observations[0].shape == (OBSERVATION_SIZE,)
    np.testing.assert_array_equal(policy.observations[0], build_observation(context))
    assert PolicyController(FixedPolicy(-0.25)).decide(context) == -0.5
    assert PolicyController(FixedPolicy(float("nan"))).decide(context) == 0.0


def test_observation_is_bounded_and_blind_to_unpublished_prices():
    prices = daily_prices(3) * 10  # a crisis-level curve: normalisation keeps it in range
    context = hourly_context(prices[:40], now=30)
    observation = build_observation(context)
    assert observation.dtype == np.float32 and np.all(np.abs(observation) <= 10)
    changed = hourly_context(prices[:40].copy(), now=30)
    assert np.array_equal(build_observation(changed), observation)
