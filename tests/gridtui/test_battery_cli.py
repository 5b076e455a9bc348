"""`gridtui train battery` and `gridtui eval battery`, end to end on a small price file."""

import json

import numpy as np
import pandas as pd
import pytest

from gridtui.cli import main
from models.registry import Registry
from tests.models.test_policy import linear_policy_bytes, meta


@pytest.fixture
def price_file(tmp_path):
    hours = pd.date_range("2022-03-01", periods=24 * 8, freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    rows = []
    for market, level in (("DE", 90.0), ("FR", 110.0)):
        shape = level + 45 * np.sin(2 * np.pi * (np.arange(len(hours)) - 9) / 24)
        rows.append(
            pd.DataFrame(
                {
                    "timestamp": hours,
                    "market": market,
                    "price_eur_mwh": shape + rng.normal(0, 8, len(hours)),
                }
            )
        )
    path = tmp_path / "prices.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_eval_prints_every_policy_against_perfect_foresight_as_json(price_file, tmp_path, capsys):
    registry = Registry(tmp_path / "registry", shipped=None)
    registry.save(meta("lin"), {"model": linear_policy_bytes(0.0)})
    status = main(
        ["eval", "battery", "--data", str(price_file), "--market", "DE,FR",
         "--registry", str(registry.root), "--policy", "lin", "--json"]
    )  # fmt: skip
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["rows"]
    assert {r["market"] for r in rows} == {"DE", "FR"}
    by_policy = {(r["market"], r["policy"]): r for r in rows}
    for row in rows:
        assert {"policy", "information", "net_revenue_eur", "percent_of_perfect_foresight"} <= set(
            row
        )
    labels = {r["policy"]: r["information"] for r in rows}
    assert labels == {
        "perfect foresight": "perfect_foresight",
        "mpc": "after_publication",
        "rule": "after_publication",
        "rl lin": "after_publication",
        "lp on persistence (D-1)": "gate_closure",
        "lp on weekly naive (D-7)": "gate_closure",
        "rl lin on weekly naive (D-7)": "gate_closure",
    }
    for market in ("DE", "FR"):
        assert by_policy[(market, "perfect foresight")]["percent_of_perfect_foresight"] == 100
        # Committed at the gate on yesterday's prices: below perfect foresight.
        persistence = by_policy[(market, "lp on persistence (D-1)")]
        assert persistence["percent_of_perfect_foresight"] < 100
        assert 80 <= by_policy[(market, "mpc")]["percent_of_perfect_foresight"] <= 100.0001
        assert by_policy[(market, "rule")]["percent_of_perfect_foresight"] <= 100
        # An idle policy (always 0) earns only what selling the initial charge brings.
        assert by_policy[(market, "rl lin")]["percent_of_perfect_foresight"] < 50
    assert report["battery"]["capacity_mwh"] == 2.0


def test_eval_prints_a_table(price_file, tmp_path, capsys):
    status = main(
        ["eval", "battery", "--data", str(price_file), "--market", "DE",
         "--registry", str(tmp_path / "registry")]
    )  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert "perfect foresight" in out and "mpc" in out and "rule" in out
    for label in ("perfect_foresight", "after_publication", "gate_closure"):
        assert label in out
    assert "upper bound: if the day-ahead price could still be traded" in out


@pytest.fixture
def forecaster_setup(tmp_path):
    """A tiny day-ahead model trained on 2023-01-02 .. ~03-12 and a file running to May."""
    from tests.models.forecast_builders import saved_model, synthetic_prices

    registry, model_id = saved_model(tmp_path / "registry", "dayahead")
    path = tmp_path / "synthetic.csv"
    synthetic_prices(days=120).to_csv(path, index=False)
    return registry, model_id, path


def test_eval_commits_a_battery_on_a_forecaster_trained_before_the_period(forecaster_setup, capsys):
    registry, model_id, path = forecaster_setup
    registry.save(meta("lin"), {"model": linear_policy_bytes(0.0)})
    status = main(
        ["eval", "battery", "--data", str(path), "--market", "DE,FR", "--from", "2023-03-20",
         "--to", "2023-04-20", "--registry", str(registry.root), "--policy", "lin",
         "--forecast-model", model_id, "--json"]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    rows = json.loads(capsys.readouterr().out)["rows"]
    by_policy = {(r["market"], r["policy"]): r for r in rows}
    for market in ("DE", "FR"):
        committed = by_policy[(market, f"lp on {model_id}")]
        assert committed["information"] == "gate_closure"
        assert committed["percent_of_perfect_foresight"] < 100
        assert by_policy[(market, f"rl lin on {model_id}")]["information"] == "gate_closure"


def test_eval_refuses_a_forecaster_trained_on_the_evaluated_days(forecaster_setup, capsys):
    registry, model_id, path = forecaster_setup
    status = main(
        ["eval", "battery", "--data", str(path), "--market", "DE", "--from", "2023-02-01",
         "--to", "2023-04-01", "--registry", str(registry.root), "--forecast-model", model_id]
    )  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert f"refusing forecaster {model_id!r}" in err and "does not end before" in err


def test_a_forecaster_is_out_of_sample_only_when_trained_before_the_period(tmp_path):
    from datetime import date, timedelta

    import msgspec

    from gridtui.commands.battery_commit import _is_shipped
    from models.forecast.meta import in_sample_reason, training_days
    from tests.models.forecast_builders import saved_model

    registry, model_id = saved_model(tmp_path / "user", "dayahead")
    saved = registry.get(model_id)
    days = training_days(saved)
    assert days is not None
    first, last = days
    assert saved.extra["train_days"] == [first.isoformat(), last.isoformat()]
    assert in_sample_reason(saved, last + timedelta(days=1), date(2024, 1, 1)) is None
    assert "does not end before" in str(in_sample_reason(saved, first, last))
    later = date(2022, 1, 1)  # trained after the evaluated days: it knows where prices went
    assert in_sample_reason(saved, later, later) is not None
    # Older metadata: train_from/train_to are the local midnights of the first and last day.
    old = msgspec.structs.replace(saved, extra={})
    assert training_days(old) == (first, last)
    unknown = msgspec.structs.replace(old, train_from=None, train_to=None)
    assert "no training range" in str(in_sample_reason(unknown, later, later))
    # A model among the shipped defaults learnt from the simulator: never in sample.
    assert in_sample_reason(unknown, later, later, simulated=True) is None
    assert not _is_shipped(registry, model_id)
    shipped = Registry(tmp_path / "elsewhere", shipped=registry.root)
    assert _is_shipped(shipped, model_id)


def test_eval_says_what_is_wrong(tmp_path, capsys):
    assert main(["eval", "battery", "--data", str(tmp_path / "nope.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_train_registers_an_onnx_policy_that_eval_can_score(price_file, tmp_path, capsys):
    pytest.importorskip("stable_baselines3")
    root = tmp_path / "registry"
    status = main(
        ["train", "battery", "--data", str(price_file), "--market", "DE",
         "--algo", "ppo", "--timesteps", "64", "--n-envs", "1", "--bc-epochs", "2",
         "--dagger-rounds", "0", "--registry", str(root), "--model-id", "tiny", "--promote"]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    registry = Registry(root, shipped=None)
    saved = registry.get("tiny")
    assert saved.kind == "policy" and saved.task == "battery" and saved.markets == ("DE",)
    assert saved.metrics["onnx_max_abs_error"] <= 1e-5
    assert registry.promoted("policy", "battery") == saved
    capsys.readouterr()
    assert main(["eval", "battery", "--data", str(price_file), "--market", "DE",
                 "--registry", str(root), "--json"]) == 0  # fmt: skip
    policies = {r["policy"] for r in json.loads(capsys.readouterr().out)["rows"]}
    assert "rl tiny" in policies
