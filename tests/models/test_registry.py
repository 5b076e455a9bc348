import pytest

from models.registry import ModelMeta, Registry, RegistryError


def meta(model_id: str, version: int = 1, task: str = "dayahead") -> ModelMeta:
    return ModelMeta(
        model_id=model_id, kind="forecast", task=task, version=version, metrics={"mae": 5.0}
    )


def test_save_list_get_path_promote(tmp_path):
    registry = Registry(tmp_path / "user", shipped=tmp_path / "shipped")
    saved = registry.save(meta("m1"), {"model": b"onnx-bytes"})
    assert saved.files == {"model": "model.onnx"} and saved.created is not None
    registry.save(meta("m2", version=2), {"model": b"v2", "lower": b"q10"})
    assert [m.model_id for m in registry.models("forecast")] == ["m2", "m1"]
    assert registry.path("m2", "lower").read_bytes() == b"q10"
    assert registry.next_version("forecast", "dayahead") == 3
    assert registry.promoted("forecast", "dayahead") is None
    registry.promote("m1")
    assert registry.promoted("forecast", "dayahead") == registry.get("m1")
    assert registry.compare(["m1"])[0]["mae"] == 5.0


def test_user_promotion_wins_over_shipped_default(tmp_path):
    shipped = Registry(tmp_path / "shipped", shipped=None)
    shipped.save(meta("default"), {"model": b"x"})
    shipped.promote("default")
    registry = Registry(tmp_path / "user", shipped=tmp_path / "shipped")
    default = registry.promoted("forecast", "dayahead")
    assert default is not None and default.model_id == "default"
    registry.save(meta("mine"), {"model": b"y"})
    registry.promote("mine")
    mine = registry.promoted("forecast", "dayahead")
    assert mine is not None and mine.model_id == "mine"


def test_errors_say_what_to_do(tmp_path):
    registry = Registry(tmp_path, shipped=None)
    with pytest.raises(RegistryError, match="gridtui train"):
        registry.get("nope")
    registry.save(meta("m1"), {"model": b"x"})
    with pytest.raises(RegistryError, match="already exists"):
        registry.save(meta("m1"), {"model": b"x"})
    with pytest.raises(RegistryError, match="letters, digits"):
        registry.save(meta("../evil"), {"model": b"x"})
    with pytest.raises(RegistryError, match="no 'upper' file"):
        registry.path("m1", "upper")
