"""``gridtui --connect``: an attached dashboard starts from the daemon's current state.

A real daemon (aiohttp on a free port, SQLite in tmp) already holds alerts,
battery states and a backtest before the dashboard attaches; within 2 s of
attaching they are on screen, as the in-process dashboard would show them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from engine.events import Alert, BatteryState, Event, Severity
from engine.store.base import BacktestRecord
from gridtui.client.remote import RemoteClient
from gridtui.tui.app import GridApp
from gridtui.tui.screens.backtest_result import BacktestResultScreen
from gridtui.tui.widgets.alert_log import AlertLog
from gridtui.tui.widgets.backtest_table import BacktestTable
from gridtui.tui.widgets.battery_table import BatteryTable
from tests.daemon.conftest import Daemon
from tests.stubs.builders import T0

RUN_ID = "bt-20240229-120000-attached"


def earlier_state() -> list[Event]:
    alerts: list[Event] = [
        Alert(
            ts=T0 - timedelta(minutes=40 - i),
            rule="price-spike",
            severity=Severity.WARNING,
            message=f"DE intraday spike number {i}",
            key=f"spike-{i}",
            market="DE",
        )
        for i in range(8)
    ]
    batteries: list[Event] = [
        BatteryState(
            ts=T0 - timedelta(minutes=5),
            battery_id=battery_id,
            market=market,
            soc_mwh=12.0,
            soc_fraction=0.6,
            power_mw=-5.0,
            mode="charging",
            revenue_eur=321.0,
        )
        for battery_id, market in (("bess-de-1", "DE"), ("bess-fr-1", "FR"))
    ]
    return alerts + batteries


def stored_run() -> BacktestRecord:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return BacktestRecord(
        run_id=RUN_ID,
        created_at=T0 - timedelta(days=1),
        state="finished",
        config={"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()},
        metrics={"total_revenue": 1234.0, "sharpe_ratio": 0.8, "total_trades": 12.0},
        equity_curve=[(start, 0.0), (start + timedelta(days=7), 1234.0)],
    )


async def test_an_attached_dashboard_shows_what_the_daemon_already_holds(daemon: Daemon) -> None:
    state = earlier_state()
    await daemon.runtime.store.write(state)  # what /api/v1/alerts reads
    await daemon.publish(state)  # what the daemon's live view (batteries) saw go by
    await daemon.runtime.store.save_backtest(stored_run())
    client = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    await client.connect()
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        attached = time.monotonic()
        log = app.dashboard.query_one(AlertLog)
        batteries = app.dashboard.query_one(BatteryTable)
        backtests = app.dashboard.query_one(BacktestTable)
        async with asyncio.timeout(2.0):
            while not (len(log.lines) >= 8 and batteries.row_keys and backtests.row_keys):
                await pilot.pause(0.02)
        assert time.monotonic() - attached < 2.0
        shown = "\n".join(line.text for line in log.lines)
        for i in range(8):
            assert f"DE intraday spike number {i}" in shown
        assert not app.dashboard.pane("alerts").empty
        assert set(batteries.row_keys) == {"bess-de-1", "bess-fr-1"}
        assert not app.dashboard.pane("batteries").empty
        assert backtests.row_keys == (RUN_ID,)
        assert backtests.cell_text(RUN_ID, "simulated") == "7d00h"  # its window, not 0 s
        # And Enter on it reads its result over the API.
        app.dashboard.focus_pane("backtests")
        await pilot.press("enter")
        async with asyncio.timeout(5.0):
            while not isinstance(app.screen, BacktestResultScreen):
                await pilot.pause(0.02)
        assert app.screen.view.run_id == RUN_ID
        await pilot.press("escape", "q")
        await pilot.pause()
    await client.close()
