"""``gridtui backtest`` (run, list, show, delete, report), and strategies from the dashboard."""

from __future__ import annotations

import asyncio
import json
import re
import xml.dom.minidom
from datetime import date
from pathlib import Path

import pytest

from engine.events import AuditEntry, BacktestProgress, StrategyStatus, Trade
from engine.store.sqlite import SqliteStore
from engine.strategies.manager import StrategyManager
from engine.strategies.slot import StrategyState
from gridtui.cli import main
from gridtui.client.in_process import InProcessClient
from gridtui.client.protocol import BacktestRequest
from gridtui.report.html import render_report
from gridtui.report.svg_chart import nice_ticks
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from tests.engine.test_backtest import write_prices


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated data dir and config: nothing of the user's is read or written."""
    monkeypatch.setenv("GRIDTUI_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.setenv("GRIDTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_backtest_runs_stores_reports_lists_shows_and_deletes(env, capsys):
    prices = write_prices(env / "prices.parquet")
    args = ["backtest", "--data", str(prices), "--markets", "DE,FR,NL"]
    args += ["--from", "2021-01-04", "--to", "2021-01-10", "--strategies", "battery,mining"]
    args += ["--battery-controller", "rule", "--run-id", "bt-cli", "--report", "out/run.html"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Battery revenue" in out and "Mining profit" in out and "stored as bt-cli" in out
    # Per strategy, what the run shows it traded under (from its fills, not its kind).
    assert "traded under: day-ahead, committed before gate closure D-1 12:00" in out
    assert "open at end" in out and "Sharpe" in out
    report = (env / "out" / "run.html").read_text()
    svgs = re.findall(r"<svg.*?</svg>", report, re.S)
    assert len(svgs) >= 4  # equity, daily PnL, battery (week and run), trades
    for svg in svgs:
        xml.dom.minidom.parseString(svg)  # well-formed: a browser will draw it

    assert main(["backtest", "list"]) == 0
    assert "bt-cli" in capsys.readouterr().out
    assert main(["backtest", "show", "bt-cli", "--trades", "3", "--report", "again.html"]) == 0
    shown = capsys.readouterr().out
    assert "first 3 of" in shown and (env / "again.html").exists()
    assert main(["backtest", "delete", "bt-cli"]) == 0
    assert main(["backtest", "show", "bt-cli"]) == 1
    assert main(["backtest", "delete", "bt-cli"]) == 1


def test_backtest_json_metrics_and_clear_errors(env, capsys):
    prices = write_prices(env / "prices.parquet", days=3)
    args = ["backtest", "--data", str(prices), "--markets", "DE,FR,NL", "--strategies", "all"]
    assert main([*args, "--json", "--no-save", "--no-report"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert {"total_revenue", "arbitrage_profit", "sharpe_ratio", "max_drawdown"} <= set(metrics)
    assert main(["backtest", "--data", str(env / "missing.parquet")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*args[:-1], "nope"]) == 2
    assert "unknown strategies" in capsys.readouterr().err


def test_report_renders_without_any_run_data():
    html = render_report(run_id="empty", config={}, metrics={}, equity_curve=[])
    assert "No equity curve" in html
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]


# -- the dashboard: keys reach the strategies, the audit log keeps it -------------------


def settings_for(tmp_path: Path, **feed):
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "feed": {"tick_interval_s": 0.05, **feed},
            "store": {"max_age_s": 0.05},
        },
    )


async def wait_for(predicate, pilot, timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await pilot.pause(0.05)


async def test_strategy_keys_on_the_dashboard_reach_the_strategy_and_the_audit_log(tmp_path):
    settings = settings_for(tmp_path)
    client = InProcessClient(settings)
    manager = client._strategies()
    app = GridApp(client, ui=settings.ui, keys=settings.keys)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(lambda: len(app.model.strategy_names()) == 6, pilot)
        first = app.model.strategy_names()[0]
        assert first == "arbitrage" and manager.state(first) is StrategyState.STOPPED
        await pilot.press("1")  # arm
        assert app.armed is not None and manager.state(first) is StrategyState.STOPPED
        await pilot.press("1")  # confirm
        await wait_for(lambda: manager.state(first) is StrategyState.RUNNING, pilot)
        await wait_for(lambda: app.model.strategy_state(first) == "running", pilot)

        async def audited() -> list[AuditEntry]:
            # Toggles only: once running, arbitrage trades (and audits each trade) at once.
            entries = await client.runtime.store.audit_log(strategy=first, limit=10_000)
            return [e for e in entries if e.action != "trade"]

        entries: list[AuditEntry] = []
        for _ in range(100):
            entries = await audited()
            if entries:
                break
            await pilot.pause(0.05)
        assert [(e.actor, e.action, e.strategy) for e in entries] == [("dashboard", "start", first)]

        await pilot.press("K")  # the kill switch
        await wait_for(lambda: manager.state(first) is StrategyState.STOPPED, pilot)
        for _ in range(100):
            entries = await audited()
            if len(entries) == 2:
                break
            await pilot.pause(0.05)
        assert [e.action for e in entries] == ["kill", "start"]  # newest first
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_dashboards_backtest_form_runs_a_backtest_and_stores_it(tmp_path):
    prices = write_prices(tmp_path / "prices.parquet", days=4)
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "markets": ["DE", "FR", "NL"],
            "feed": {"tick_interval_s": 0.5, "path": str(prices)},
            "strategies": {"battery": {"controller": "rule"}},
        },
    )
    client = InProcessClient(settings)
    await client.start()
    try:
        request = BacktestRequest(
            start=date(2021, 1, 4), end=date(2021, 1, 6), strategies=("battery",), data="replay"
        )
        run_id = await client.start_backtest(request)
        seen: list[BacktestProgress] = []
        for _ in range(200):
            seen += [
                e for e in await client.next_events(timeout=0.05) if isinstance(e, BacktestProgress)
            ]
            if seen and seen[-1].state == "finished":
                break
        assert seen[-1].run_id == run_id and seen[-1].percent == 100.0
        metrics = await client.backtest_metrics(run_id)
        assert "battery_revenue" in metrics  # stored before "finished" was announced
        trades = await client.runtime.store.backtest_trades(run_id)
        assert trades and all(isinstance(t, Trade) for t in trades)
        with pytest.raises(ValueError, match="unknown strategies"):
            await client.start_backtest(
                BacktestRequest(start=request.start, end=request.end, strategies=("yolo",))
            )
    finally:
        await client.close()


async def test_in_process_client_toggles_and_kill_switch_publish_status_and_audit(tmp_path):
    client = InProcessClient(settings_for(tmp_path))
    await client.start()
    try:
        await client.toggle_strategy("mining", True)
        events = await client.next_events(timeout=1.0)
        statuses = [e for e in events if isinstance(e, StrategyStatus) and e.strategy == "mining"]
        assert any(s.state == "running" for s in statuses)
        with pytest.raises(KeyError):
            await client.toggle_strategy("nope", True)
        await client.stop_all_strategies()
        manager = next(
            c for c in client.runtime.kernel.components if isinstance(c, StrategyManager)
        )
        assert manager.state("mining") is StrategyState.STOPPED
    finally:
        await client.close()
    store = SqliteStore(tmp_path / "gridtui.db")
    await store.open()
    actions = [(e.action, e.strategy) for e in await store.audit_log()]
    await store.close()
    assert actions == [("kill", "mining"), ("start", "mining")]
