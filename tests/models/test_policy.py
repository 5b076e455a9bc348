"""The ONNX policy behind the engine's Policy port: loading, refusing, acting."""

from datetime import UTC, datetime

import numpy as np
import pytest

from engine.battery.controller import DecisionContext
from engine.battery.observation import OBSERVATION_SIZE, OBSERVATION_VERSION
from engine.battery.physics import BatterySpec
from engine.battery.policy_controller import PolicyController
from engine.battery.price_series import to_us
from engine.ports import Policy
from models.battery.policy import OnnxPolicy, check_compatible, default_policy_id, load_policy
from models.registry import SHIPPED_ROOT, ModelMeta, Registry, RegistryError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402 — after the skip


def linear_policy_bytes(weight: float = 0.5, size: int = OBSERVATION_SIZE):
    """observation → clip(weight · observation[0], −1, 1): a hand-built ONNX graph."""
    x = helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", size])
    y = helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", 1])
    w = np.zeros((size, 1), dtype=np.float32)
    w[0, 0] = weight
    nodes = [
        helper.make_node("MatMul", ["observation", "w"], ["raw"]),
        helper.make_node("Clip", ["raw", "lo", "hi"], ["action"]),
    ]
    inits = [
        helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.flatten()),
        helper.make_tensor("lo", TensorProto.FLOAT, [], [-1.0]),
        helper.make_tensor("hi", TensorProto.FLOAT, [], [1.0]),
    ]
    graph = helper.make_graph(nodes, "policy", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def meta(model_id: str, version: str = OBSERVATION_VERSION, kind: str = "policy") -> ModelMeta:
    return ModelMeta(model_id=model_id, kind=kind, task="battery", pipeline_version=version)


def test_the_onnx_policy_implements_the_port_and_acts(tmp_path):
    path = tmp_path / "p.onnx"
    path.write_bytes(linear_policy_bytes(0.5))
    policy: Policy = OnnxPolicy(path, "lin")
    observation = np.zeros(OBSERVATION_SIZE, dtype=np.float32)
    observation[0] = 1.0
    assert policy.policy_id == "lin"
    assert policy.act(observation) == pytest.approx(0.5)
    observation[0] = 9.0
    assert policy.act(observation) == 1.0  # clipped inside the graph
    batch = np.zeros((3, OBSERVATION_SIZE), dtype=np.float32)
    batch[:, 0] = [-4.0, 0.0, 1.0]
    np.testing.assert_allclose(OnnxPolicy(path).act_batch(batch), [-1.0, 0.0, 0.5])


def test_a_graph_for_another_observation_size_is_refused(tmp_path):
    path = tmp_path / "p.onnx"
    path.write_bytes(linear_policy_bytes(size=OBSERVATION_SIZE + 3))
    with pytest.raises(RegistryError, match="observations"):
        OnnxPolicy(path)


def test_registry_loading_checks_kind_and_observation_version(tmp_path):
    registry = Registry(tmp_path, shipped=None)
    registry.save(meta("good"), {"model": linear_policy_bytes()})
    registry.save(meta("old", version="battery-obs-0"), {"model": linear_policy_bytes()})
    registry.save(meta("forecaster", kind="forecast"), {"model": linear_policy_bytes()})
    assert load_policy(registry, "good").policy_id == "good"
    with pytest.raises(RegistryError, match="Retrain"):
        load_policy(registry, "old")
    with pytest.raises(RegistryError, match="not a battery policy"):
        check_compatible(registry.get("forecaster"))
    registry.promote("good")
    assert default_policy_id(registry) == "good"
    with pytest.raises(RegistryError, match="gridtui train battery"):
        default_policy_id(Registry(tmp_path / "empty", shipped=None))


def test_the_shipped_default_policy_loads_and_drives_a_battery(tmp_path):
    registry = Registry(tmp_path, shipped=SHIPPED_ROOT)
    policy = load_policy(registry)
    spec = BatterySpec()
    hours = np.arange(72)
    prices = 80 + 40 * np.sin(2 * np.pi * (hours - 9) / 24)
    context = DecisionContext(
        spec=spec,
        soc_mwh=1.0,
        discharged_today_mwh=0.0,
        step_us=to_us(datetime(2023, 3, 1, tzinfo=UTC)),
        step_minutes=60,
        prices=prices,
        now=30,
    )
    assert -1.0 <= PolicyController(policy).decide(context) <= 1.0
