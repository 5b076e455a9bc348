"""The audit log tells the truth (issue 15, item 8): who (dashboard, api:<address>), what,
and it can be read: ``GET /api/v1/audit`` (token) and the dashboard's audit screen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from engine.events import AuditEntry
from gridtui.client.in_process import InProcessClient
from gridtui.client.remote import RemoteClient
from gridtui.daemon.app import create_app
from gridtui.daemon.auth import TokenAuth
from gridtui.daemon.state import DaemonEngine
from gridtui.settings.components import StrategiesSettings
from gridtui.settings.daemon import ApiSettings
from gridtui.settings.data import FeedSettings
from gridtui.settings.loader import Settings
from tests.daemon.conftest import Daemon, until
from tests.stubs.builders import T0


def entry(entry_id: str, seconds: float, actor: str, action: str = "start") -> AuditEntry:
    return AuditEntry(
        ts=T0 + timedelta(seconds=seconds),
        entry_id=entry_id,
        actor=actor,
        action=action,
        strategy="alpha",
        reason=f"{action} by {actor}",
    )


async def test_an_api_toggle_names_the_api_its_address_and_the_route(daemon: Daemon) -> None:
    response = await daemon.http.post(
        "/api/v1/trading/strategies/alpha/toggle", json={"on": True}, headers=daemon.headers
    )
    assert response.status == 200
    [origin] = daemon.commands.origins
    assert origin is not None
    assert origin.actor == "api:127.0.0.1"
    assert origin.detail == "start via POST /api/v1/trading/strategies/alpha/toggle from 127.0.0.1"
    # X-Forwarded-For is not trusted: the socket's address is what is recorded.
    await daemon.http.post(
        "/api/v1/trading/stop-all",
        headers={**daemon.headers, "X-Forwarded-For": "203.0.113.9", "User-Agent": "x"},
    )
    assert daemon.commands.origins[-1] is not None
    assert daemon.commands.origins[-1].actor == "api:127.0.0.1"
    assert "203.0.113.9" not in daemon.commands.origins[-1].detail
    assert daemon.commands.origins[-1].detail.startswith("kill switch via POST /api/v1/trading")


async def test_audit_route_needs_the_token_filters_and_pages(daemon: Daemon) -> None:
    await daemon.runtime.store.write(
        [
            entry("e-1", 0, "dashboard"),
            entry("e-2", 10, "api:127.0.0.1", "stop"),
            entry("e-3", 20, "api:10.0.0.7"),
        ]
    )
    assert (await daemon.http.get("/api/v1/audit")).status == 401
    ok = await daemon.http.get("/api/v1/audit", headers=daemon.headers)
    assert ok.status == 200
    body = await ok.json()
    assert [e["entry_id"] for e in body["entries"]] == ["e-3", "e-2", "e-1"]
    assert body["next_offset"] is None

    async def ids(**query: str) -> list[str]:
        got = await daemon.http.get("/api/v1/audit", params=query, headers=daemon.headers)
        assert got.status == 200, await got.text()
        return [e["entry_id"] for e in (await got.json())["entries"]]

    assert await ids(actor="api") == ["e-3", "e-2"]
    assert await ids(actor="api:10.0.0.7") == ["e-3"]
    assert await ids(action="stop") == ["e-2"]
    assert await ids(**{"from": "2024-03-01T12:00:10Z", "to": "2024-03-01T12:00:20Z"}) == ["e-2"]
    page = await daemon.http.get("/api/v1/audit?limit=2", headers=daemon.headers)
    first = await page.json()
    assert [e["entry_id"] for e in first["entries"]] == ["e-3", "e-2"]
    assert first["next_offset"] == 2
    assert await ids(limit="2", offset="2") == ["e-1"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("action=explode", "'action'"),
        ("actor=a%20b", "'actor'"),
        ("from=yesterday", "'from'"),
        ("to=2026-13-01", "'to'"),
        ("from=2026-01-06T00:00:00Z&to=2026-01-05T00:00:00Z", "'from'"),
        ("limit=0", "'limit'"),
        ("offset=-1", "'offset'"),
    ],
)
async def test_bad_audit_parameters_are_400_naming_them(daemon: Daemon, query, named) -> None:
    response = await daemon.http.get(f"/api/v1/audit?{query}", headers=daemon.headers)
    assert response.status == 400
    assert named in (await response.json())["error"]


async def test_the_audit_route_is_in_the_openapi_document_behind_the_token(daemon: Daemon):
    document = await (await daemon.http.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/audit"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert {p["name"] for p in operation["parameters"]} == {
        "actor",
        "action",
        "from",
        "to",
        "limit",
        "offset",
    }
    assert "401" in operation["responses"]


@pytest.fixture
async def real_daemon(
    tmp_path: Path,
) -> AsyncIterator[tuple[TestClient[Any, Any], str, InProcessClient]]:
    """The daemon as ``gridtui daemon`` builds it: the real engine client, its strategies."""
    settings = Settings(
        markets=("DE", "FR"),
        data_dir=str(tmp_path / "data"),
        feed=FeedSettings(tick_interval_s=60.0),
        strategies=StrategiesSettings(enabled=("arbitrage",)),
        api=ApiSettings(rate_limit_per_s=0),
    )
    engine_client = InProcessClient(settings)
    await engine_client.start()
    auth, _ = TokenAuth.load_or_create(tmp_path / "api-token")
    engine = DaemonEngine(
        runtime=engine_client.runtime,
        client=engine_client,
        settings=settings,
        started_monotonic=engine_client.runtime.clock.monotonic(),
    )
    http = TestClient(TestServer(create_app(engine, settings.api, auth)))
    await http.start_server()
    yield http, auth.token, engine_client
    await http.close()
    await engine_client.close()


async def test_an_api_toggle_shows_in_the_attached_dashboards_audit_screen(real_daemon) -> None:
    from gridtui.tui.app import GridApp
    from gridtui.tui.screens.audit import AuditScreen

    http, token, engine_client = real_daemon
    response = await http.post(
        "/api/v1/trading/strategies/arbitrage/toggle",
        json={"on": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status == 200, await response.text()
    store = engine_client.runtime.store
    async with asyncio.timeout(30):
        for _ in iter(int, 1):  # poll until the writer has stored the entry
            if await store.audit_log():
                break
            await asyncio.sleep(0.05)
    remote = RemoteClient(str(http.make_url("")), token=token, reconnect_initial_s=0.05)
    await remote.connect()
    app = GridApp(remote)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("a")
        await until(lambda: isinstance(app.screen, AuditScreen) and bool(app.screen.rows), 30)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        [row] = [r for r in screen.rows if r[3] == "start"]
        local, utc, actor, _action, target, detail = row
        assert actor == "api:127.0.0.1"
        assert target == "arbitrage"
        assert detail == (
            "start via POST /api/v1/trading/strategies/arbitrage/toggle from 127.0.0.1"
        )
        assert utc.endswith("Z") and ("CET" in local or "CEST" in local)
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
    await remote.close()


async def test_dashboard_keys_are_audited_as_the_dashboard_in_process(tmp_path: Path) -> None:
    from gridtui.tui.app import GridApp
    from gridtui.tui.screens.audit import AuditScreen

    settings = Settings(
        markets=("DE", "FR"),
        data_dir=str(tmp_path / "data"),
        strategies=StrategiesSettings(enabled=("arbitrage",)),
    )
    client = InProcessClient(settings)
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: bool(app.model.strategy_names()), 30)
        await pilot.press("1", "1")
        store = client.runtime.store
        async with asyncio.timeout(30):
            while not await store.audit_log():
                await pilot.pause(0.05)
        await pilot.press("a")
        await until(lambda: isinstance(app.screen, AuditScreen) and bool(app.screen.rows), 30)
        assert isinstance(app.screen, AuditScreen)
        [row] = [r for r in app.screen.rows if r[3] == "start"]
        assert row[2] == "dashboard"
        assert row[5] == "start: strategy key pressed and confirmed on the dashboard"
        await pilot.press("escape", "q")
        await pilot.pause()
