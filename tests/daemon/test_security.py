"""The API leaks nothing and never answers 500 (issue 14, security and bad input).

Path parameters are checked and resolved inside their root; no response or log
line carries a configured password; foreign Host and Origin headers are refused;
backtests and training jobs are capped; half-sent requests are dropped; far-off
dates are refused up front; HEAD works on GET routes; data files are 0600.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp import web

from engine.store.sqlite import SqliteStore
from gridtui.daemon.app import all_routes, start_server
from gridtui.daemon.server import start_api
from gridtui.daemon.state import TrainRequest
from gridtui.settings.daemon import AlertSettings, ApiSettings
from gridtui.settings.data import BusSettings, StoreSettings
from models.registry import ModelMeta, Registry, RegistryError
from tests.daemon.conftest import Daemon, DaemonFactory

DB_PASSWORD = "pg-s3cret-pw"
REDIS_PASSWORD = "redis-hunter2"


def _meta_at(directory: Path, model_id: str) -> None:
    directory.mkdir(parents=True)
    meta = ModelMeta(model_id=model_id, kind="forecast", task="dayahead")
    (directory / "meta.json").write_bytes(msgspec.json.encode(meta))


# --- 6. path traversal, 11. ENAMETOOLONG -------------------------------------------------


async def test_model_ids_cannot_leave_the_registry(daemon: Daemon) -> None:
    outside = daemon.tmp / "outside"
    _meta_at(outside, "stolen")
    absolute = str(outside).replace("/", "%2F")
    relative = "..%2F..%2Foutside"  # from DATA_DIR/models up to the daemon's root
    for model_id in (absolute, relative, "..", "%2E%2E", "a%00b"):
        response = await daemon.http.get(f"/api/v1/models/metrics/{model_id}")
        assert response.status in (400, 404), model_id
        body = await response.json()
        assert "stolen" not in str(body) and body["status"] == response.status


def test_the_registry_refuses_ids_that_are_not_plain_names(tmp_path: Path) -> None:
    _meta_at(tmp_path / "outside", "stolen")
    registry = Registry(tmp_path / "models", shipped=None)
    (tmp_path / "models").mkdir()
    for model_id in ("../outside", str(tmp_path / "outside"), "..", "a" * 5000, ""):
        with pytest.raises(RegistryError):
            registry.get(model_id)


async def test_overlong_path_parameters_answer_400(daemon: Daemon) -> None:
    long = "a" * 5000
    for path in (
        f"/api/v1/models/metrics/{long}",
        f"/api/v1/models/status/{long}",
        f"/api/v1/backtest/status/{long}",
        "/api/v1/backtest/results/..%2F..%2Fetc",
    ):
        response = await daemon.http.get(path)
        assert response.status in (400, 404), path
        assert (await response.json())["status"] == response.status


# --- 7. secrets inside URLs --------------------------------------------------------------


def _with_passwords(daemon: Daemon) -> None:
    daemon.engine.settings = msgspec.structs.replace(
        daemon.settings,
        store=StoreSettings(url=f"postgresql://grid:{DB_PASSWORD}@db.internal:5432/gridtui"),
        bus=BusSettings(url=f"redis://:{REDIS_PASSWORD}@redis.internal:6379/0"),
        alerts=AlertSettings(redis_url=f"rediss://alerts:{REDIS_PASSWORD}@r:6380/1"),
    )


async def test_no_response_carries_a_configured_password(daemon: Daemon) -> None:
    _with_passwords(daemon)
    paths = [
        spec.path
        for spec in all_routes(daemon.app, 100)
        if spec.method == "GET" and "{" not in spec.path and spec.path != "/ws/real-time"
    ]
    assert "/api/v1/settings" in paths
    for path in paths:
        text = await (await daemon.http.get(path)).text()
        assert DB_PASSWORD not in text and REDIS_PASSWORD not in text, path
    shown = (await (await daemon.http.get("/api/v1/settings")).json())["settings"]
    assert shown["store"]["url"] == "postgresql://grid:***@db.internal:5432/gridtui"
    assert shown["bus"]["url"] == "redis://:***@redis.internal:6379/0"


async def test_no_log_line_carries_a_configured_password(
    daemon: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    _with_passwords(daemon)
    settings = msgspec.structs.replace(
        daemon.engine.settings,
        api=ApiSettings(port=0, rate_limit_per_s=0),
        alerts=AlertSettings(),
    )
    caplog.set_level(logging.DEBUG)
    runner = await start_api(settings, daemon.runtime, client=daemon.commands)  # type: ignore[arg-type]
    assert runner is not None
    try:
        # A line that formats a URL, as a store or bus adapter might on an outage.
        logging.getLogger("gridtui.test").warning("store down: %s", settings.store.url)
        logging.getLogger("gridtui.test").warning(f"bus down: {settings.bus.url}")
        logging.getLogger("gridtui.test").warning("other: %s", "redis://u:other-pw@h/0")
    finally:
        await runner.cleanup()
    assert "store down" in caplog.text
    assert DB_PASSWORD not in caplog.text and REDIS_PASSWORD not in caplog.text
    assert "other-pw" not in caplog.text  # any URL's password, configured or not


# --- 8. Host and Origin ------------------------------------------------------------------


async def test_a_foreign_host_is_refused(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(api=ApiSettings(rate_limit_per_s=0, allowed_hosts=("grid.lan",)))
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example"):
        response = await daemon.http.get("/api/v1/dashboard/summary", headers={"Host": host})
        assert response.status in (403, 421), host
        assert "host" in (await response.json())["error"].lower()
    for host in ("localhost", "localhost:8765", "127.0.0.1:1", "[::1]:8765", "grid.lan:80"):
        response = await daemon.http.get("/api/v1/dashboard/summary", headers={"Host": host})
        assert response.status == 200, host


async def test_a_foreign_origin_is_refused_on_rest_and_websocket(daemon: Daemon) -> None:
    evil = {"Origin": "http://evil.example"}
    response = await daemon.http.get("/api/v1/dashboard/summary", headers=evil)
    assert response.status == 403
    assert "origin" in (await response.json())["error"].lower()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await daemon.http.ws_connect("/ws/real-time", headers=evil)
    assert refused.value.status == 403
    for origin in ("null", "http://localhost.evil.example"):
        response = await daemon.http.get("/health", headers={"Origin": origin})
        assert response.status == 403, origin
    good = {"Origin": "http://localhost:8765"}
    assert (await daemon.http.get("/api/v1/dashboard/summary", headers=good)).status == 200
    async with daemon.http.ws_connect("/ws/real-time", headers=good) as ws:
        assert not ws.closed


def test_allowed_hosts_are_validated() -> None:
    assert ApiSettings(allowed_hosts=("grid.lan", "10.0.0.7", "::1")).allowed_hosts
    for bad in (("evil.example/x",), ("",), ("a b",), ("http://grid.lan",)):
        with pytest.raises(ValueError, match=r"api\.allowed_hosts"):
            ApiSettings(allowed_hosts=bad)
    for field in ("max_running_backtests", "max_queued_jobs"):
        with pytest.raises(ValueError, match=rf"api\.{field}"):
            ApiSettings(**{field: 0})  # type: ignore[arg-type]


# --- 9. job caps -------------------------------------------------------------------------


async def test_running_backtests_are_capped(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(api=ApiSettings(rate_limit_per_s=0, max_running_backtests=2))
    body = {"start": "2024-01-01", "end": "2024-01-02", "strategies": ["alpha"]}
    for _ in range(2):
        ok = await daemon.http.post("/api/v1/backtest/start", json=body, headers=daemon.headers)
        assert ok.status == 202
    refused = await daemon.http.post("/api/v1/backtest/start", json=body, headers=daemon.headers)
    assert refused.status == 429
    answer = await refused.json()
    assert answer["running"] == 2 and "max_running_backtests" in answer["error"]


async def test_queued_training_jobs_are_capped(make_daemon: DaemonFactory) -> None:
    release = asyncio.Event()

    async def trainer(request: TrainRequest, progress: object) -> str:
        await release.wait()
        return "never"

    daemon = await make_daemon(
        api=ApiSettings(rate_limit_per_s=0, max_queued_jobs=3), trainer=trainer
    )
    statuses = []
    for _ in range(6):
        response = await daemon.http.post(
            "/api/v1/models/train", json={"kind": "forecast"}, headers=daemon.headers
        )
        statuses.append(response.status)
        if response.status == 429:
            answer = await response.json()
            break
        await asyncio.sleep(0.01)  # let the worker take the first job
    assert statuses[-1] == 429 and statuses.count(202) in (3, 4)
    assert answer["queued"] == 3 and "max_queued_jobs" in answer["error"]
    release.set()


# --- 10. header read timeout; /health and /metrics outside the rate limit ---------------


async def test_a_half_sent_request_is_dropped() -> None:
    app = web.Application()
    runner, url = await start_server(app, "127.0.0.1", 0, header_timeout_s=0.3)
    try:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        await writer.drain()
        async with asyncio.timeout(3.0):
            assert await reader.read() == b""  # the server closed it
        writer.close()
    finally:
        await runner.cleanup()


async def test_health_and_metrics_are_outside_the_rate_limit(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(
        api=ApiSettings(rate_limit_per_s=1, rate_limit_burst=1), limiter_clock=lambda: 0.0
    )
    assert (await daemon.http.get("/api/v1/dashboard/summary")).status == 200
    assert (await daemon.http.get("/api/v1/dashboard/summary")).status == 429
    for _ in range(5):
        assert (await daemon.http.get("/health")).status in (200, 503)
        assert (await daemon.http.get("/metrics")).status == 200


# --- 11. far-off dates -------------------------------------------------------------------


async def test_far_off_times_answer_400_naming_the_field(daemon: Daemon) -> None:
    base = "/api/v1/dashboard/prices/history?market=DE"
    for query, name in (
        ("&start=0001-01-01T00:00:00%2B05:00", "start"),
        ("&end=9999-12-31T23:59:59-05:00", "end"),
        ("&start=1800-01-01T00:00:00Z", "start"),
    ):
        response = await daemon.http.get(base + query)
        assert response.status == 400, query
        error = (await response.json())["error"]
        assert repr(name) in error and "1990-01-01" in error and "2100-01-01" in error


async def test_far_off_backtests_are_refused_up_front(daemon: Daemon) -> None:
    for start, end, name in (
        ("9999-12-30", "9999-12-31", "start"),
        ("0001-01-01", "0001-01-02", "start"),
        ("2024-01-01", "2200-01-02", "end"),
    ):
        body = {"start": start, "end": end, "strategies": ["alpha"]}
        response = await daemon.http.post(
            "/api/v1/backtest/start", json=body, headers=daemon.headers
        )
        assert response.status == 422, body
        error = (await response.json())["error"]
        assert repr(name) in error and "1990-01-01" in error
    assert not [c for c in daemon.commands.calls if c[0] == "start_backtest"]


# --- bad input: HEAD, file modes ---------------------------------------------------------


async def test_head_answers_like_get_without_a_body(daemon: Daemon) -> None:
    for path in ("/health", "/api/v1/dashboard/summary", "/openapi.json", "/metrics"):
        response = await daemon.http.head(path)
        assert response.status == 200, path
        assert await response.read() == b""
    assert (await daemon.http.head("/api/v1/backtest/start")).status == 405


async def test_the_database_and_its_wal_are_0600(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "data" / "gridtui.db")
    await store.open()
    try:
        await store._run(lambda: store.conn.execute("CREATE TABLE IF NOT EXISTS t (x)"))
        for name in ("gridtui.db", "gridtui.db-wal"):
            path = tmp_path / "data" / name
            assert path.exists(), name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    finally:
        await store.close()


async def test_the_alert_log_is_0600(tmp_path: Path) -> None:
    from gridtui.daemon.sinks import JsonLinesSink
    from tests.daemon.test_sinks import alert

    sink = JsonLinesSink(tmp_path / "data" / "alerts.jsonl")
    await sink.send(alert())
    await sink.send(alert())
    await sink.close()
    path = tmp_path / "data" / "alerts.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().splitlines()) == 2  # appended, not overwritten


def test_a_refused_store_or_bus_url_is_shown_without_its_password(tmp_path: Path) -> None:
    from gridtui.settings.loader import Settings, SettingsError
    from gridtui.wiring import build_bus, build_store

    settings = Settings(
        data_dir=str(tmp_path),
        store=StoreSettings(url=f"mysql://grid:{DB_PASSWORD}@db/x"),
        bus=BusSettings(url=f"amqp://grid:{REDIS_PASSWORD}@mq/"),
    )
    with pytest.raises(SettingsError) as store_error:
        build_store(settings)
    with pytest.raises(SettingsError) as bus_error:
        build_bus(settings)
    assert "grid:***@db" in str(store_error.value) and "grid:***@mq" in str(bus_error.value)
    assert DB_PASSWORD not in str(store_error.value) and REDIS_PASSWORD not in str(bus_error.value)


async def test_the_bound_address_is_an_allowed_host(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(api=ApiSettings(rate_limit_per_s=0, host="10.1.2.3"))
    ok = await daemon.http.get("/health", headers={"Host": "10.1.2.3:8765"})
    assert ok.status == 200
    refused = await daemon.http.get("/health", headers={"Host": "10.1.2.4:8765"})
    assert refused.status == 421
