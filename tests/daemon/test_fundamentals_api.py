"""Fundamentals over the daemon: ``GET /api/v1/dashboard/fundamentals`` and the WebSocket.

A real runtime behind aiohttp's test server: fundamentals go in through the
kernel as a feed sends them, and come out of the REST route, the OpenAPI
document, a raw WebSocket and a remote dashboard's Fundamentals pane.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from engine.events import Fundamentals
from gridtui.client.remote import RemoteClient
from tests.daemon.conftest import Daemon, DaemonFactory
from tests.daemon.test_websocket import receive
from tests.stubs.builders import T0


def drivers(
    market: str,
    minutes: int,
    load: float,
    wind: float,
    solar: float,
    *,
    forecast: float | None = None,
) -> Fundamentals:
    return Fundamentals(
        load_forecast_mw=forecast,
        ts=T0 + timedelta(minutes=minutes),
        market=market,
        load_mw=load,
        wind_mw=wind,
        solar_mw=solar,
        source="entsoe",
    )


async def test_the_route_answers_newest_history_and_strategy_inputs(daemon: Daemon) -> None:
    await daemon.push(
        [
            drivers("DE", 0, 60_000.0, 20_000.0, 10_000.0),
            drivers("FR", 0, 50_000.0, 5_000.0, 0.0),
            drivers("DE", 15, 62_000.0, 21_000.0, 9_000.0, forecast=61_500.0),
        ]
    )
    response = await daemon.http.get("/api/v1/dashboard/fundamentals", params={"market": "de"})
    assert response.status == 200
    body = await response.json()
    assert body["count"] == 1
    (de,) = body["markets"]
    assert de["market"] == "DE" and de["source"] == "entsoe"
    assert de["latest"]["residual_load_mw"] == 62_000 - 21_000 - 9_000
    assert de["latest"]["load_forecast_mw"] == 61_500.0
    assert de["history"][0]["load_forecast_mw"] is None  # that interval came without one
    assert [p["load_mw"] for p in de["history"]] == [60_000.0, 62_000.0]
    assert de["strategy_inputs"] == {"renewables_share": 0.4839, "load_gw": 62.0}

    every = await (await daemon.http.get("/api/v1/dashboard/fundamentals?limit=1")).json()
    by_market = {m["market"]: m for m in every["markets"]}
    assert list(by_market) == list(daemon.settings.markets)
    assert [p["load_mw"] for p in by_market["DE"]["history"]] == [62_000.0]
    assert by_market["NL"]["latest"] is None and by_market["NL"]["history"] == []


async def test_bad_queries_say_what_was_wrong(daemon: Daemon) -> None:
    unknown = await daemon.http.get("/api/v1/dashboard/fundamentals?market=XX")
    assert unknown.status == 404
    assert "'XX' is not configured" in (await unknown.json())["error"]
    bad_limit = await daemon.http.get("/api/v1/dashboard/fundamentals?limit=0")
    assert bad_limit.status == 400 and "limit" in (await bad_limit.json())["error"]


async def test_the_openapi_document_describes_the_route(daemon: Daemon) -> None:
    document = await (await daemon.http.get("/openapi.json")).json()
    route = document["paths"]["/api/v1/dashboard/fundamentals"]["get"]
    assert {p["name"] for p in route["parameters"]} >= {"market", "limit"}
    assert "FundamentalsBody" in document["components"]["schemas"]


async def test_a_websocket_client_gets_fundamentals_updates(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon()
    async with daemon.http.ws_connect("/ws/real-time?types=fundamentals_update") as ws:
        await receive(ws, {"welcome"})
        await daemon.push([drivers("DE", 0, 60_000.0, 20_000.0, 10_000.0)])
        got = await receive(ws, {"fundamentals_update"})
    (message,) = got["fundamentals_update"]
    assert message["load_mw"] == 60_000.0 and message["market"] == "DE"


async def test_a_remote_dashboard_shows_the_fundamentals_pane(daemon: Daemon) -> None:
    from gridtui.tui.app import GridApp
    from gridtui.tui.widgets.fundamentals_table import FundamentalsTable

    client = RemoteClient(
        str(daemon.http.make_url("")), token=daemon.token, reconnect_initial_s=0.05
    )
    await client.connect()
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(client.connected.wait(), 5)
        await daemon.push([drivers("FR", 0, 50_000.0, 5_000.0, 4_000.0)])
        table = app.dashboard.query_one(FundamentalsTable)
        async with asyncio.timeout(10):
            while "FR" not in table.row_keys or "41,000" not in table.cell_text("FR", "residual"):
                await pilot.pause(0.05)
        assert not app.dashboard.pane("fundamentals").empty
        await pilot.press("q")
        await pilot.pause()
