"""``GET /api/v1/feeds/health`` and ``/health``: the kernel's one feed state, on a real
aiohttp test server, and a dashboard attached with RemoteClient reading it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.events import FeedHealth, PriceKind, PriceTick
from gridtui.client.remote import RemoteClient
from tests.daemon.conftest import Daemon, DaemonFactory, until
from tests.daemon.test_routes import body, spread_ticks
from tests.stubs.builders import T0, tick


async def test_feeds_health_lists_the_feed_and_each_markets_last_tick(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    ahead = PriceTick(
        ts=T0 + timedelta(hours=20),
        market="DE",
        price_eur_mwh=70.0,
        kind=PriceKind.DAY_AHEAD,
        delivery_minutes=15,
        source="entsoe",
    )
    await daemon.push([ahead])
    found = await body(await daemon.http.get("/api/v1/feeds/health"))
    (feed,) = found["feeds"]
    assert (feed["type"], feed["source"], feed["state"], feed["message"]) == (
        "FeedHealth",
        "queue",
        "up",
        "",
    )
    assert feed["events_total"] == 7 and feed["since"] is not None
    markets = {m["market"]: m for m in found["markets"]}
    assert list(markets) == ["DE", "FR", "NL", "BE", "AT", "GB"]
    # The day-ahead tick counts when it arrived, not at its delivery 20 h ahead.
    assert markets["DE"]["last_tick_age_s"] == 0.0
    assert (markets["DE"]["mtu_minutes"], markets["DE"]["kind"]) == (15, "day_ahead")
    assert markets["DE"]["source"] == "entsoe"
    # An intraday tick without a delivery period: the market's MTU on that day (2024: 60).
    assert (markets["FR"]["mtu_minutes"], markets["FR"]["source"]) == (60, "test")
    health = await body(await daemon.http.get("/health"))
    assert (health["status"], health["feed"]["state"], health["feed"]["reason"]) == (
        "healthy",
        "up",
        "",
    )


async def test_health_and_the_route_and_the_published_event_agree_when_the_feed_goes_quiet(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(stale_after_s=60.0)
    await daemon.push(spread_ticks())
    assert (await body(await daemon.http.get("/health")))["status"] == "healthy"
    daemon.clock.advance_to(T0 + timedelta(seconds=125))  # the feed stays silent
    health = await body(await daemon.http.get("/health"))
    assert health["status"] == "degraded"
    assert health["feed"]["state"] == "down"
    assert health["feed"]["reason"] == "nothing from the feed for 125 s"
    assert health["feed"]["since"] == "2024-03-01T12:01:00Z"  # 60 s after the last batch
    (feed,) = (await body(await daemon.http.get("/api/v1/feeds/health")))["feeds"]
    assert (feed["state"], feed["message"]) == ("down", health["feed"]["reason"])
    # The kernel publishes the same state, so the alerts and dashboards see it too.
    feeds = daemon.engine.live.feeds
    await until(lambda: "queue" in feeds and feeds["queue"].state == "down", 5)
    assert daemon.engine.live.feeds["queue"].message == health["feed"]["reason"]
    await until(lambda: any(a.rule == "feed_down" for a in daemon.engine.live.alerts), 5)
    await daemon.push([tick("DE", 41.0, seconds=126)])
    again = await body(await daemon.http.get("/health"))
    assert (again["status"], again["feed"]["state"]) == ("healthy", "up")


async def test_the_route_is_documented_in_the_openapi_document(daemon: Daemon) -> None:
    document = await body(await daemon.http.get("/openapi.json"))
    route = document["paths"]["/api/v1/feeds/health"]["get"]
    schema = route["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/FeedsHealth"}
    fields = document["components"]["schemas"]["FeedsHealth"]["properties"]
    assert set(fields) == {"feeds", "markets", "retrieved_at"}
    feed_status = document["components"]["schemas"]["FeedStatus"]["properties"]
    assert {"reason", "since"} <= set(feed_status)


async def test_an_attached_dashboard_gets_the_daemons_feed_state_at_once(daemon: Daemon) -> None:
    await daemon.push(spread_ticks())
    client = RemoteClient(str(daemon.http.make_url("")), reconnect_initial_s=0.05)
    try:
        feeds = await client.feeds_health()
        assert [(f.source, f.state) for f in feeds] == [("queue", "up")]
        assert isinstance(feeds[0], FeedHealth)
        await client.start()
        # Before any event comes over the socket, the client hands out the daemon's state.
        first = await asyncio.wait_for(client.next_events(timeout=1.0), 5)
        assert [(e.source, e.state) for e in first if isinstance(e, FeedHealth)] == [
            ("queue", "up")
        ]
    finally:
        await client.close()


async def test_the_feed_health_pane_follows_a_remote_daemon(make_daemon: DaemonFactory) -> None:
    from gridtui.tui.app import GridApp
    from gridtui.tui.widgets.feed_health_table import FeedHealthTable
    from gridtui.tui.widgets.feed_market_table import FeedMarketTable
    from gridtui.tui.widgets.status_bar import StatusBar

    daemon = await make_daemon(stale_after_s=60.0)
    await daemon.push(spread_ticks())
    client = RemoteClient(str(daemon.http.make_url("")), reconnect_initial_s=0.05)
    await client.connect()
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.dashboard
        table = screen.query_one(FeedHealthTable)
        async with asyncio.timeout(10):
            while table.row_keys != ("queue",):
                await pilot.pause(0.05)
        assert "up" in table.cell_text("queue", "state")
        markets = screen.query_one(FeedMarketTable)
        assert "test" in markets.cell_text("FR", "source")
        assert "60 min" in markets.cell_text("FR", "mtu")
        await asyncio.wait_for(client.connected.wait(), 5)
        daemon.clock.advance_to(T0 + timedelta(seconds=125))  # the daemon's feed goes quiet
        async with asyncio.timeout(10):
            while "down" not in table.cell_text("queue", "state"):
                await pilot.pause(0.05)
        assert "nothing from the feed for" in table.cell_text("queue", "reason")
        assert screen.query_one(StatusBar).feed.state == "down"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
