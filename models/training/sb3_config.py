"""What one stable-baselines3 battery-policy training run takes and gives.

:class:`TrainConfig` (every knob, stored in the model's metadata) and
:class:`TrainResult`; the recipe itself is :mod:`models.training.sb3`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from stable_baselines3.common.base_class import BaseAlgorithm

Algo = Literal["ppo", "sac"]
ALGOS: tuple[Algo, ...] = ("ppo", "sac")
Progress = Callable[[str, int, int], None]
"""``(stage, done, total)``: called as training moves on (labels, cloning, rl)."""


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Every knob of one training run; stored in the model's metadata.

    Attributes:
        algo: ``ppo`` or ``sac`` for the fine-tune.
        timesteps: environment steps of the RL fine-tune (0 = cloning only).
        seed: seeds labels, networks, environments.
        n_envs: vectorised environments.
        episode_steps: length of a training episode (a random window).
        hidden: width of the two hidden layers of actor and critic.
        soc_levels: states of charge per publication in the MPC plan labels.
        dagger_rounds: rounds of labelling the clone's own states.
        dagger_every: label every n-th visited step (cost: one LP each).
        bc_epochs: regression epochs per cloning round.
        bc_batch: cloning mini-batch.
        bc_learning_rate: cloning Adam step size.
        rl_learning_rate: fine-tune step size.
        critic_warmup: share of the RL steps with the actor frozen.
        log_std_init: initial exploration noise, the log of the std of the
            Gaussian on the action (PPO's parameter; SAC's noise head is cloned to it).
        extension_hours: MPC forecast hours beyond the published prices.
        rollout_steps: PPO steps per environment between updates.
        torch_threads: CPU threads for torch (0: torch's default). Small
            networks train faster on one thread than on contended cores.
        eval_every: RL steps between checkpoint evaluations.
        eval_days: the last days of each training series the checkpoints are
            scored on (share of perfect foresight, deterministic policy).
    """

    algo: Algo = "ppo"
    timesteps: int = 200_000
    seed: int = 0
    n_envs: int = 8
    episode_steps: int = 168
    hidden: int = 256
    soc_levels: int = 6
    dagger_rounds: int = 1
    dagger_every: int = 3
    bc_epochs: int = 20
    bc_batch: int = 1024
    bc_learning_rate: float = 1e-3
    rl_learning_rate: float = 2e-5
    critic_warmup: float = 0.25
    log_std_init: float = -2.0
    extension_hours: int = 24
    rollout_steps: int = 512
    torch_threads: int = 0
    eval_every: int = 25_000
    eval_days: int = 90


@dataclass(slots=True)
class TrainResult:
    """What a battery-policy training run produced: the model, its config, samples, losses and the
    kept checkpoint.
    """

    model: BaseAlgorithm
    config: TrainConfig
    samples: int = 0
    clone_loss: float = math.nan
    history: list[dict[str, float]] = field(default_factory=list)
    best_timesteps: int = 0  # RL steps of the checkpoint kept (0: the clone)

    def hyper_parameters(self) -> dict[str, Any]:
        return asdict(self.config)


__all__ = ["ALGOS", "Algo", "Progress", "TrainConfig", "TrainResult"]
