"""``gridtui backtest list`` and ``gridtui eval forecast --list`` fit the terminal, ids whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridtui.cli import main
from tests.engine.test_backtest import write_prices

RUN_ID = "bt-20261202-194013-9f3a"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDTUI_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("GRIDTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("columns", [80, 60, 200])
def test_backtest_list_keeps_ids_whole_and_fits_the_terminal(env, capsys, monkeypatch, columns):
    prices = write_prices(env / "prices.parquet", days=2)
    args = ["backtest", "--data", str(prices), "--markets", "DE,FR,NL", "--no-report"]
    assert main([*args, "--strategies", "all", "--run-id", RUN_ID]) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["backtest", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(RUN_ID in line for line in lines)  # whole, on one line
    assert "…" not in out
    assert max(len(line.rstrip()) for line in lines) <= columns
    for strategy in ("arbitrage", "battery", "mining", "technical"):
        assert strategy in out
    if columns >= 200:  # room for one line a run: every figure on the id's line
        assert "finished" in next(line for line in lines if RUN_ID in line)


def test_eval_forecast_list_keeps_model_ids_whole_at_80_columns(tmp_path, capsys, monkeypatch):
    pytest.importorskip("xgboost")
    from tests.models.forecast_builders import synthetic_prices

    train_file = tmp_path / "train.parquet"
    synthetic_prices(days=40, seed=1).to_parquet(train_file)
    common = ["--registry", str(tmp_path / "models"), "--markets", "DE,FR,NL"]
    model_id = "fc-dayahead-20261202-194013-9f3a"
    status = main(
        [
            "train", "forecast", "--task", "dayahead", "--data", str(train_file),
            "--n-estimators", "5", "--max-depth", "2", "--threads", "1",
            "--model-id", model_id, "--json", *common,
        ]
    )  # fmt: skip
    assert status == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["eval", "forecast", "--list", *common]) == 0
    out = capsys.readouterr().out
    assert any(model_id in line for line in out.splitlines())
    assert "…" not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
