"""Behaviour cloning: fitting an SB3 model's actor to the MPC's actions.

The labels come from :mod:`models.training.imitation`; this module reaches into
the actor of a PPO or SAC policy (:func:`actor_parameters`, :func:`mean_action`),
fits it by regression (:func:`behaviour_clone`) and runs it deterministically
with torch (:func:`act_fn`, for DAgger roll-outs and validation).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

from models.training.sb3_config import Progress, TrainConfig


def actor_parameters(model: BaseAlgorithm) -> list[nn.Parameter]:
    """The parameters behaviour cloning fits and the critic warm-up freezes."""
    policy = model.policy
    if isinstance(policy, ActorCriticPolicy):
        return [
            *policy.mlp_extractor.policy_net.parameters(),
            *policy.action_net.parameters(),
            policy.log_std,
        ]
    if isinstance(policy, SACPolicy):
        return list(policy.actor.parameters())
    raise TypeError(f"no actor known for {type(policy).__name__}")


def mean_action(model: BaseAlgorithm, observations: torch.Tensor) -> torch.Tensor:
    """The deterministic action, differentiable, before clipping (PPO) or after tanh (SAC)."""
    policy = model.policy
    if isinstance(policy, ActorCriticPolicy):
        features = policy.pi_features_extractor(observations)
        latent = policy.mlp_extractor.forward_actor(features)
        mean: torch.Tensor = policy.action_net(latent)
        return mean
    if isinstance(policy, SACPolicy):
        squashed: torch.Tensor = policy.actor(observations, deterministic=True)
        return squashed
    raise TypeError(f"no actor known for {type(policy).__name__}")


def act_fn(model: BaseAlgorithm) -> Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]:
    """Deterministic actions in [−1, 1] for a batch of observations, with torch."""

    def act(observations: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        with torch.no_grad():
            tensor = torch.as_tensor(observations, dtype=torch.float32)
            action = mean_action(model, tensor).clamp(-1.0, 1.0)
        return np.asarray(action.numpy().reshape(-1), dtype=np.float32)

    return act


def behaviour_clone(
    model: BaseAlgorithm,
    observations: npt.NDArray[np.float32],
    actions: npt.NDArray[np.float32],
    config: TrainConfig,
    progress: Progress | None = None,
) -> float:
    """Fit the actor's deterministic action to ``actions`` (MSE). Returns the last epoch's loss."""
    params = actor_parameters(model)
    optimiser = torch.optim.Adam(params, lr=config.bc_learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(config.bc_epochs, 1))
    obs = torch.as_tensor(observations, dtype=torch.float32)
    target = torch.as_tensor(actions, dtype=torch.float32).reshape(-1, 1)
    generator = torch.Generator().manual_seed(config.seed)
    n = len(obs)
    loss_value = math.nan
    model.policy.set_training_mode(True)
    for epoch in range(config.bc_epochs):
        order = torch.randperm(n, generator=generator)
        total, batches = 0.0, 0
        for start in range(0, n, config.bc_batch):
            index = order[start : start + config.bc_batch]
            loss = nn.functional.mse_loss(mean_action(model, obs[index]), target[index])
            if isinstance(model.policy, SACPolicy):
                # SAC's noise is a head of its own: start it as quiet as PPO's.
                _, log_std, _ = model.policy.actor.get_action_dist_params(obs[index])
                loss = loss + nn.functional.mse_loss(
                    log_std, torch.full_like(log_std, config.log_std_init)
                )
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
            optimiser.step()
            total += float(loss.detach())
            batches += 1
        schedule.step()
        loss_value = total / max(batches, 1)
        if progress is not None:
            progress("cloning", epoch + 1, config.bc_epochs)
    model.policy.set_training_mode(False)
    return loss_value


__all__ = ["act_fn", "actor_parameters", "behaviour_clone", "mean_action"]
