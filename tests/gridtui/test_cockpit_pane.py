"""The Gates pane on a real in-process engine: the simulator on a 360× clock crosses a gate.

The engine starts at 11:40 CET with the battery strategy running; the pane counts
down to the 12:00 CET day-ahead gate with the battery's orders in (✓), shows
the market's time beside UTC, and after the crossing counts to the next day's gate.
Then the same simulator with two strategies of the tests' own, one with its
orders in and one without: the crossing raises one ``gate_missed``, in the
Alerts pane.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.alerts.engine import AlertEngine
from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import Alert, PriceKind
from engine.runtime import Runtime
from engine.store.sqlite import SqliteStore
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from gridtui.client.in_process import InProcessClient
from gridtui.cockpit_wiring import cockpit_component
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.views import GateView
from gridtui.tui.widgets.cockpit_table import CockpitTable, countdown
from gridtui.wiring import build_feed, build_runtime
from tests.engine.test_cockpit import Bidder, Sleeper

START = datetime(2025, 1, 6, 10, 40, tzinfo=UTC)  # 11:40 in Brussels
GATE = datetime(2025, 1, 6, 11, 0, tzinfo=UTC)  # 12:00 CET: the gate for 01-07


async def until(pilot, condition, timeout_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


@pytest.fixture
def client(tmp_path):
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "markets": ["DE", "GB"],
            "strategies": {"autostart": ["battery"]},
        },
    )
    return InProcessClient(settings, build_runtime(settings, clock=SimClock(START, speed=360)))


def de_day_ahead(app: GridApp) -> GateView | None:
    """The DE day-ahead row as the table drew it last (set and drawn in one step)."""
    table = app.dashboard.query_one(CockpitTable)
    found = [g for g in table.gates if g.market == "DE" and g.auction == "DA"]
    return found[0] if found else None


async def test_the_gates_pane_counts_down_to_the_gate_and_past_it(client) -> None:
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        app.dashboard.focus_pane("gates")
        table = app.dashboard.query_one(CockpitTable)
        await until(pilot, lambda: de_day_ahead(app) is not None)
        before = de_day_ahead(app)
        assert before is not None and before.gate_closure == GATE
        assert 0 < before.seconds_to_gate <= 1200
        assert table.cell_text("DE/DA", "countdown") == countdown(before.seconds_to_gate)
        assert re.fullmatch(r"0:([01]\d|20):[0-5]\d", table.cell_text("DE/DA", "countdown"))
        assert table.cell_text("DE/DA", "gate") == "12:00 CET 11:00Z"
        assert table.cell_text("GB/DA", "gate") == "11:00 GMT 11:00Z"
        assert table.cell_text("DE/DA", "delivery") == "2025-01-07"
        # The simulator published today's prices yesterday: in at the start.
        assert table.cell_text("DE/DA", "results") == "01-06 published"
        await until(pilot, lambda: "battery ✓" in table.cell_text("DE/DA", "orders"))

        await until(
            pilot, lambda: (row := de_day_ahead(app)) is not None and row.gate_closure > GATE
        )
        after = de_day_ahead(app)
        assert after is not None and after.gate_closure == GATE + timedelta(days=1)
        assert 23 * 3600 < after.seconds_to_gate <= 24 * 3600
        assert table.cell_text("DE/DA", "countdown") == countdown(after.seconds_to_gate)
        # 24:00:00 when the engine's clock stood exactly on the gate.
        assert re.fullmatch(r"23:[0-5]\d:[0-5]\d|24:00:00", table.cell_text("DE/DA", "countdown"))
        assert table.cell_text("DE/DA", "delivery") == "2025-01-08"
        assert table.cell_text("DE/DA", "results") == "01-07 awaiting"  # due 12:45 CET
        alerts = [a for a in app.dashboard.snapshot.alerts if "gate" in a.rule]
        assert not alerts  # the battery had its orders in
        assert not [
            e
            for e in await client.runtime.store.alerts(50)
            if isinstance(e, Alert) and e.rule == "gate_missed"
        ]


async def test_a_strategy_without_orders_at_the_gate_is_alerted_once_on_the_dashboard(
    tmp_path: Path,
) -> None:
    """The simulator and the wired cockpit, with ``bidder`` (in) and ``sleeper`` (not)."""
    start = GATE - timedelta(minutes=10)
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path), "markets": ["DE"]})
    manager = StrategyManager(
        [Bidder(), Sleeper()], ManagerConfig(price_kind=PriceKind.INTRADAY, id_prefix="p/")
    )
    for name in manager.names:
        manager.start(name, now=start, actor="test")
    runtime = Runtime(
        feed=build_feed(settings),
        clock=SimClock(start, speed=360),
        bus=MemoryBus(),
        store=SqliteStore(tmp_path / "gates.db"),
        components=[manager, cockpit_component(settings, [manager]), AlertEngine()],
    )
    client = InProcessClient(settings, runtime)
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.dashboard.query_one(CockpitTable)
        await until(
            pilot,
            lambda: "DE/DA" in table.row_keys and "bidder ✓" in table.cell_text("DE/DA", "orders"),
        )
        assert "sleeper ✗" in table.cell_text("DE/DA", "orders")
        row = de_day_ahead(app)
        assert row is not None and row.gate_closure == GATE

        def missed() -> list[str]:
            return [a.message for a in app.dashboard.snapshot.alerts if a.rule == "gate_missed"]

        await until(pilot, lambda: bool(missed()))
        await until(pilot, lambda: (r := de_day_ahead(app)) is not None and r.gate_closure > GATE)
        await pilot.pause(0.5)  # more of the engine's time passes: still one alert
        (message,) = missed()
        assert message.startswith("sleeper missed the DE DA gate for delivery 2025-01-07")
        assert table.cell_text("DE/DA", "delivery") == "2025-01-08"
