"""Training battery policies with stable-baselines3, and their export to ONNX.

The recipe (``gridtui train battery`` runs it; every stage is seeded):

1. **Imitation warm start.** Label what the MPC does (``imitation.plan_labels``)
   and fit the actor to it by regression (behaviour cloning); then
   ``dagger_rounds`` times run the clone over the training series, label the
   states *it* visits with the MPC's action (``imitation.state_labels``) and
   refit on everything. An MLP cannot run an LP, but it can learn what the LP
   answers on the observation, which includes every published price.
2. **Reinforcement learning fine-tune** with PPO (default) or SAC on the
   vectorised :class:`models.battery.env.BatteryEnv`, starting from the clone.
   The critic starts from scratch, so for the first ``critic_warmup`` share of
   the steps the actor is frozen and only the critic learns — otherwise its
   first, random value estimates would push the actor off the clone. PPO starts
   with a small exploration noise (``log_std_init``), a small learning rate and
   clip range; SAC's actor and critic have their own optimisers.
3. **Export**: the actor alone, deterministic, clipped to [−1, 1] inside the
   graph, as ONNX (:func:`~models.training.policy_export.export_onnx`); checked
   against SB3's ``predict`` (:func:`~models.training.policy_export.max_export_error`)
   before it is saved.

Why not RL from scratch: the published-price MPC sits within 0.3 % of perfect
foresight, and PPO from a random actor spends millions of steps rediscovering
"charge at the cheap hours, discharge at the dear ones" (published results near
60 % of perfect foresight). Cloning the MPC gets the policy to the right region
at once; RL then optimises the real objective (net revenue after clipping and
degradation) where the clone is unsure.

Here: the SB3 model (:func:`build_model`), the RL callbacks and the recipe
(:func:`train_policy`). Its settings are :mod:`models.training.sb3_config`, the
cloning :mod:`models.training.behaviour_cloning`, the export
:mod:`models.training.policy_export`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import set_random_seed
from torch import nn

from engine.battery.optimum import solve_schedule
from engine.battery.physics import BatterySpec
from models.battery.env import BatteryEnv, PreparedSeries
from models.training.behaviour_cloning import act_fn, actor_parameters, behaviour_clone
from models.training.imitation import (
    plan_labels,
    rollout_net_revenue,
    rollout_states,
    state_labels,
)
from models.training.sb3_config import ALGOS, Algo, Progress, TrainConfig, TrainResult


def build_model(
    algo: Algo, prepared: Sequence[PreparedSeries], spec: BatterySpec, config: TrainConfig
) -> BaseAlgorithm:
    """A fresh SB3 model on ``n_envs`` vectorised environments, seeded."""
    set_random_seed(config.seed)

    def make() -> BatteryEnv:
        return BatteryEnv(prepared, spec, episode_steps=config.episode_steps)

    env = make_vec_env(make, n_envs=config.n_envs, seed=config.seed)
    width = [config.hidden, config.hidden]
    if algo == "ppo":
        return PPO(
            "MlpPolicy",
            env,
            learning_rate=config.rl_learning_rate,
            n_steps=config.rollout_steps,
            batch_size=min(512, config.rollout_steps * config.n_envs),
            n_epochs=5,
            gamma=0.99,
            gae_lambda=0.95,
            clip_range=0.1,
            ent_coef=0.0,
            target_kl=0.02,
            policy_kwargs={
                "net_arch": {"pi": width, "vf": width},
                "activation_fn": nn.ReLU,
                "log_std_init": config.log_std_init,
                "ortho_init": False,
            },
            seed=config.seed,
            device="cpu",
            verbose=0,
        )
    if algo == "sac":
        return SAC(
            "MlpPolicy",
            env,
            learning_rate=config.rl_learning_rate * 5,
            buffer_size=max(config.timesteps, 1_000),
            learning_starts=min(2_000, max(config.timesteps // 10, 1)),
            batch_size=256,
            train_freq=4,
            gradient_steps=2,
            gamma=0.99,
            ent_coef="auto_0.01",  # rewards are ~0.1 per step: start the entropy bonus small
            policy_kwargs={
                "net_arch": {"pi": width, "qf": width},
                "activation_fn": nn.ReLU,
            },
            seed=config.seed,
            device="cpu",
            verbose=0,
        )
    raise ValueError(f"unknown algorithm {algo!r}: use one of {', '.join(ALGOS)}")


class _FreezeActor(BaseCallback):
    """Keeps the actor frozen for the first ``steps`` environment steps (critic warm-up)."""

    def __init__(self, params: list[nn.Parameter], steps: int) -> None:
        super().__init__()
        self.params = params
        self.steps = steps
        self.frozen = False

    def _set(self, frozen: bool) -> None:
        for param in self.params:
            param.requires_grad_(not frozen)
        self.frozen = frozen

    def _on_training_start(self) -> None:
        self._set(self.steps > 0)

    def _on_step(self) -> bool:
        if self.frozen and self.num_timesteps >= self.steps:
            self._set(False)
        return True

    def _on_training_end(self) -> None:
        self._set(False)


class _Report(BaseCallback):
    def __init__(self, progress: Progress | None, total: int) -> None:
        super().__init__()
        self.progress = progress
        self.total = total

    def _on_step(self) -> bool:
        if self.progress is not None and self.n_calls % 256 == 0:
            self.progress("rl", min(self.num_timesteps, self.total), self.total)
        return True

    def _on_training_end(self) -> None:
        if self.progress is not None:
            self.progress("rl", self.total, self.total)


class Validator:
    """Scores a model's deterministic policy: mean share of perfect foresight.

    On the last ``days`` of each training series, from the battery's initial
    state, with the same physics and observations as everywhere else. Used to
    pick the best RL checkpoint (the clone itself is one candidate), so the RL
    fine-tune can only keep what it improved.
    """

    def __init__(self, spec: BatterySpec, prepared: Sequence[PreparedSeries], days: int) -> None:
        self.spec = spec
        self.cases: list[tuple[PreparedSeries, int, float]] = []
        for one in prepared:
            start = max(len(one) - days * one.series.steps_per_day, 0)
            best = solve_schedule(spec, one.series.prices[start:], one.series.dt_h)
            if best.net_revenue_eur > 0:
                self.cases.append((one, start, best.net_revenue_eur))

    def __call__(self, model: BaseAlgorithm) -> float:
        if not self.cases:
            return math.nan
        act = act_fn(model)
        shares = [
            rollout_net_revenue(self.spec, one, act, start=start) / best
            for one, start, best in self.cases
        ]
        return float(np.mean(shares))


class _KeepBest(BaseCallback):
    """Scores the policy every ``every`` steps; at the end, restores the best weights."""

    def __init__(self, validator: Validator, every: int, result: TrainResult) -> None:
        super().__init__()
        self.validator = validator
        self.every = max(every, 1)
        self.result = result
        self.next_at = self.every
        self.best_score = -math.inf
        self.best_state: dict[str, Any] | None = None

    def consider(self, timesteps: int) -> None:
        score = self.validator(self.model)
        self.result.history.append({"timesteps": float(timesteps), "validation_share": score})
        if score > self.best_score:
            self.best_score = score
            self.best_state = copy.deepcopy(self.model.policy.state_dict())
            self.result.best_timesteps = timesteps

    def _on_training_start(self) -> None:
        self.consider(0)  # the clone

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_at:
            self.next_at += self.every
            self.consider(self.num_timesteps)
        return True

    def _on_training_end(self) -> None:
        self.consider(self.num_timesteps)
        if self.best_state is not None:
            self.model.policy.load_state_dict(self.best_state)


def train_policy(
    prepared: Sequence[PreparedSeries],
    spec: BatterySpec,
    config: TrainConfig,
    progress: Progress | None = None,
) -> TrainResult:
    """Clone the MPC, fine-tune with RL; the trained SB3 model (see the module doc)."""
    if not prepared:
        raise ValueError("no training series")
    if config.torch_threads > 0:
        torch.set_num_threads(config.torch_threads)
    model = build_model(config.algo, prepared, spec, config)
    result = TrainResult(model, config)
    batches_obs: list[npt.NDArray[np.float32]] = []
    batches_act: list[npt.NDArray[np.float32]] = []
    for i, series in enumerate(prepared):
        obs, act = plan_labels(
            spec,
            series,
            soc_levels=config.soc_levels,
            extension_hours=config.extension_hours,
            seed=config.seed + i,
        )
        batches_obs.append(obs)
        batches_act.append(act)
        if progress is not None:
            progress("labels", i + 1, len(prepared))
    observations, actions = np.concatenate(batches_obs), np.concatenate(batches_act)
    result.clone_loss = behaviour_clone(model, observations, actions, config, progress)
    for round_number in range(config.dagger_rounds):
        clone = act_fn(model)
        for i, series in enumerate(prepared):
            visited = rollout_states(spec, series, clone, every=config.dagger_every)
            obs, labels = state_labels(
                spec, series, visited, extension_hours=config.extension_hours
            )
            batches_obs.append(obs)
            batches_act.append(labels)
            if progress is not None:
                progress(f"dagger {round_number + 1}", i + 1, len(prepared))
        observations, actions = np.concatenate(batches_obs), np.concatenate(batches_act)
        result.clone_loss = behaviour_clone(model, observations, actions, config, progress)
    result.samples = len(observations)
    if config.timesteps > 0:
        warmup = int(config.critic_warmup * config.timesteps)
        model.learn(
            total_timesteps=config.timesteps,
            callback=[
                _FreezeActor(actor_parameters(model), warmup),
                _KeepBest(Validator(spec, prepared, config.eval_days), config.eval_every, result),
                _Report(progress, config.timesteps),
            ],
        )
    return result


__all__ = ["build_model", "train_policy"]
