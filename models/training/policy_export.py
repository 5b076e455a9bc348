"""A trained SB3 battery policy as ONNX: the deterministic actor, clipped, checked against SB3.

What runs in the engine is :class:`models.battery.policy.OnnxPolicy` on this file,
without torch or stable-baselines3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

from engine.battery.observation import OBSERVATION_SIZE


class _ExportedActor(nn.Module):
    """observation → deterministic action in [−1, 1], as ``predict(deterministic=True)``."""

    def __init__(self, model: BaseAlgorithm) -> None:
        super().__init__()
        policy = model.policy
        if isinstance(policy, ActorCriticPolicy):
            self.features = policy.pi_features_extractor
            self.latent = policy.mlp_extractor.policy_net
            self.head = policy.action_net
            self.squash = False
        elif isinstance(policy, SACPolicy):
            self.features = policy.actor.features_extractor
            self.latent = policy.actor.latent_pi
            self.head = policy.actor.mu
            self.squash = True
        else:
            raise TypeError(f"cannot export {type(policy).__name__}")

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        action = self.head(self.latent(self.features(observation)))
        if self.squash:
            action = torch.tanh(action)
        return torch.clamp(action, -1.0, 1.0)


def export_onnx(model: BaseAlgorithm, path: Path) -> Path:
    """Write the deterministic, clipped actor as ONNX (dynamic batch) to ``path``."""
    actor = _ExportedActor(model).eval()
    dummy = torch.zeros((1, OBSERVATION_SIZE), dtype=torch.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            actor,
            (dummy,),
            str(path),
            input_names=["observation"],
            output_names=["action"],
            dynamic_axes={"observation": {0: "batch"}, "action": {0: "batch"}},
            opset_version=17,
            dynamo=False,  # the classic exporter: a plain MLP needs nothing more
        )
    return path


def max_export_error(
    model: BaseAlgorithm, onnx_path: Path, observations: npt.NDArray[np.float32]
) -> float:
    """Largest |ONNX action − SB3 ``predict(deterministic=True)``| over ``observations``."""
    from models.battery.policy import OnnxPolicy

    expected, _ = model.predict(observations, deterministic=True)
    got = OnnxPolicy(onnx_path).act_batch(observations)
    return float(np.max(np.abs(np.asarray(expected, dtype=np.float32).reshape(-1) - got)))


__all__ = ["export_onnx", "max_export_error"]
