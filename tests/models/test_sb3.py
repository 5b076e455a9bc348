"""Training (seconds, not minutes): clone + PPO/SAC, export to ONNX, parity with SB3."""

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from engine.battery.dispatch import run_controller
from engine.battery.observation import OBSERVATION_SIZE
from engine.battery.physics import BatterySpec
from engine.battery.policy_controller import PolicyController
from engine.battery.price_series import PriceSeries, to_us
from models.battery.env import prepare_series
from models.battery.policy import OnnxPolicy
from models.training.behaviour_cloning import act_fn
from models.training.imitation import plan_labels, rollout_states, state_labels
from models.training.policy_export import export_onnx, max_export_error
from models.training.sb3 import train_policy
from models.training.sb3_config import TrainConfig

START = datetime(2021, 5, 3, tzinfo=UTC)
TINY: dict[str, Any] = {
    "timesteps": 256,
    "n_envs": 2,
    "episode_steps": 24,
    "hidden": 32,
    "soc_levels": 2,
    "dagger_rounds": 1,
    "dagger_every": 12,
    "bc_epochs": 3,
    "rollout_steps": 64,
    "torch_threads": 1,
}


@pytest.fixture(scope="module")
def prepared():
    rng = np.random.default_rng(0)
    hours = np.arange(24 * 6)
    prices = 80 + 45 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0, 10, len(hours))
    spec = BatterySpec()
    grid = PriceSeries.from_points("DE", to_us(START) + hours * 3_600_000_000, prices)
    return spec, [prepare_series(spec, grid)]


def observations(data, n=200):
    n = min(n, len(data.features))
    rng = np.random.default_rng(1)
    soc = rng.uniform(0, 1, (n, 2)).astype(np.float32)
    return np.concatenate([soc, data.features[:n]], axis=1)


def test_plan_labels_are_mpc_actions_in_bounds(prepared):
    spec, (data,) = prepared
    obs, actions = plan_labels(spec, data, soc_levels=2)
    assert obs.shape[1] == OBSERVATION_SIZE and len(obs) == len(actions) >= len(data)
    assert np.all(np.abs(actions) <= 1 + 1e-9) and np.any(actions > 0.5) and np.any(actions < -0.5)
    visited = rollout_states(spec, data, lambda o: np.zeros(len(o), dtype=np.float32), every=10)
    obs2, labels2 = state_labels(spec, data, visited)
    assert len(obs2) == len(visited) == len(labels2)


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_tiny_training_exports_an_onnx_actor_equal_to_sb3_predict(prepared, tmp_path, algo):
    spec, data = prepared
    result = train_policy(data, spec, TrainConfig(algo=algo, **TINY))
    path = export_onnx(result.model, tmp_path / "policy.onnx")
    obs = observations(data[0])
    assert max_export_error(result.model, path, obs) <= 1e-5
    policy = OnnxPolicy(path, "tiny")
    actions = policy.act_batch(obs * 50)  # far outside the training range: still clipped
    assert np.all(np.abs(actions) <= 1.0)
    # The torch and ONNX actors agree, and the engine can run the ONNX one.
    np.testing.assert_allclose(act_fn(result.model)(obs), policy.act_batch(obs), atol=1e-5)
    run = run_controller(spec, data[0].series, PolicyController(policy))
    assert np.isfinite(run.net_revenue_eur)


def test_the_clone_learns_to_trade_and_the_same_seed_gives_the_same_policy(prepared, tmp_path):
    spec, data = prepared
    config = TrainConfig(**{**TINY, "timesteps": 0, "bc_epochs": 40, "dagger_rounds": 0})
    first = train_policy(data, spec, config)
    second = train_policy(data, spec, config)
    obs = observations(data[0])
    np.testing.assert_array_equal(act_fn(first.model)(obs), act_fn(second.model)(obs))
    policy = OnnxPolicy(export_onnx(first.model, tmp_path / "clone.onnx"))
    run = run_controller(spec, data[0].series, PolicyController(policy))
    assert run.net_revenue_eur > 0  # a random or idle actor would not be
