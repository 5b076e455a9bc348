"""``/api/v1/recorder``: the flight recorder over HTTP, and a dashboard rewinding on a daemon."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from engine.events import Alert, PriceKind, PriceTick, Severity
from engine.market.timeline import MarketTimeline
from engine.store.recording import state_at
from gridtui.client.remote import RemoteClient
from tests.daemon.conftest import Daemon
from tests.daemon.test_routes import body, spread_ticks
from tests.stubs.builders import T0, tick

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


async def record(daemon: Daemon) -> None:
    """Three minutes of six markets, the DE price rising 1 € a minute, and two alerts."""
    for minute in range(3):
        ticks = spread_ticks(seconds=60.0 * minute)
        await daemon.push([tick("DE", 40.0 + minute, seconds=60.0 * minute), *ticks[1:]])
    await daemon.runtime.store.write(
        [
            Alert(ts=T0 + timedelta(seconds=s), rule="spike", severity=Severity.WARNING,
                  message=f"at {s}", key=str(s))
            for s in (30, 90)
        ]
    )  # fmt: skip


async def test_span_state_and_pages(daemon: Daemon) -> None:
    http = daemon.http
    assert await body(await http.get("/api/v1/recorder/span")) == {"first": None, "last": None}
    await record(daemon)

    span = await body(await http.get("/api/v1/recorder/span"))
    assert span == {"first": T0.isoformat(), "last": (T0 + timedelta(minutes=2)).isoformat()}

    at = T0 + timedelta(seconds=90)
    state = await body(await http.get("/api/v1/recorder/state", params={"at": at.isoformat()}))
    assert state["count"] == len(state["events"])
    de = [
        e["price_eur_mwh"]
        for e in state["events"]
        if e["type"] == "PriceTick" and e["market"] == "DE" and e["kind"] == "intraday"
    ]
    assert de == [40.0, 41.0]  # the chart window up to 90 s; the tick at 120 s is later
    assert [e["message"] for e in state["events"] if e.get("rule") == "spike"] == [
        "at 30",
        "at 90",
    ]
    assert any(e["type"] == "SpreadOpportunity" for e in state["events"])

    page = await body(
        await http.get(
            "/api/v1/recorder/events", params={"kind": "alert", "key": "spike", "limit": "1"}
        )
    )
    assert [e["message"] for e in page["events"]] == ["at 90"]
    older = await body(
        await http.get(
            "/api/v1/recorder/events",
            params={"kind": "alert", "key": "spike", "limit": "1", "until": page["next_until"]},
        )
    )
    assert [e["message"] for e in older["events"]] == ["at 30"]


@pytest.mark.parametrize(
    ("path", "params", "said"),
    [
        ("/api/v1/recorder/state", {}, "'at' is required"),
        ("/api/v1/recorder/state", {"at": "yesterday"}, "at"),
        ("/api/v1/recorder/events", {}, "'kind' is required: one of alert"),
        ("/api/v1/recorder/events", {"kind": "colour"}, "kind"),
    ],
)
async def test_bad_queries_say_what_is_accepted(daemon: Daemon, path, params, said) -> None:
    found = await body(await daemon.http.get(path, params=params), status=400)
    assert said in str(found)


async def test_the_remote_client_reads_what_the_store_holds(daemon: Daemon) -> None:
    await record(daemon)
    remote = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    try:
        await remote.start()
        span = await remote.recording_span()
        assert span is not None and span.last == T0 + timedelta(minutes=2)
        at = T0 + timedelta(seconds=90)
        here = await state_at(
            daemon.runtime.store,
            at,
            MARKETS,
            chart_hours=daemon.settings.ui.chart_hours,
            timeline=MarketTimeline(daemon.settings.market),
        )
        assert await remote.state_at(at) == here  # decoded into the engine's own types
    finally:
        await remote.close()


async def test_a_dashboard_rewinds_on_a_daemon(daemon: Daemon) -> None:
    from gridtui.tui.app import GridApp
    from gridtui.tui.widgets.price_table import PriceTable
    from gridtui.tui.widgets.status_bar import StatusBar

    await record(daemon)
    client = RemoteClient(str(daemon.http.make_url("")), token=daemon.token)
    await client.connect()
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        async with asyncio.timeout(10):
            while not app.dashboard.snapshot.markets or app.model.now is None:
                await pilot.pause(0.05)
        await pilot.press("r")  # rewind at the present (the newest tick, 42 € in DE)
        async with asyncio.timeout(10):
            while not app.rewind.active:
                await pilot.pause(0.05)
        await pilot.press("comma")  # one recorded tick back: 41 €
        table = app.dashboard.query_one(PriceTable)
        async with asyncio.timeout(10):
            while app.rewind.at != T0 + timedelta(minutes=1):
                await pilot.pause(0.05)
        await pilot.pause()
        assert "41.00" in table.cell_text("DE", "price")
        assert "◀◀ REWIND" in app.dashboard.query_one(StatusBar).render().plain
        # Live ticks keep arriving and stay off the rewound frame until live again.
        await daemon.push([PriceTick(ts=T0 + timedelta(minutes=3), market="DE",
                                     price_eur_mwh=77.0, kind=PriceKind.INTRADAY)])  # fmt: skip
        await pilot.pause(0.3)
        assert "41.00" in table.cell_text("DE", "price")
        await pilot.press("r")
        async with asyncio.timeout(10):
            while "77.00" not in table.cell_text("DE", "price"):
                await pilot.pause(0.05)
        assert "REWIND" not in app.dashboard.query_one(StatusBar).render().plain
    await client.close()
