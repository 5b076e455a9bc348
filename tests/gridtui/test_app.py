"""Pilot tests of the dashboard: every key binding, asserting the state it changes.

The app runs headless on a ScriptedClient (same EngineClient protocol as the
in-process engine, fixed events), so every assertion is about what the user
would see or what the engine would be asked to do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from engine.events import PriceTick, StrategyStatus
from gridtui.client.in_process import InProcessClient
from gridtui.client.protocol import BacktestRequest
from gridtui.settings.interface import KeySettings, UiSettings
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.keymap import COMMANDS
from gridtui.tui.messages import DashboardUpdate
from gridtui.tui.panes import PANES
from gridtui.tui.screens.backtest_form import BacktestForm
from gridtui.tui.screens.help import HelpScreen
from gridtui.tui.widgets.alert_log import AlertLog
from gridtui.tui.widgets.backtest_table import BacktestTable
from gridtui.tui.widgets.battery_table import BatteryTable
from gridtui.tui.widgets.market_filter import MarketFilter
from gridtui.tui.widgets.price_chart import PriceChart
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.tui.widgets.spread_table import SpreadTable
from gridtui.tui.widgets.status_bar import StatusBar
from gridtui.tui.widgets.strategy_table import StrategyTable
from tests.stubs.scripted_client import MARKETS, NOW, ScriptedClient, dashboard_script, settle


@asynccontextmanager
async def running(
    client: ScriptedClient | None = None,
    *,
    size: tuple[int, int] = (160, 48),
    ui: UiSettings | None = None,
    keys: KeySettings | None = None,
) -> AsyncIterator[tuple[GridApp, Pilot[int], ScriptedClient]]:
    client = client or ScriptedClient(dashboard_script())
    app = GridApp(client, ui=ui, keys=keys)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        yield app, pilot, client


def notifications(app: GridApp) -> list[str]:
    return [n.message for n in app._notifications]


def price_cell(app: GridApp, market: str) -> str:
    return app.dashboard.query_one(PriceTable).cell_text(market, "price").strip()


def current(app: GridApp) -> Screen[Any]:
    """The screen on top (a call, so type narrowing of ``app.screen`` does not stick)."""
    return app.screen


async def test_every_pane_shows_the_engine_state():
    async with running() as (app, _pilot, _client):
        screen = app.dashboard
        assert screen.query_one(PriceTable).row_keys == MARKETS
        spreads = screen.query_one(SpreadTable)
        assert len(spreads.row_keys) == 15  # every pair of six markets
        nets = [s.net_spread_eur_mwh or 0.0 for s in screen.snapshot.spreads if not s.stale]
        assert nets == sorted(nets, reverse=True)
        assert "OPEN" in spreads.cell_text("AT|FR", "open")
        assert "STALE" in screen.query_one(PriceTable).cell_text("GB", "age")
        assert screen.query_one(StrategyTable).row_keys == (
            "cross-border-arb",
            "da-id-reversion",
            "fundamental",
            "peak-shaver",
        )
        assert screen.query_one(BatteryTable).row_keys == ("bess-at-2", "bess-de-1", "bess-nl-1")
        assert screen.query_one(BacktestTable).row_keys == ("bt-2025-q3", "bt-2025-q2")
        assert len(screen.query_one(AlertLog).lines) == 3
        assert not any(screen.pane(pane).empty for pane in ("prices", "spreads", "strategies"))
        status = screen.query_one(StatusBar)
        assert status.feed.state == "up"
        assert status.now == NOW


async def test_panes_show_empty_states_until_their_engine_parts_report():
    ticks = [e for e in dashboard_script() if isinstance(e, PriceTick)]
    async with running(ScriptedClient(ticks)) as (app, _pilot, client):
        screen = app.dashboard
        assert not screen.pane("prices").empty
        for pane in ("strategies", "batteries", "backtests", "alerts"):
            assert screen.pane(pane).empty, pane
        assert "strategy engine" in str(screen.pane("strategies").empty_state.render())
        client.push([StrategyStatus(ts=NOW, strategy="new-one", state="stopped")])
        await settle(_pilot)
        assert not screen.pane("strategies").empty


async def test_help_key_lists_every_action_and_closes():
    async with running() as (app, pilot, _client):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = " ".join(keys for keys, _what in app.screen.rows).split()
        for command in COMMANDS:  # every action's key is there (rewind steps share rows)
            for key in app.keys_label(getattr(app.keys, command.key_field)).split():
                assert key in shown, (command.key_field, key)
        described = {what for _keys, what in app.screen.rows}
        assert {c.help for c in COMMANDS if not c.key_field.startswith("rewind_")} <= described
        await pilot.press("escape")
        assert current(app) is app.dashboard


async def test_quit_key_closes_the_client_and_exits_zero():
    async with running() as (app, pilot, client):
        await pilot.press("q")
        await pilot.pause()
    assert client.closed
    assert app.return_code == 0


async def test_pause_key_freezes_the_panes_and_resume_catches_up():
    async with running() as (app, pilot, client):
        await pilot.press("p")
        assert app.paused
        assert app.dashboard.query_one(StatusBar).paused
        client.push([PriceTick(ts=NOW + timedelta(seconds=1), market="DE", price_eur_mwh=999.0)])
        await pilot.pause(0.3)
        assert app.model.snapshot().markets[0].price_eur_mwh == 999.0  # still collected
        assert price_cell(app, "DE") != "999.00"  # but not drawn
        await pilot.press("p")
        await settle(pilot)
        assert not app.paused
        assert price_cell(app, "DE") == "999.00"


async def test_filter_key_narrows_every_pane_and_escape_clears_it():
    async with running() as (app, pilot, _client):
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("d", "e", "space", "f", "r")
        prices = app.dashboard.query_one(PriceTable)
        spreads = app.dashboard.query_one(SpreadTable)
        assert prices.row_keys == ("DE", "FR")
        assert all("DE" in key or "FR" in key for key in spreads.row_keys)
        assert app.dashboard.query_one(StatusBar).market_filter == ("DE", "FR")
        await pilot.press("enter")  # keep the filter, back to the panes
        assert not app.dashboard.query_one(MarketFilter).has_class("-open")
        assert prices.row_keys == ("DE", "FR")
        await pilot.press("escape")
        assert list(prices.row_keys) == list(MARKETS)


async def test_tab_cycles_panes_as_tabs_at_80x24():
    async with running(size=(80, 24)) as (app, pilot, _client):
        screen = app.dashboard
        assert screen.layout_mode == "compact"
        assert screen.pane("prices").display and not screen.pane("spreads").display
        await pilot.press("tab")
        assert screen.current_pane == "spreads"
        assert screen.pane("spreads").display and not screen.pane("prices").display
        assert app.focused is screen.query_one(SpreadTable)
        await pilot.press("shift+tab", "shift+tab")
        assert screen.current_pane == PANES[-1].id  # wraps round to the last pane


async def test_layout_follows_the_terminal_size():
    async with running(size=(120, 36)) as (app, pilot, _client):
        assert app.dashboard.layout_mode == "medium"
        await pilot.resize_terminal(220, 60)
        await pilot.pause()
        assert app.dashboard.layout_mode == "wide"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.dashboard.layout_mode == "compact"


async def test_zoom_key_maximises_the_current_pane_and_restores():
    async with running() as (app, pilot, _client):
        await pilot.press("tab")  # spreads
        await pilot.press("z")
        assert app.dashboard.maximized is app.dashboard.pane("spreads")
        await pilot.press("z")
        assert app.dashboard.maximized is None
        await pilot.press("z", "escape")
        assert app.dashboard.maximized is None


async def test_theme_key_switches_dark_and_light():
    async with running() as (app, pilot, _client):
        assert app.current_theme.dark
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t")
        assert app.theme == "textual-dark"


async def test_arrow_keys_pick_the_charted_market():
    async with running() as (app, pilot, _client):
        chart = app.dashboard.query_one(PriceChart)
        assert chart.series is not None and chart.series.market == "DE"
        await pilot.press("down")
        assert chart.series is not None and chart.series.market == "FR"


async def test_strategy_key_arms_and_a_second_press_toggles():
    async with running() as (app, pilot, client):
        await pilot.press("2")  # da-id-reversion, stopped
        assert app.armed is not None
        assert (app.armed.strategy, app.armed.turn_on) == ("da-id-reversion", True)
        table = app.dashboard.query_one(StrategyTable)
        assert "START" in table.cell_text("da-id-reversion", "state")
        assert client.calls == []  # armed only: nothing traded yet
        await pilot.press("2")
        await settle(pilot)
        assert client.calls == [("toggle_strategy", ("da-id-reversion", True))]
        assert app.armed is None
        assert "running" in table.cell_text("da-id-reversion", "state")


async def test_strategy_toggle_confirms_with_y_and_cancels_with_escape():
    async with running() as (app, pilot, client):
        await pilot.press("1", "escape")  # cross-border-arb: armed to stop, then cancelled
        assert app.armed is None
        assert client.calls == []
        await pilot.press("1")
        assert app.armed is not None and app.armed.turn_on is False
        await pilot.press("y")
        await settle(pilot)
        assert client.calls == [("toggle_strategy", ("cross-border-arb", False))]
        assert app.model.strategy_state("cross-border-arb") == "stopped"


async def test_armed_toggle_expires_without_trading():
    # 1 s, not less: on a loaded 2-core machine a key press can take a few
    # hundred ms to be handled, and the arm must still be there when it is.
    async with running(ui=UiSettings(confirm_timeout_s=1.0)) as (app, pilot, client):
        await pilot.press("3")
        assert app.armed is not None
        await pilot.pause(1.6)
        assert app.armed is None
        await pilot.press("y")  # nothing armed any more
        await pilot.pause()
        assert client.calls == []
        assert any("Nothing to confirm" in text for text in notifications(app))


async def test_strategy_key_without_a_strategy_says_why():
    async with running() as (app, pilot, client):
        await pilot.press("9")
        assert app.armed is None
        assert client.calls == []
        assert any("Nothing on key 9" in text for text in notifications(app))


async def test_toggle_the_engine_cannot_do_is_reported_not_faked():
    client = ScriptedClient(dashboard_script(), strategies_available=False)
    async with running(client) as (app, pilot, _client):
        await pilot.press("2", "y")
        await pilot.pause(0.1)
        assert client.calls == [("toggle_strategy", ("da-id-reversion", True))]
        assert any("strategy engine" in text for text in notifications(app))
        assert app.model.strategy_state("da-id-reversion") == "stopped"


async def test_kill_switch_stops_every_strategy_at_once():
    async with running() as (app, pilot, client):
        await pilot.press("2")  # an armed toggle is dropped by the kill switch
        await pilot.press("K")
        await settle(pilot)
        assert client.calls == [("stop_all_strategies", None)]
        assert app.armed is None
        assert {s.state for s in app.dashboard.snapshot.strategies} == {"stopped"}


async def test_kill_switch_without_a_strategy_engine_says_so():
    client = ScriptedClient(dashboard_script(), strategies_available=False)
    async with running(client) as (app, pilot, _client):
        await pilot.press("K")
        await pilot.pause(0.1)
        assert any("strategy engine" in text for text in notifications(app))


async def test_backtest_form_validates_then_starts_a_run():
    async with running() as (app, pilot, client):
        await pilot.press("b")
        form = app.screen
        assert isinstance(form, BacktestForm)
        assert form.query_one("#start", Input).value == "2025-10-29"  # a week before "today"
        form.query_one("#start", Input).value = "2025-13-01"
        form.query_one("#strategies", Input).value = "nope"
        await pilot.press("ctrl+s")
        assert form.is_current  # the errors keep it open
        assert any("not a date" in error for error in form.errors)
        assert any("unknown nope" in error for error in form.errors)
        form.query_one("#start", Input).value = "2025-11-06"
        form.query_one("#end", Input).value = "2025-11-01"
        form.query_one("#strategies", Input).value = "peak-shaver, cross-border-arb"
        await pilot.press("ctrl+s")
        assert form.errors == ["From must not be after To"]
        form.query_one("#start", Input).value = "2025-10-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert current(app) is app.dashboard
        assert client.calls == [
            (
                "start_backtest",
                BacktestRequest(
                    start=date(2025, 10, 1),
                    end=date(2025, 11, 1),
                    strategies=("peak-shaver", "cross-border-arb"),
                    data="mock",
                ),
            )
        ]
        assert "bt-001" in app.dashboard.query_one(BacktestTable).row_keys


async def test_backtest_form_escape_cancels_and_unavailable_engine_is_reported():
    client = ScriptedClient(dashboard_script(), backtests_available=False)
    async with running(client) as (app, pilot, _client):
        await pilot.press("b", "escape")
        assert current(app) is app.dashboard
        assert client.calls == []
        await pilot.press("b", "ctrl+s")
        await pilot.pause(0.1)
        assert len(client.calls) == 1
        assert any("backtest engine" in text for text in notifications(app))


async def test_finished_backtests_show_their_stored_metrics():
    client = ScriptedClient(dashboard_script())
    client.metrics["bt-2025-q2"] = {"pnl_eur": 1234.5, "sharpe": 1.8}
    async with running(client) as (app, pilot, _client):
        client.push([])  # nudge a frame after the metrics were fetched
        await pilot.pause(0.3)
        app.post_frame()
        await settle(pilot)
        metrics = app.dashboard.query_one(BacktestTable).cell_text("bt-2025-q2", "metrics")
        assert "sharpe 1.80" in metrics


async def test_command_palette_offers_every_action():
    async with running() as (app, _pilot, _client):
        titles = {command.title for command in app.get_system_commands(app.dashboard)}
        assert {command.label for command in COMMANDS} <= titles
        assert "Toggle strategy peak-shaver" in titles
        assert "Go to Backtests" in titles


async def test_keys_come_from_the_settings():
    keys = KeySettings(pause="x", kill_switch="ctrl+k", strategies=("j", "s"))
    async with running(keys=keys) as (app, pilot, client):
        await pilot.press("p")
        assert not app.paused
        await pilot.press("x")
        assert app.paused
        await pilot.press("x", "s")
        assert app.armed is not None and app.armed.strategy == "da-id-reversion"
        await pilot.press("ctrl+k")
        await pilot.pause(0.1)
        assert ("stop_all_strategies", None) in client.calls
        strategy_row = next(k for k, what in app.help_rows() if what.startswith("Arm the toggle"))
        assert strategy_row == "j s"


async def test_stale_updates_replace_each_other_under_a_flood():
    flood = [
        PriceTick(ts=NOW + timedelta(milliseconds=i), market="DE", price_eur_mwh=100 + i % 50)
        for i in range(50_000)
    ]
    async with running() as (app, pilot, client):
        frames_before = app.frames_applied
        client.push(flood)
        await settle(pilot)
        assert app.frames_applied - frames_before < 10  # 50k ticks, a handful of frames
        assert price_cell(app, "DE") == f"{100 + 49_999 % 50:.2f}"


def test_a_dashboard_update_supersedes_an_older_one():
    app_snapshot = GridApp(ScriptedClient()).model.snapshot()
    newer, older = DashboardUpdate(app_snapshot), DashboardUpdate(app_snapshot)
    assert older.can_replace(newer)


async def test_engine_that_stops_is_shown_not_hidden():
    async with running() as (app, pilot, client):
        client.closed = True  # the next next_events call raises ConnectionError
        client.push([])
        await pilot.pause(0.3)
        assert "engine stopped" in app.dashboard.query_one(StatusBar).notice


@pytest.mark.parametrize("key", ["help", "pause", "filter", "zoom", "theme", "new_backtest"])
def test_every_configurable_action_has_a_binding(key):
    bound = {binding.id for binding in GridApp.BINDINGS if isinstance(binding, Binding)}
    assert f"gridtui.{key}" in bound


async def test_the_in_process_engine_lights_up_the_dashboard(tmp_path):
    """No script: the real runtime (mock feed, SQLite, memory bus) behind InProcessClient."""
    settings = load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path), "feed": {"tick_interval_s": 0.05}},
    )
    app = GridApp(InProcessClient(settings), ui=settings.ui, keys=settings.keys)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.dashboard
        for _ in range(100):
            await pilot.pause(0.05)
            snapshot = screen.snapshot
            priced = snapshot.markets and all(m.price_eur_mwh for m in snapshot.markets)
            if priced and any(s.net_spread_eur_mwh is not None for s in snapshot.spreads):
                break
        assert screen.query_one(PriceTable).row_keys == settings.markets
        assert not screen.pane("spreads").empty
        chart = screen.query_one(PriceChart).series
        assert chart is not None and chart.day_ahead  # the day-ahead curve beside the ticks
        assert screen.query_one(StatusBar).feed.source == "mock"
        for _ in range(100):  # strategies report their status every few seconds
            if not screen.pane("strategies").empty:
                break
            await pilot.pause(0.05)
        assert not screen.pane("strategies").empty
        assert screen.pane("backtests").empty  # no run started
        for _ in range(400):  # the default fleet (DE, NL) reports once it dispatches an hour
            if not screen.pane("batteries").empty:
                break
            await pilot.pause(0.05)
        assert {b.battery_id for b in screen.snapshot.batteries} == {"bess-de", "bess-nl"}
        await pilot.press("K")
        await pilot.pause(0.2)
        assert any("Stop sent to every strategy" in text for text in notifications(app))
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    with sqlite3.connect(tmp_path / "gridtui.db") as db:
        (stored,) = db.execute("SELECT count(*) FROM prices").fetchone()
    assert stored > 0  # quitting flushed the store
