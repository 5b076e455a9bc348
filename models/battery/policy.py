"""The RL battery policy served from ONNX: onnxruntime only, behind the engine's Policy port.

An exported policy is one ONNX graph ``observation (batch, N) float32 → action
(batch, 1) float32``: the trained actor's deterministic action, already clipped
to [−1, 1] inside the graph (``models/training/sb3.py`` exports it). Its
registry entry (kind ``policy``, task ``battery``) names the observation layout
it was trained on in ``pipeline_version``; a policy for another layout is
refused at load, never fed a vector it does not understand.

Callers: ``gridtui.wiring`` (the live fleet), ``gridtui eval battery``, benches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import numpy as np
import onnxruntime as ort

from engine.battery.observation import OBSERVATION_SIZE, OBSERVATION_VERSION, ObservationArray
from models.onnx_row import BoundRow
from models.registry import ModelMeta, Registry, RegistryError

POLICY_KIND: Final = "policy"
POLICY_TASK: Final = "battery"


class OnnxPolicy:
    """A battery policy (``engine.ports.Policy``) run by onnxruntime on one CPU thread.

    One thread: a single observation is a few microseconds of work, and thread
    hand-offs would cost more than they save; one observation goes through
    bound buffers (:mod:`models.onnx_row`), batches through :meth:`act_batch`.
    """

    def __init__(self, path: Path | str, policy_id: str = "") -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or inputs[0].shape[-1] != OBSERVATION_SIZE:
            raise RegistryError(
                f"{path}: expects input {[i.shape for i in inputs]}, "
                f"this gridtui builds observations of {OBSERVATION_SIZE}"
            )
        self._input = inputs[0].name
        self._output = self._session.get_outputs()[0].name
        self._one_row = BoundRow(self._session, OBSERVATION_SIZE)
        self._policy_id = policy_id or Path(path).parent.name

    @property
    def policy_id(self) -> str:
        return self._policy_id

    def act(self, observation: ObservationArray) -> float:
        return float(self._one_row.run(observation)[0])

    def act_batch(self, observations: ObservationArray) -> ObservationArray:
        batch = np.asarray(observations, dtype=np.float32).reshape(-1, OBSERVATION_SIZE)
        (actions,) = self._session.run([self._output], {self._input: batch})
        return np.asarray(actions, dtype=np.float32).reshape(-1)


def check_compatible(meta: ModelMeta) -> None:
    """Refuse a model that is not a battery policy for this observation layout.

    Raises:
        RegistryError: wrong kind or task, or another observation version.
    """
    if meta.kind != POLICY_KIND or meta.task != POLICY_TASK:
        raise RegistryError(
            f"model {meta.model_id!r} is a {meta.kind}/{meta.task} model, not a battery policy"
        )
    if meta.pipeline_version != OBSERVATION_VERSION:
        raise RegistryError(
            f"policy {meta.model_id!r} was trained on observations {meta.pipeline_version!r}; "
            f"this gridtui builds {OBSERVATION_VERSION!r}. Retrain it with `gridtui train battery`."
        )


def default_policy_id(registry: Registry) -> str:
    """The promoted battery policy, else the newest one (user's registry first, then shipped).

    Raises:
        RegistryError: there is no battery policy at all.
    """
    promoted = registry.promoted(POLICY_KIND, POLICY_TASK)
    if promoted is not None:
        return promoted.model_id
    found = registry.models(POLICY_KIND, POLICY_TASK)
    if not found:
        raise RegistryError("no battery policy: `gridtui train battery --data FILE` makes one")
    return found[0].model_id


def load_policy(registry: Registry, model_id: str | None = None) -> OnnxPolicy:
    """Load ``model_id`` (default: :func:`default_policy_id`) ready to act.

    Raises:
        RegistryError: missing, not a battery policy, or for another observation layout.
    """
    model_id = model_id or default_policy_id(registry)
    meta = registry.get(model_id)
    check_compatible(meta)
    return OnnxPolicy(registry.path(model_id), policy_id=model_id)


__all__ = [
    "POLICY_KIND",
    "POLICY_TASK",
    "OnnxPolicy",
    "check_compatible",
    "default_policy_id",
    "load_policy",
]
