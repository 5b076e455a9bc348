"""Alert sinks: log, stdout, JSON lines, webhook with retries, Redis stream, dashboard;
the router that feeds them from the bus, and the daemon's own store/bus alerts."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from engine.bus.memory import MemoryBus
from engine.events import ALERTS, Alert, Severity
from gridtui.daemon.alert_router import AlertRouter
from gridtui.daemon.sinks import (
    AlertSink,
    DashboardSink,
    JsonLinesSink,
    LogSink,
    RedisStreamSink,
    SinkError,
    StdoutSink,
    WebhookSink,
    build_sinks,
    redact_url,
)
from gridtui.settings.daemon import AlertSettings
from tests.daemon.conftest import Daemon, DaemonFactory, until
from tests.daemon.test_routes import spread_ticks
from tests.stubs.builders import T0


def alert(severity: Severity = Severity.WARNING, rule: str = "price_spike") -> Alert:
    return Alert(
        ts=T0, rule=rule, severity=severity, message="DE price €900/MWh", key="DE", market="DE"
    )


class Recorder:
    """A sink that keeps what it got (or fails when told to)."""

    def __init__(
        self, name: str = "recorder", *, fail: bool = False, min_severity: Severity = Severity.INFO
    ) -> None:
        self.name = name
        self.fail = fail
        self.min_severity = min_severity
        self.got: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        if self.fail:
            raise SinkError("down")
        self.got.append(alert)

    async def close(self) -> None:
        return None


async def test_log_stdout_and_jsonl_sinks(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    stream = io.StringIO()
    path = tmp_path / "alerts" / "alerts.jsonl"
    sinks: list[AlertSink] = [LogSink(), StdoutSink(stream=stream), JsonLinesSink(path)]
    with caplog.at_level(logging.INFO, logger="gridtui.alerts"):
        for sink in sinks:
            await sink.send(alert())
            await sink.send(alert(Severity.CRITICAL, "feed_stale"))
    for sink in sinks:
        await sink.close()
    assert caplog.records[0].levelno == logging.WARNING
    assert caplog.records[1].levelno == logging.CRITICAL
    assert getattr(caplog.records[0], "rule") == "price_spike"  # noqa: B009
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines == [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {
        "ts": "2024-03-01T12:00:00+00:00",
        "rule": "price_spike",
        "severity": "warning",
        "message": "DE price €900/MWh",
        "key": "DE",
        "market": "DE",
    }


async def webhook_server(answers: list[int]) -> tuple[TestServer, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        status = answers.pop(0) if answers else 200
        return web.json_response({}, status=status)

    app = web.Application()
    app.router.add_post("/hooks/T000/B000/s3cret", hook)
    server = TestServer(app)
    await server.start_server()
    return server, received


async def test_webhook_retries_until_it_gets_through() -> None:
    server, received = await webhook_server([500, 429, 200])
    try:
        sink = WebhookSink(
            str(server.make_url("/hooks/T000/B000/s3cret")), backoff_initial_s=0.01, attempts=4
        )
        await sink.send(alert())
        await sink.close()
    finally:
        await server.close()
    assert len(received) == 3
    assert received[-1]["text"] == "[WARNING] price_spike (DE): DE price €900/MWh"
    assert received[-1]["severity"] == "warning"


async def test_webhook_gives_up_and_never_names_its_secret_path() -> None:
    server, received = await webhook_server([400])
    url = str(server.make_url("/hooks/T000/B000/s3cret"))
    try:
        sink = WebhookSink(url, backoff_initial_s=0.01)
        with pytest.raises(SinkError, match="refused") as refused:
            await sink.send(alert())
        assert len(received) == 1  # a 4xx is not retried
        assert "s3cret" not in str(refused.value)
        server_down = WebhookSink(
            "http://127.0.0.1:9/hooks/s3cret", backoff_initial_s=0.01, attempts=2, timeout_s=1
        )
        with pytest.raises(SinkError, match="failed 2 times") as failed:
            await server_down.send(alert())
        assert "s3cret" not in str(failed.value)
        await sink.close()
        await server_down.close()
    finally:
        await server.close()
    assert redact_url("https://hooks.example.com:8443/T/B/s3cret?x=1") == (
        "https://hooks.example.com:8443/…"
    )


async def test_redis_stream_sink(redis_prefix: tuple[str, str]) -> None:
    import redis.asyncio as aioredis

    url, prefix = redis_prefix
    sink = RedisStreamSink(url, f"{prefix}:alerts-out")
    await sink.send(alert())
    await sink.close()
    client = aioredis.Redis.from_url(url)
    try:
        entries: Any = await client.xrange(f"{prefix}:alerts-out")
        [(_, fields)] = entries
    finally:
        await client.aclose()
    assert fields[b"rule"] == b"price_spike" and fields[b"severity"] == b"warning"
    unreachable = RedisStreamSink("redis://127.0.0.1:9/0", "x", attempts=2, backoff_initial_s=0.01)
    with pytest.raises(SinkError, match="after 2 tries"):
        await unreachable.send(alert())
    await unreachable.close()


def test_build_sinks_from_settings(tmp_path: Path) -> None:
    settings = AlertSettings(
        stdout=True,
        jsonl_path="alerts.jsonl",
        webhook_url="https://h.example/x",
        redis_stream="gridtui:alerts-out",
        min_severity="warning",
    )
    sinks = build_sinks(settings, data_dir=tmp_path, bus_url="redis://127.0.0.1:6379/0")
    assert [s.name for s in sinks] == ["log", "stdout", "jsonl", "webhook", "redis"]
    assert all(s.min_severity is not Severity.INFO for s in sinks)
    jsonl = sinks[2]
    assert isinstance(jsonl, JsonLinesSink) and jsonl.path == tmp_path / "alerts.jsonl"
    with pytest.raises(ValueError, match="redis_url"):
        build_sinks(AlertSettings(redis_stream="x"), data_dir=tmp_path, bus_url="memory")


async def test_router_filters_by_severity_and_survives_a_failing_sink() -> None:
    everything, serious, broken = (
        Recorder("all"),
        Recorder("serious", min_severity=Severity.CRITICAL),
        Recorder(fail=True),
    )
    router = AlertRouter([everything, serious, broken])
    await router.deliver(alert(Severity.INFO))
    await router.deliver(alert(Severity.CRITICAL))
    assert len(everything.got) == 2 and len(serious.got) == 1
    assert router.failed == 2 and router.delivered == 3


async def test_router_takes_alerts_off_the_bus_and_the_dashboard_sink_puts_them_on() -> None:
    bus = MemoryBus()
    recorder = Recorder()
    router = AlertRouter([recorder], dashboard=DashboardSink(bus))
    subscription = await router.subscribe(bus)
    viewer = await bus.subscribe([ALERTS], name="dashboard")
    task = asyncio.create_task(router.run(bus, subscription))
    await router.raise_local(alert(rule="store_down"))
    await until(lambda: bool(recorder.got), 2)
    assert [getattr(a, "rule", None) for a in await viewer.next_batch(timeout=1)] == ["store_down"]
    await bus.close()
    await asyncio.wait_for(task, 2)  # a closed bus ends the router
    # With the bus gone, the daemon's own alerts still reach the sinks directly.
    await router.raise_local(alert(rule="bus_down"))
    assert [a.rule for a in recorder.got] == ["store_down", "bus_down"]


async def test_engine_alerts_reach_the_sinks_end_to_end(make_daemon: DaemonFactory) -> None:
    recorder = Recorder()
    daemon = await make_daemon(sinks=[recorder])
    await daemon.push(spread_ticks())
    await until(lambda: bool(recorder.got), 3)
    assert recorder.got[0].rule == "arbitrage"
    metrics = await (await daemon.http.get("/metrics")).text()
    assert 'gridtui_alert_sink_deliveries_total{sink="recorder"}' in metrics


async def test_store_outage_raises_the_daemons_own_alerts(make_daemon: DaemonFactory) -> None:
    recorder = Recorder()
    daemon: Daemon = await make_daemon(sinks=[recorder], monitor_interval_s=0.02)
    writer = daemon.runtime.writer
    writer.stats.store_up = False
    writer.stats.last_error = "connection refused"
    await until(lambda: bool(any(a.rule == "store_down" for a in recorder.got)), 3)
    writer.stats.store_up = True
    await until(lambda: bool(any(a.rule == "store_recovered" for a in recorder.got)), 3)
    down = next(a for a in recorder.got if a.rule == "store_down")
    assert down.severity is Severity.CRITICAL and "connection refused" in down.message
    summary = await (await daemon.http.get("/api/v1/dashboard/summary")).json()
    assert {a["rule"] for a in summary["recent_alerts"]} >= {"store_down", "store_recovered"}
