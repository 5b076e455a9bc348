"""Snapshot tests of the dashboard (pytest-textual-snapshot), grouped by feature.

Every snapshot runs on a ScriptedClient: the events, the engine clock (the
status bar and every age and duration come from event times, never the wall
clock), the statistics and the seeds are fixed, and input cursors do not blink
in headless runs. Regenerate after an intended change with
``pytest tests/gridtui/test_app_snapshots.py --snapshot-update`` and review the
SVGs under ``__snapshots__/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from engine.events import Alert, BacktestProgress, BatteryState, StrategyStatus
from gridtui.app import GridApp
from gridtui.screens.dashboard import DashboardScreen
from tests.stubs.scripted_client import ScriptedClient, dashboard_script, settle

Compare = Callable[..., bool]


def scripted_app(events: Any = None, **client_options: Any) -> GridApp:
    script = dashboard_script() if events is None else events
    return GridApp(ScriptedClient(script, **client_options))


def dashboard(pilot: Pilot[Any]) -> DashboardScreen:
    assert isinstance(pilot.app, GridApp)
    return pilot.app.dashboard


def settled(then: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None):
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if then is not None:
            result = then(pilot)
            if result is not None:
                await result
        await pilot.pause()

    return run_before


# -- the whole dashboard at several sizes ------------------------------------------------


def test_dashboard_wide(snap_compare: Compare) -> None:
    assert snap_compare(scripted_app(), terminal_size=(200, 50), run_before=settled())


def test_dashboard_80x24(snap_compare: Compare) -> None:
    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=settled())


def test_dashboard_light_theme(snap_compare: Compare) -> None:
    assert snap_compare(scripted_app(), press=["t"], terminal_size=(140, 40), run_before=settled())


def test_dashboard_no_color(snap_compare: Compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(scripted_app(), terminal_size=(140, 40), run_before=settled())


def test_dashboard_before_the_engine_parts_exist(snap_compare: Compare) -> None:
    """Strategies, batteries, backtests and alerts show what will appear there, and why not yet."""
    later_parts = (StrategyStatus, BatteryState, BacktestProgress, Alert)
    events = [e for e in dashboard_script() if not isinstance(e, later_parts)]
    assert snap_compare(scripted_app(events), terminal_size=(140, 40), run_before=settled())


# -- each pane on its own (the compact layout shows one at a time) ---------------------


@pytest.mark.parametrize(
    "pane", ["prices", "spreads", "alerts", "strategies", "batteries", "backtests"]
)
def test_pane(snap_compare: Compare, pane: str) -> None:
    def show(pilot: Pilot[Any]) -> None:
        dashboard(pilot).focus_pane(pane)

    assert snap_compare(scripted_app(), terminal_size=(100, 28), run_before=settled(show))


# -- interactions ---------------------------------------------------------------------


def test_strategy_toggle_armed(snap_compare: Compare) -> None:
    def show(pilot: Pilot[Any]) -> None:
        dashboard(pilot).focus_pane("strategies")

    assert snap_compare(
        scripted_app(), press=["2"], terminal_size=(100, 28), run_before=settled(show)
    )


def test_market_filter(snap_compare: Compare) -> None:
    assert snap_compare(
        scripted_app(), press=["slash", "d", "e"], terminal_size=(140, 40), run_before=settled()
    )


def test_help_screen(snap_compare: Compare) -> None:
    assert snap_compare(
        scripted_app(), press=["question_mark"], terminal_size=(100, 36), run_before=settled()
    )


def test_backtest_form_with_errors(snap_compare: Compare) -> None:
    async def fill(pilot: Pilot[Any]) -> None:
        await pilot.press("b")
        form = pilot.app.screen
        form.query_one("#start", Input).value = "2025-02-30"
        form.query_one("#strategies", Input).value = ""

    assert snap_compare(
        scripted_app(), press=["ctrl+s"], terminal_size=(100, 30), run_before=settled(fill)
    )


# -- issue 15: the clock, whole columns, notices ------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_dashboard_simulated_clock(snap_compare: Compare, size: tuple[int, int]) -> None:
    """The status bar: "sim 360×", the market-local date and time beside UTC."""
    assert snap_compare(scripted_app(clock="sim 360×"), terminal_size=size, run_before=settled())


def test_dashboard_80x24_no_color(snap_compare: Compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=settled())


def test_replay_across_midnight_80x24(snap_compare: Compare) -> None:
    now = datetime(2019, 12, 31, 23, 0, tzinfo=UTC)
    app = scripted_app(dashboard_script(now), clock="replay 60×", now=now)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled())


def _raise_notices(pilot: Pilot[Any]) -> Awaitable[None]:
    dashboard(pilot).focus_pane("strategies")
    return pilot.press("9", "K", "y")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_notices_above_the_footer(snap_compare: Compare, size: tuple[int, int]) -> None:
    app = scripted_app(strategies_available=False)
    assert snap_compare(app, terminal_size=size, run_before=settled(_raise_notices))


def test_notices_no_color(snap_compare: Compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = scripted_app(strategies_available=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(_raise_notices))
