"""The Batteries and Strategies panes show the capture ledger (Pilot, real ledger).

A real fleet's week of states and the prices it traded are played to the app
by a :class:`~tests.stubs.scripted_client.ScriptedClient` whose ledger is a real
:class:`~engine.capture.book.CaptureBook` fed what it delivers (as the engine's
is); the panes must show what that book computed, and "n/a" where a strategy
has no perfect-foresight model.
"""

from __future__ import annotations

import asyncio

from engine.battery.fleet import BatteryFleet, BatteryUnit
from engine.capture.book import CaptureBook
from engine.events import Event, StrategyStatus, Trade
from gridtui.tui.widgets.ledger_table import LedgerTable
from tests.engine.test_battery_fleet import FEE, live, ticks, week
from tests.engine.test_capture import SPEC
from tests.gridtui.test_app import running
from tests.stubs.scripted_client import ScriptedClient


def fleet_week() -> list[Event]:
    days = week()
    states = live(BatteryFleet([BatteryUnit(SPEC, forecast="persistence")], fee_eur_mwh=FEE), days)
    prices = [t for day in sorted(days) for t in ticks("DE", days[day])]
    at = states[-1].ts
    settle = Trade(ts=at, trade_id="s1", strategy="spread-arb", market="FR", side="settle",
                   volume_mwh=1.0, price_eur_mwh=80.0, pnl_eur=37.0, delivery_start=at,
                   delivery_minutes=60)  # fmt: skip
    status = StrategyStatus(ts=at, strategy="spread-arb", state="running", pnl_eur=37.0)
    return [*prices, *states, settle, status]


async def shown(table: LedgerTable, key: str, within_s: float = 5.0) -> None:
    async with asyncio.timeout(within_s):
        for _ in iter(int, 1):  # poll until shown (the app asks at most once a second)
            if key in table.row_keys:
                return
            await asyncio.sleep(0.05)


async def test_the_panes_show_the_ledger_the_engine_computed():
    book = CaptureBook([SPEC], fee_eur_mwh=FEE)
    client = ScriptedClient(fleet_week(), ledger=book)
    async with running(client, size=(160, 48)) as (app, pilot, _client):
        batteries = app.dashboard.query_one("#battery-ledger", LedgerTable)
        strategies = app.dashboard.query_one("#strategy-ledger", LedgerTable)
        await shown(batteries, "bess-de/run")
        await shown(strategies, "spread-arb/run")
        await pilot.pause(0.1)
        run = next(r for r in book.snapshot().rows if r.owner == "bess-de" and r.window == "run")
        assert run.captured_pct is not None and run.optimum_eur is not None
        assert batteries.display and strategies.display
        assert batteries.row_keys == tuple(
            f"bess-de/{w}" for w in ("today", "week", "month", "run")
        )
        assert batteries.cell_text("bess-de/run", "captured").strip() == f"{run.captured_pct:.1f}%"
        assert batteries.cell_text("bess-de/run", "optimum").strip() == f"{run.optimum_eur:,.0f}"
        assert batteries.cell_text("bess-de/run", "information").strip() == "gate vs PF"
        assert strategies.cell_text("spread-arb/run", "optimum").strip() == "n/a"
        assert strategies.cell_text("spread-arb/run", "realized").strip() == "37"
        assert "spread-arb/run" not in batteries.row_keys  # each pane its own kind


async def test_without_a_ledger_the_tables_stay_hidden():
    async with running(ScriptedClient(fleet_week()), size=(160, 48)) as (app, pilot, _client):
        await pilot.pause(0.2)
        assert not app.dashboard.query_one("#battery-ledger", LedgerTable).display
        assert app.dashboard.query_one("#battery-ledger", LedgerTable).row_keys == ()
