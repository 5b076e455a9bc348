"""``gridtui train forecast`` and ``gridtui eval forecast`` end to end on small files."""

from __future__ import annotations

import json

import pytest

from gridtui.cli import main
from tests.models.forecast_builders import synthetic_prices

pytest.importorskip("xgboost")


def test_train_then_eval_list_compare_promote(tmp_path, capsys):
    train_file = tmp_path / "train.parquet"
    other_file = tmp_path / "other.csv"
    synthetic_prices(days=70, seed=1).to_parquet(train_file)
    synthetic_prices(days=40, seed=2).to_csv(other_file, index=False)
    registry = str(tmp_path / "models")
    common = ["--registry", registry, "--markets", "DE,FR,NL"]

    status = main(
        [
            "train", "forecast", "--task", "dayahead", "--data", str(train_file),
            "--from", "2023-01-02", "--to", "2023-03-10", "--n-estimators", "25",
            "--max-depth", "3", "--threads", "1", "--model-id", "m1", "--json", *common,
        ]
    )  # fmt: skip
    assert status == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["model"]["model_id"] == "m1" and trained["model"]["task"] == "dayahead"
    assert trained["model"]["train_to"].startswith("2023-03-08")  # local day before --to
    assert {s["market"] for s in trained["test"]["scores"]} == {"DE", "FR", "NL", "all"}

    status = main(
        ["eval", "forecast", "--model", "m1", "--data", str(other_file), "--json", *common]
    )
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    overall = next(s for s in report["scores"] if s["market"] == "all")
    assert overall["n"] > 0 and 0 < overall["rmae"] < 1.5

    assert main(["eval", "forecast", "--model", "m1", "--data", str(other_file), *common]) == 0
    table = capsys.readouterr().out
    assert "rMAE" in table and "naive MAE" in table and "cover" in table

    assert main(["eval", "forecast", "--promote", "m1", *common]) == 0
    assert "promoted m1" in capsys.readouterr().out
    assert main(["eval", "forecast", "--list", "--json", *common]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["promoted"]["dayahead"] == "m1"
    assert main(["eval", "forecast", "--compare", "m1", "--json", *common]) == 0
    assert json.loads(capsys.readouterr().out)[0]["model_id"] == "m1"
    status = main(
        ["eval", "forecast", "--model", "promoted", "--data", str(other_file), "--json", *common]
    )
    assert status == 0 and json.loads(capsys.readouterr().out)["model_id"] == "m1"


def test_clear_errors_for_bad_requests(tmp_path, capsys):
    registry = ["--registry", str(tmp_path / "models")]
    assert main(["eval", "forecast", "--model", "nope", "--data", "x.parquet", *registry]) == 2
    assert "gridtui train" in capsys.readouterr().err
    assert main(["eval", "forecast", *registry]) == 2
    assert "--model" in capsys.readouterr().err
    missing = str(tmp_path / "missing.parquet")
    assert main(["train", "forecast", "--data", missing, *registry]) == 2
    assert "does not exist" in capsys.readouterr().err
