"""The Backtests pane and the result screen: wall time apart from the simulated span,
ids never cut, and Enter on a finished run shows its ten metrics, trades, equity, report."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from engine.events import BacktestProgress
from engine.store.base import BacktestRecord
from engine.store.sqlite import SqliteStore
from gridtui.cli import main
from gridtui.report.html import HEADLINE_METRICS, format_metric
from gridtui.tui.app import GridApp
from gridtui.tui.screens.backtest_result import BacktestResultScreen
from gridtui.tui.widgets.backtest_table import BacktestTable
from gridtui.tui.widgets.equity_chart import EquityChart
from tests.engine.test_backtest import write_prices
from tests.stubs.scripted_client import NOW, ScriptedClient, dashboard_script, settle


def progress(run_id: str, state: str, *, at: Any = NOW, wall_s: float | None = None) -> Any:
    return BacktestProgress(
        ts=at,
        run_id=run_id,
        state=state,
        percent=100.0 if state == "finished" else 40.0,
        events_done=1000,
        events_total=1000,
        eta_s=0.0 if state == "finished" else 5.0,
        wall_s=wall_s,
    )


def rendered(widget: Static, width: int = 160) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


async def open_backtests(app: GridApp, pilot: Any) -> BacktestTable:
    app.dashboard.focus_pane("backtests")
    await pilot.pause()
    return app.dashboard.query_one(BacktestTable)


@pytest.fixture
def stored_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BacktestRecord:
    """A real backtest, run by the CLI into a SQLite store, read back."""
    monkeypatch.setenv("GRIDTUI_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("GRIDTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    prices = write_prices(tmp_path / "prices.parquet", days=4)
    args = ["backtest", "--data", str(prices), "--markets", "DE,FR,NL", "--strategies", "all"]
    args += ["--battery-controller", "rule", "--run-id", "bt-20210104-real-run-with-a-long-id"]
    assert main(args) == 0

    async def read() -> BacktestRecord | None:
        store = SqliteStore(tmp_path / "data" / "gridtui.db")
        await store.open()
        try:
            return await store.backtest("bt-20210104-real-run-with-a-long-id")
        finally:
            await store.close()

    record = asyncio.run(read())
    assert record is not None
    assert Path(record.config["report"]).exists()
    return record


async def test_enter_on_a_finished_run_shows_its_ten_metrics_trades_equity_and_report(
    stored_run: BacktestRecord,
) -> None:
    run_id = stored_run.run_id
    client = ScriptedClient([*dashboard_script(), progress(run_id, "finished", wall_s=1.0)])
    client.records[run_id] = stored_run
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = await open_backtests(app, pilot)
        table.move_cursor(table.row_keys.index(run_id))
        await pilot.press("enter")
        for _ in range(100):
            if isinstance(app.screen, BacktestResultScreen):
                break
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, BacktestResultScreen)
        await pilot.pause()
        metrics = rendered(screen.query_one("#result-metrics", Static))
        expected = [
            format_metric(name, stored_run.metrics[name])
            for name in HEADLINE_METRICS
            if name in stored_run.metrics
        ]
        assert len(screen.view.metrics) == 10 and len(expected) >= 9
        for value in expected:
            assert value in metrics
        title = rendered(screen.query_one("#result-title", Static))
        assert run_id in title  # the whole id, not cut
        timing = rendered(screen.query_one("#result-timing", Static))
        assert f"ran {stored_run.config['wall_s']:.1f} s" in timing
        assert "simulated 4d00h" in timing
        trades = rendered(screen.query_one("#result-trades", Static))
        assert f"trades: {int(stored_run.metrics['total_trades']):,}" in trades
        assert "battery" in trades and "mining" in trades
        assert screen.query_one(EquityChart).points[-1][1] == pytest.approx(
            stored_run.equity_curve[-1][1]
        )
        report = rendered(screen.query_one("#result-report", Static), width=400)
        assert stored_run.config["report"] in report
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.dashboard


async def test_the_pane_shows_wall_time_and_simulated_span_apart_and_ids_whole() -> None:
    run_id = "bt-20261202-101500-9f3a-a-name-longer-than-any-column"
    events = [
        *dashboard_script(),
        progress(run_id, "running", at=NOW - timedelta(days=6, hours=23)),
        progress(run_id, "finished", wall_s=9.84),
    ]
    app = GridApp(ScriptedClient(events))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = await open_backtests(app, pilot)
        assert table.cell_text(run_id, "eta") == "ran 9.8 s"
        assert table.cell_text(run_id, "simulated") == "6d23h"
        line = table.render_line(1 + table.row_keys.index(run_id)).text
        assert run_id in line


async def test_enter_on_a_running_run_says_it_is_still_running() -> None:
    app = GridApp(ScriptedClient(dashboard_script()))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = await open_backtests(app, pilot)
        table.move_cursor(table.row_keys.index("bt-2025-q3"))
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.screen is app.dashboard
        assert any("still running (62%)" in n.message for n in app._notifications)


async def test_the_in_process_dashboard_starts_with_the_stores_alerts_and_runs(
    stored_run: BacktestRecord, tmp_path: Path
) -> None:
    """Runs and alerts kept by earlier sessions are on screen when the dashboard opens."""
    from engine.events import Alert, Severity
    from gridtui.client.in_process import InProcessClient
    from gridtui.settings.loader import load_settings
    from gridtui.tui.widgets.alert_log import AlertLog

    settings = load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path / "data"), "feed": {"tick_interval_s": 0.5}},
    )
    store = SqliteStore(tmp_path / "data" / "gridtui.db")
    await store.open()
    alert = Alert(
        ts=NOW, rule="price-spike", severity=Severity.WARNING, message="kept from yesterday"
    )
    await store.write([alert])
    await store.close()
    app = GridApp(InProcessClient(settings))
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.dashboard.query_one(BacktestTable)
        log = app.dashboard.query_one(AlertLog)
        async with asyncio.timeout(5):
            while stored_run.run_id not in table.row_keys or not log.lines:
                await pilot.pause(0.05)
        assert (
            table.cell_text(stored_run.run_id, "eta") == f"ran {stored_run.config['wall_s']:.1f} s"
        )
        assert table.cell_text(stored_run.run_id, "simulated") == "4d00h"
        assert any("kept from yesterday" in line.text for line in log.lines)
        await pilot.press("q")
