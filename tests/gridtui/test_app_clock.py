"""The status bar's clock: market-local date and time beside UTC, and what kind of time runs.

Issue 15: the bar showed a bare UTC time-of-day, hid it at 80 columns, and called
the simulator a replay. The engine's time comes from the events (a ScriptedClient
here), never from the wall clock, so these read the same on any machine.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from engine.clock import LiveClock, SimClock
from gridtui.client import protocol as client_module
from gridtui.client.in_process import InProcessClient
from gridtui.settings.interface import UiSettings
from gridtui.settings.loader import SettingsError, load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.widgets.status_bar import StatusBar
from gridtui.wiring import build_runtime
from tests.gridtui.test_app import running
from tests.stubs.scripted_client import ScriptedClient, dashboard_script

# The script ends at 2025-11-05 14:30 UTC: 15:30 in Brussels (CET, winter time).
FULL = "2025-11-05 15:30 CET · 14:30 UTC"


def status_line(app: GridApp) -> str:
    return app.dashboard.query_one(StatusBar).render().plain


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48), (200, 50)])
async def test_the_date_and_market_time_show_beside_utc_at_every_width(size):
    client = ScriptedClient(dashboard_script(), clock="sim 360×")
    async with running(client, size=size) as (app, _pilot, _client):
        line = status_line(app)
        assert f"sim 360× {FULL}" in line, line
        assert line.rstrip().endswith("▶ SIM")  # the right-hand end says it is simulated
        assert "LIVE" not in line


@pytest.mark.parametrize("width", [40, 52, 64])
async def test_narrower_than_80_the_clock_shortens_but_keeps_the_time(width):
    client = ScriptedClient(dashboard_script(), clock="sim 360×")
    async with running(client, size=(width, 24)) as (app, _pilot, _client):
        line = status_line(app)
        assert "15:30 CET" in line and "14:30" in line, line
        assert len(line) == width


async def test_a_replay_across_midnight_shows_both_dates():
    """The issue's replay of 2019-12-31 23:00 UTC: already New Year in Brussels."""
    now = datetime(2019, 12, 31, 23, 0, tzinfo=UTC)
    client = ScriptedClient(dashboard_script(now), clock="replay 60×", now=now)
    async with running(client, size=(80, 24)) as (app, _pilot, _client):
        line = status_line(app)
        assert "replay 60× 2020-01-01 00:00 CET · 12-31 23:00 UTC" in line, line
        assert line.rstrip().endswith("▶ REPLAY")


async def test_live_says_live_and_the_zone_follows_the_settings():
    client = ScriptedClient(dashboard_script(), clock="live")
    ui = UiSettings(market_timezone="Europe/London")
    async with running(client, size=(80, 24), ui=ui) as (app, pilot, _client):
        line = status_line(app)
        assert "live 2025-11-05 14:30 GMT · 14:30 UTC" in line, line
        assert line.rstrip().endswith("▶ LIVE")
        await pilot.press("p")
        assert "⏸ PAUSED" in status_line(app)
        assert "14:30 GMT" in status_line(app)  # pausing keeps the clock


def test_clock_mode_names_the_simulator_the_replay_and_live():
    start = datetime(2019, 12, 31, 23, tzinfo=UTC)
    clock_mode = client_module.clock_mode
    assert clock_mode(LiveClock(), "entsoe") == "live"
    assert clock_mode(SimClock(start, speed=360), "mock") == "sim 360×"
    assert clock_mode(LiveClock(), "mock") == "sim 1×"  # made-up prices are never "live"
    assert clock_mode(SimClock(start, speed=60), "replay") == "replay 60×"
    assert clock_mode(SimClock(start, speed=math.inf), "replay") == "replay max"


def test_the_demo_engine_calls_itself_sim(tmp_path):
    """``gridtui --demo``: the simulator on a 360× SimClock (it said "replay 360×")."""
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    clock = SimClock(datetime(2026, 12, 2, 13, 5, tzinfo=UTC), speed=360)
    client = InProcessClient(settings, build_runtime(settings, clock=clock))
    assert client.info.clock == "sim 360×"


def test_market_timezone_comes_from_the_toml_and_the_environment(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[ui]\nmarket_timezone = "Europe/Paris"\n')
    assert load_settings(config, environ={}).ui.market_timezone == "Europe/Paris"
    environ = {"GRIDTUI_UI_MARKET_TIMEZONE": "Europe/Helsinki"}
    assert load_settings(config, environ=environ).ui.market_timezone == "Europe/Helsinki"
    plain = tmp_path / "plain.toml"
    plain.write_text("")
    assert load_settings(plain, environ={}).ui.market_timezone == "Europe/Brussels"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "CET+1"])
def test_an_unknown_market_timezone_is_one_clear_line(zone):
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"GRIDTUI_UI_MARKET_TIMEZONE": zone})
    text = str(error.value)
    assert "GRIDTUI_UI_MARKET_TIMEZONE" in text and "ui.market_timezone" in text
    assert (zone or "(empty)") in text and "Europe/Brussels" in text
