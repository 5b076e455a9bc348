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
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from engine.events import (
    Alert,
    BacktestProgress,
    BatteryState,
    FeedHealth,
    Forecast,
    PriceKind,
    PriceTick,
    StrategyStatus,
)
from engine.store.base import BacktestRecord
from gridtui.client.protocol import ForecasterInfo
from gridtui.tui.app import GridApp
from gridtui.tui.screens.backtest_result import BacktestResultScreen
from gridtui.tui.screens.dashboard import DashboardScreen
from gridtui.tui.widgets.backtest_table import BacktestTable
from tests.stubs.builders import degraded_entsoe
from tests.stubs.scripted_client import NOW, ScriptedClient, dashboard_script, settle

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
    "pane", ["prices", "spreads", "alerts", "strategies", "batteries", "backtests", "feed-health"]
)
def test_pane(snap_compare: Compare, pane: str) -> None:
    def show(pilot: Pilot[Any]) -> None:
        dashboard(pilot).focus_pane(pane)

    assert snap_compare(scripted_app(), terminal_size=(100, 28), run_before=settled(show))


# -- the Prices and Fundamentals panes, zoomed, at both ends of the size range ------------


@pytest.mark.parametrize("color", ["color", "no_color"])
@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("pane", ["prices", "fundamentals"])
def test_forecast_and_fundamentals_panes(
    snap_compare: Compare,
    monkeypatch: pytest.MonkeyPatch,
    pane: str,
    size: tuple[int, int],
    color: str,
) -> None:
    """Forecasts with their horizon, band and tomorrow's curve; load, wind, solar, residual."""
    if color == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")

    def zoom(pilot: Pilot[Any]) -> None:
        dashboard(pilot).focus_pane(pane)
        dashboard(pilot).toggle_zoom()

    assert snap_compare(scripted_app(), terminal_size=size, run_before=settled(zoom))


def test_prices_while_the_forecaster_warms_up(snap_compare: Compare) -> None:
    """No forecast yet: the column and the chart say how many hours are closed of how many."""
    # Ticks of the current hour only: no hour has closed yet.
    hour = NOW.replace(minute=0)
    events = [
        e
        for e in dashboard_script()
        if not isinstance(e, Forecast)
        and not (isinstance(e, PriceTick) and e.kind is PriceKind.INTRADAY and e.ts < hour)
    ]
    forecasters = (ForecasterInfo(model_id="m", task="intraday", step_s=3600, warmup_steps=1),)
    assert snap_compare(
        scripted_app(events, forecasters=forecasters, markets=("DE", "FR")),
        terminal_size=(80, 24),
        run_before=settled(),
    )


# -- the Feed-health pane: an ENTSO-E feed retrying, GB's ticks stale ------------------


def entsoe_script() -> list[Any]:
    events = [e for e in dashboard_script() if not isinstance(e, FeedHealth)]
    return [*events, degraded_entsoe(NOW)]


def show_feed_health(pilot: Pilot[Any]) -> None:
    dashboard(pilot).focus_pane("feed-health")


def test_feed_health_pane_80x24(snap_compare: Compare) -> None:
    app = scripted_app(entsoe_script())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(show_feed_health))


def test_feed_health_pane_160x48(snap_compare: Compare) -> None:
    app = scripted_app(entsoe_script())
    assert snap_compare(app, terminal_size=(160, 48), run_before=settled(show_feed_health))


def test_feed_health_pane_zoomed_160x48(snap_compare: Compare) -> None:
    """The pane alone (z): also docs/feed-health.svg."""
    app = scripted_app(entsoe_script())
    assert snap_compare(
        app, press=["z"], terminal_size=(160, 48), run_before=settled(show_feed_health)
    )


def test_feed_health_pane_no_color(snap_compare: Compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = scripted_app(entsoe_script())
    assert snap_compare(app, terminal_size=(160, 48), run_before=settled(show_feed_health))


def test_feed_health_pane_no_color_80x24(
    snap_compare: Compare, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = scripted_app(entsoe_script())
    assert snap_compare(app, terminal_size=(80, 24), run_before=settled(show_feed_health))


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


# -- a backtest's result screen (Enter on a finished run) ---------------------------


def result_record() -> BacktestRecord:
    """A finished quarter: fixed figures, a daily equity curve, two strategies."""
    start = datetime(2025, 7, 1, tzinfo=UTC)
    curve = [(start + timedelta(days=d), 410.0 * d - 35.0 * (d % 7) ** 2) for d in range(92)]
    figures = {"settlements": 900, "win_rate": 0.56, "sharpe_ratio": 1.4}
    return BacktestRecord(
        run_id="bt-2025-q2",
        created_at=start,
        state="finished",
        config={
            "from": start.isoformat(),
            "to": (start + timedelta(days=92)).isoformat(),
            "data": "prices_real_train.parquet",
            "wall_s": 9.84,
            "report": "/home/trader/.local/share/gridtui/reports/bt-2025-q2.html",
            "per_strategy": {
                "battery": {
                    "figures": {
                        **figures,
                        "fills": 2208,
                        "volume_mwh": 4416.0,
                        "revenue_eur": 31250.0,
                        "fees_eur": 1104.0,
                    }
                },
                "mining": {
                    "figures": {
                        **figures,
                        "fills": 0,
                        "settlements": 0,
                        "volume_mwh": 0.0,
                        "revenue_eur": -420.5,
                        "fees_eur": 0.0,
                    },
                    "open_periods": 2,
                },
            },
        },
        metrics={
            "total_revenue": 30829.5,
            "arbitrage_profit": 0.0,
            "battery_revenue": 31250.0,
            "win_rate": 0.56,
            "sharpe_ratio": 1.4,
            "max_drawdown": -1715.0,
            "total_trades": 3108.0,
            "total_fees": 1104.0,
            "total_volume_mwh": 4416.0,
        },
        equity_curve=curve,
    )


def result_app() -> GridApp:
    client = ScriptedClient(dashboard_script())
    client.records["bt-2025-q2"] = result_record()
    return GridApp(client)


async def open_result(pilot: Pilot[Any]) -> None:
    screen = dashboard(pilot)
    screen.focus_pane("backtests")
    table = screen.query_one(BacktestTable)
    table.move_cursor(table.row_keys.index("bt-2025-q2"))
    await pilot.press("enter")
    for _ in range(100):
        if isinstance(pilot.app.screen, BacktestResultScreen):
            break
        await pilot.pause(0.02)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_backtest_result(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert snap_compare(result_app(), terminal_size=size, run_before=settled(open_result))


def test_backtest_result_no_color(snap_compare: Compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(result_app(), terminal_size=(100, 30), run_before=settled(open_result))


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
