"""The gymnasium environment: valid, seeded, and the same observation as the live path."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from engine.battery.auction_calendar import AuctionCalendar
from engine.battery.dispatch import context_at
from engine.battery.observation import build_observation
from engine.battery.physics import BatterySpec, BatteryStatus
from engine.battery.price_series import PriceSeries, to_us
from models.battery.env import BatteryEnv, prepare_series, series_from_frame

START = datetime(2022, 3, 1, tzinfo=UTC)


def curve(days: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hours = np.arange(24 * days)
    return 90 + 50 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0, 15, len(hours))


@pytest.fixture(scope="module")
def prepared():
    spec = BatterySpec()
    grid = PriceSeries.from_points(
        "DE", to_us(START) + np.arange(24 * 10) * 3_600_000_000, curve(10)
    )
    return spec, prepare_series(spec, grid)


def test_passes_gymnasiums_env_checker(prepared):
    spec, data = prepared
    check_env(BatteryEnv([data], spec, episode_steps=48), skip_render_check=True)


def test_observations_are_what_the_live_policy_controller_builds(prepared):
    spec, data = prepared
    env = BatteryEnv([data], spec, evaluation=True)
    observation, _ = env.reset(seed=1)
    status = BatteryStatus.initial(spec, int(data.day_numbers[0]))
    rule_ends = AuctionCalendar().known_end(data.series)
    for t in range(60):
        live = build_observation(context_at(spec, data.series, rule_ends, t, status))
        np.testing.assert_array_equal(observation, live)
        action = np.array([np.sin(t)], dtype=np.float32)
        observation, _, _, _, info = env.step(action)
        status.soc_mwh = info["soc_mwh"]
        status.discharged_today_mwh = env._status.discharged_today_mwh
        status.day_number = env._status.day_number


def test_reward_is_net_revenue_over_the_episodes_price_scale(prepared):
    spec, data = prepared
    env = BatteryEnv([data], spec, evaluation=True)
    env.reset(seed=0)
    unit = data.scales.mean() * spec.power_mw * 1.0
    total_eur = 0.0
    for t in range(24):
        _, reward, terminated, _, info = env.step(np.array([1.0 if t % 2 else -1.0]))
        assert not terminated
        expected = info["net_revenue_eur"] / unit
        assert reward == pytest.approx(expected)
        assert info["net_revenue_eur"] == pytest.approx(
            info["revenue_eur"] - info["degradation_eur"]
        )
        total_eur += info["net_revenue_eur"]
    assert env._status.net_revenue_eur == pytest.approx(total_eur)


def test_training_episodes_are_random_windows_and_seeded(prepared):
    spec, data = prepared
    env = BatteryEnv([data], spec, episode_steps=24)
    first, _ = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    np.testing.assert_array_equal(first, again)
    steps = 0
    truncated = False
    while not truncated:
        _, _, _, truncated, _ = env.step(env.action_space.sample())
        steps += 1
    assert steps == 24
    evaluation = BatteryEnv([data], spec, evaluation=True)
    evaluation.reset()
    count = 0
    done = False
    while not done:
        _, _, _, done, _ = evaluation.step(np.zeros(1, dtype=np.float32))
        count += 1
    assert count == len(data)


def test_series_from_frame_cuts_by_delivery_day_and_splits_markets():
    times = pd.date_range("2021-12-30 23:00", periods=24 * 4, freq="h", tz="UTC")
    frame = pd.DataFrame(
        {
            "timestamp": np.tile(times, 2),
            "market": ["DE"] * len(times) + ["FR"] * len(times),
            "price_eur_mwh": np.arange(2 * len(times), dtype=float),
        }
    )
    found = series_from_frame(frame, ["FR", "DE", "NL"], start="2022-01-01", end="2022-01-02")
    assert [s.market for s in found] == ["FR", "DE"]
    assert all(len(s) == 24 for s in found)
    assert found[0].start_us == to_us(datetime(2021, 12, 31, 23, tzinfo=UTC))


def test_an_empty_env_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        BatteryEnv([], BatterySpec())
