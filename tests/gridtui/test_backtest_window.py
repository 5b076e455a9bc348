"""A backtest over days the data does not hold fails, says which days it holds, keeps nothing.

And a run that does go keeps its wall time and its report's path in the record.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.backtest.config import BacktestConfig, NoDataInWindow
from engine.backtest.run import run_backtest
from engine.store.sqlite import SqliteStore
from feeds.replay import ReplayConfig, ReplayFeed
from gridtui.cli import main
from gridtui.client.in_process import InProcessClient
from gridtui.client.protocol import BacktestRequest
from gridtui.settings.loader import load_settings
from tests.engine.test_backtest import every_strategy, write_prices

FILE_RANGE = "it covers 2021-01-04 00:00 to 2021-01-06 23:00 UTC"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRIDTUI_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("GRIDTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_cli_refuses_a_window_outside_the_file_and_writes_no_report(env, capsys):
    prices = write_prices(env / "prices.parquet", days=3)
    args = ["backtest", "--data", str(prices), "--markets", "DE,FR,NL", "--strategies", "mining"]
    args += ["--from", "2030-01-01", "--to", "2030-01-05", "--run-id", "bt-void"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no prices from 2030-01-01 to 2030-01-05" in err and FILE_RANGE in err
    assert "Traceback" not in err
    assert not (env / "bt-void.html").exists()
    assert main(["backtest", "list"]) == 0
    assert "bt-void" not in capsys.readouterr().out


def test_a_run_that_goes_keeps_its_wall_time_and_report_path(env, capsys):
    prices = write_prices(env / "prices.parquet", days=3)
    args = ["backtest", "--data", str(prices), "--markets", "DE,FR,NL", "--strategies", "mining"]
    assert main([*args, "--run-id", "bt-kept", "--report", "out/kept.html"]) == 0
    capsys.readouterr()
    store = SqliteStore(env / "data" / "gridtui.db")

    async def record():  # read back what the store kept
        await store.open()
        try:
            return await store.backtest("bt-kept")
        finally:
            await store.close()

    kept = asyncio.run(record())
    assert kept is not None
    assert Path(kept.config["report"]) == (env / "out" / "kept.html").resolve()
    assert Path(kept.config["report"]).exists()
    assert 0 < kept.config["wall_s"] < 120


async def test_the_dashboard_refuses_a_window_outside_the_file(tmp_path):
    prices = write_prices(tmp_path / "prices.parquet", days=3)
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "markets": ["DE", "FR", "NL"],
            "feed": {"tick_interval_s": 0.5, "path": str(prices)},
        },
    )
    client = InProcessClient(settings)
    request = BacktestRequest(
        start=date(2022, 5, 1), end=date(2022, 5, 2), strategies=("mining",), data="replay"
    )
    with pytest.raises(ValueError, match=FILE_RANGE):
        await client.start_backtest(request)
    assert client.running_backtests == 0
    assert not (tmp_path / "reports").exists()


async def test_the_engine_refuses_a_window_with_no_prices_in_it(tmp_path):
    """Inside the file's span but in a gap of it: the engine's own check, after the replay."""
    prices = write_prices(tmp_path / "prices.parquet", days=3)
    config = BacktestConfig(
        run_id="bt-gap",
        start=datetime(2021, 2, 1, tzinfo=UTC),
        end=datetime(2021, 2, 2, tzinfo=UTC),
        strategies=("mining",),
        data=str(prices),
        markets=("DE", "FR", "NL"),
    )
    with pytest.raises(NoDataInWindow, match="has no prices for DE, FR, NL from 2021-02-01"):
        await run_backtest(config, ReplayFeed(ReplayConfig(path=str(prices))), every_strategy())


async def test_the_dashboard_form_says_which_days_the_file_covers(tmp_path):
    from textual.widgets import Input, Select

    from gridtui.tui.app import GridApp
    from gridtui.tui.screens.backtest_form import BacktestForm

    prices = write_prices(tmp_path / "prices.parquet", days=3)
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "data"),
            "markets": ["DE", "FR", "NL"],
            "feed": {"tick_interval_s": 0.5, "path": str(prices)},
        },
    )
    app = GridApp(InProcessClient(settings))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("b")
        form = app.screen
        assert isinstance(form, BacktestForm)
        form.query_one("#start", Input).value = "2030-01-01"
        form.query_one("#end", Input).value = "2030-01-03"
        form.query_one("#strategies", Input).value = "mining"
        form.query_one("#data", Select).value = "replay"
        await pilot.press("ctrl+s")
        messages: list[str] = []
        async with asyncio.timeout(10):
            while not any(FILE_RANGE in m for m in messages):
                await pilot.pause(0.05)
                messages = [n.message for n in app._notifications]
        assert any("Backtest not started: no prices from 2030-01-01" in m for m in messages)
        await pilot.press("q")
    assert not (tmp_path / "data" / "reports").exists()
