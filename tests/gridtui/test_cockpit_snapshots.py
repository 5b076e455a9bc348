"""Snapshots of the Gates pane: countdowns, market time beside UTC, results, orders in.

A ScriptedClient at its fixed ``NOW`` (2025-11-05 15:30 CET) answers the cockpit
of a real :class:`~engine.cockpit.board.GateBoard` over a real strategy manager:
``bidder`` has its DE day-ahead order in, ``sleeper`` has none anywhere. The
script's day-ahead prices of 11-06 are in, so the last results show published.
Regenerate with ``--snapshot-update`` and review the SVGs under ``__snapshots__/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.cockpit.board import GateBoard
from engine.cockpit.orders import ManagerOrders
from engine.events import PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from gridtui.tui.app import GridApp
from tests.engine.test_cockpit import Bidder, Sleeper
from tests.stubs.scripted_client import MARKETS, NOW, ScriptedClient, dashboard_script, settle

Compare = Callable[..., bool]


def gates_app() -> GridApp:
    manager = StrategyManager(
        [Bidder(), Sleeper()], ManagerConfig(price_kind=PriceKind.INTRADAY, id_prefix="s/")
    )
    for name in manager.names:
        manager.start(name, now=NOW, actor="test")
    manager.on_events([PriceTick(ts=NOW, market="DE", price_eur_mwh=90.0)], NOW)
    script = dashboard_script()
    board = GateBoard(MarketTimeline(), MARKETS, ManagerOrders(manager))
    board.observe(script)  # as the engine would have seen them before the dashboard started
    board.advance(NOW)
    return GridApp(ScriptedClient(script, gates=board))


async def zoomed_gates(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    assert isinstance(pilot.app, GridApp)
    pilot.app.dashboard.focus_pane("gates")
    pilot.app.dashboard.toggle_zoom()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 30)], ids=["80x24", "120x30"])
def test_gates_pane(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(gates_app(), terminal_size=size, run_before=zoomed_gates)
