"""The dashboard's feed health: one state per feed, shown alike everywhere.

The user's report (issue 15, item 5): with ENTSO-E failing, the status bar said
"● entsoe up" while Alerts said "feed_down … entsoe-api is down" and a second
later "feed entsoe is up". These run the real in-process engine (ENTSO-E feed,
SQLite, memory bus) against the local fake ENTSO-E API, under Pilot.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from engine.events import FeedHealth, PriceKind, PriceTick
from gridtui.client.in_process import InProcessClient
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.widgets.feed_health_table import FeedHealthTable
from gridtui.tui.widgets.feed_market_table import FeedMarketTable
from gridtui.tui.widgets.status_bar import StatusBar
from tests.feeds.entsoe_server import FakeEntsoe, Reply
from tests.stubs.builders import T0, degraded_entsoe, tick
from tests.stubs.scripted_client import MARKETS, NOW, ScriptedClient, dashboard_script, settle


def entsoe_app(api: FakeEntsoe, tmp_path, token: str) -> GridApp:
    settings = load_settings(
        environ={"GRIDTUI_ENTSOE_TOKEN": token},
        overrides={
            "data_dir": str(tmp_path),
            "markets": ["DE", "FR"],
            "feed": {"kind": "entsoe"},
            "entsoe": {"url": api.url, "max_attempts": 1, "timeout_s": 2.0},
        },
    )
    return GridApp(InProcessClient(settings), ui=settings.ui, keys=settings.keys)


async def test_a_failing_entsoe_api_is_down_in_the_status_bar_alerts_and_pane(tmp_path):
    async with FakeEntsoe() as api:
        api.script.extend([Reply(status=503)] * 20)  # every request of the first poll
        app = entsoe_app(api, tmp_path, api.token)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.dashboard
            bar = screen.query_one(StatusBar)
            async with asyncio.timeout(10):
                while bar.feed.state != "down":
                    await pilot.pause(0.05)
            # The kernel's heartbeat keeps coming; the state must not flip back to "up".
            await pilot.pause(2.5)
            assert (bar.feed.source, bar.feed.state) == ("entsoe", "down")

            feeds = screen.snapshot.feeds
            assert [(f.source, f.state) for f in feeds] == [("entsoe", "down")]
            (feed,) = feeds
            assert "requests failed in a row" in feed.reason and "HTTP 503" in feed.reason
            assert "HTTP 503" in feed.last_error
            assert feed.budget_limit == 400 and feed.budget_used is not None
            assert feed.budget_used >= 4  # prices and load for DE and FR
            table = screen.query_one(FeedHealthTable)
            assert table.row_keys == ("entsoe",)
            assert "down" in table.cell_text("entsoe", "state")

            # Degraded at the first failed request, down at the third; never "up".
            feed_alerts = [a for a in screen.snapshot.alerts if "feed" in a.rule]
            assert {a.rule for a in feed_alerts} == {"feed_down"}
            assert feed_alerts[-1].severity.value == "critical"
            assert feed_alerts[-1].message.startswith("feed entsoe is down:")
            assert not any("is up" in a.message for a in screen.snapshot.alerts)
            # No tick came: every market says so.
            markets = screen.query_one(FeedMarketTable)
            assert markets.row_keys == ("DE", "FR")
            assert "—" in markets.cell_text("DE", "age")
            await pilot.press("q")
            await pilot.pause()


async def test_a_refused_token_is_down_with_where_to_set_it(tmp_path):
    async with FakeEntsoe() as api:
        app = entsoe_app(api, tmp_path, "fake")
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.dashboard
            async with asyncio.timeout(10):
                while not screen.snapshot.feeds or screen.snapshot.feeds[0].state != "down":
                    await pilot.pause(0.05)
            await pilot.pause(1.5)
            (feed,) = screen.snapshot.feeds
            assert feed.state == "down" and "GRIDTUI_ENTSOE_TOKEN" in feed.reason
            assert "fake" not in feed.reason.replace("fake ", "")  # never the token itself
            assert screen.query_one(StatusBar).feed.state == "down"
            assert not any("is up" in a.message for a in screen.snapshot.alerts)
            await pilot.press("q")
            await pilot.pause()


async def test_entsoe_ticks_show_their_age_mtu_and_source_and_the_feed_is_up(tmp_path):
    async with FakeEntsoe() as api:
        app = entsoe_app(api, tmp_path, api.token)
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.dashboard
            markets = screen.query_one(FeedMarketTable)
            async with asyncio.timeout(10):
                while "FR" not in markets.row_keys or "—" in markets.cell_text("FR", "age"):
                    await pilot.pause(0.05)
            async with asyncio.timeout(5):
                while screen.query_one(StatusBar).feed.state != "up":
                    await pilot.pause(0.05)
            (feed,) = screen.snapshot.feeds
            assert (feed.source, feed.state, feed.reason) == ("entsoe", "up", "")
            assert feed.retries == 0 and feed.last_error == ""
            views = {m.market: m for m in screen.snapshot.market_feeds}
            assert views["DE"].mtu_minutes == 60  # the fake answers hourly
            assert views["DE"].kind == "day_ahead" and views["DE"].source == "entsoe"
            assert views["DE"].last_tick_age_s is not None and views["DE"].last_tick_age_s < 5
            assert "60 min" in markets.cell_text("DE", "mtu")
            assert "entsoe" in markets.cell_text("FR", "source")
            await pilot.press("q")
            await pilot.pause()


def test_the_model_keeps_each_markets_last_tick_age_mtu_and_source():
    model = DashboardModel(("DE", "FR", "GB"), stale_after_s=60)
    # Day-ahead prices come before the model knows the engine's time, stamped hours ahead.
    tomorrow = PriceTick(
        ts=T0 + timedelta(hours=20),
        market="DE",
        price_eur_mwh=80.0,
        kind=PriceKind.DAY_AHEAD,
        delivery_minutes=60,
        source="entsoe",
    )
    model.apply([tomorrow])
    model.apply([tick("FR", 50.0, source="mock"), tick("GB", 60.0, seconds=-600, source="mock")])
    model.apply([FeedHealth(ts=T0 + timedelta(seconds=30), source="entsoe", state="up")])
    views = {m.market: m for m in model.snapshot().market_feeds}
    # Seen when it came (at the health event's time), not when it will be delivered.
    assert (views["DE"].last_tick_age_s, views["DE"].mtu_minutes) == (0.0, 60)
    assert (views["DE"].kind, views["DE"].source, views["DE"].stale) == (
        "day_ahead",
        "entsoe",
        False,
    )
    # An intraday tick without a delivery period: the market's MTU from the timeline
    # (15 minutes since the SDAC switch of 2025-10-01 … T0 is 2024: 60).
    assert (views["FR"].last_tick_age_s, views["FR"].mtu_minutes) == (30.0, 60)
    assert views["GB"].stale and views["GB"].last_tick_age_s == 630.0
    later = tick("FR", 51.0, at=datetime(2025, 11, 3, 9, 0, tzinfo=UTC), source="mock")
    model.apply([later])
    assert {m.market: m for m in model.snapshot().market_feeds}["FR"].mtu_minutes == 15


def test_the_pane_lists_the_feed_row_by_row():
    model = DashboardModel(("DE",))
    model.apply(
        [
            FeedHealth(
                ts=T0,
                source="entsoe",
                state="degraded",
                message="retrying: day-ahead prices DE: HTTP 503 from the API",
                since=T0 - timedelta(seconds=125),
                retries_total=3,
                errors_total=3,
                last_error="day-ahead prices DE: HTTP 503 from the API",
                budget_used=37,
                budget_limit=400,
            )
        ]
    )
    (view,) = model.snapshot().feeds
    assert (view.state, view.since_age_s, view.retries, view.errors) == ("degraded", 125.0, 3, 3)
    assert (view.budget_used, view.budget_limit) == (37, 400)
    assert view.reason.startswith("retrying:") and "HTTP 503" in view.last_error


async def test_tab_reaches_the_feed_health_pane_at_80x24():
    events = [e for e in dashboard_script() if not isinstance(e, FeedHealth)]
    events.append(degraded_entsoe(NOW))
    app = GridApp(ScriptedClient(events))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.dashboard
        assert screen.pane("feed-health").empty is False
        await pilot.press("shift+tab")
        assert screen.current_pane == "feed-health"
        assert screen.pane("feed-health").display and not screen.pane("prices").display
        table = screen.query_one(FeedHealthTable)
        assert app.focused is table
        assert "degraded" in table.cell_text("entsoe", "state")
        assert "37/400" in table.cell_text("entsoe", "budget")
        assert "HTTP 503" in table.cell_text("entsoe", "reason")
        markets = screen.query_one(FeedMarketTable)
        assert markets.row_keys == tuple(MARKETS)
        assert "stale" in markets.cell_text("GB", "age")  # GB went quiet ten minutes ago
        assert "15 min" in markets.cell_text("DE", "mtu")
        await pilot.press("slash", "d", "e")
        await pilot.pause()
        assert list(markets.row_keys) == ["DE"]  # the market filter narrows it too


async def test_offline_the_feed_is_down_with_the_connection_error(tmp_path):
    """The user's case: GRIDTUI_ENTSOE_TOKEN=fake, no network (nothing listens on port 9)."""
    settings = load_settings(
        environ={"GRIDTUI_ENTSOE_TOKEN": "fake"},
        overrides={
            "data_dir": str(tmp_path),
            "markets": ["DE", "FR"],
            "feed": {"kind": "entsoe"},
            "entsoe": {"url": "http://127.0.0.1:9/api", "max_attempts": 1, "timeout_s": 2.0},
        },
    )
    app = GridApp(InProcessClient(settings), ui=settings.ui, keys=settings.keys)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.dashboard
        bar = screen.query_one(StatusBar)
        async with asyncio.timeout(10):
            while bar.feed.state != "down":
                await pilot.pause(0.05)
        await pilot.pause(1.5)
        (feed,) = screen.snapshot.feeds
        assert (bar.feed.source, bar.feed.state, feed.state) == ("entsoe", "down", "down")
        assert "requests failed in a row" in feed.reason and "Connect" in feed.reason
        assert not any("is up" in a.message for a in screen.snapshot.alerts)
        await pilot.press("q")
        await pilot.pause()
