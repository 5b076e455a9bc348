"""``/ws/real-time``: every event type reaches the client; batch mode, filters, control."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import msgspec
from aiohttp import ClientWebSocketResponse, WSMsgType

from engine.events import (
    Alert,
    BacktestProgress,
    BatteryState,
    PriceTick,
    Severity,
    Trade,
)
from gridtui.daemon.keys import HUB
from gridtui.daemon.state import TrainRequest
from gridtui.daemon.websocket.client import WebSocketClient
from gridtui.daemon.websocket.protocol import encode_events
from gridtui.settings.daemon import ApiSettings
from tests.daemon.conftest import Daemon, DaemonFactory, UnavailableCommands, until
from tests.daemon.test_routes import spread_ticks
from tests.stubs.builders import T0, tick


async def receive(ws: ClientWebSocketResponse, until: set[str], within_s: float = 5.0):
    """Messages until one of each type in ``until`` arrived."""
    seen: dict[str, list[dict[str, Any]]] = {}
    async with asyncio.timeout(within_s):
        while not until <= set(seen):
            message = await ws.receive()
            assert message.type == WSMsgType.TEXT, message
            frame = msgspec.json.decode(message.data)
            frames = frame["messages"] if frame["type"] == "batch" else [frame]
            for item in frames:
                seen.setdefault(item["type"], []).append(item["data"])
    return seen


async def test_every_event_type_reaches_a_client(make_daemon: DaemonFactory) -> None:
    release = asyncio.Event()

    async def trainer(request: TrainRequest, progress) -> str:
        progress(25.0, "features")
        await release.wait()
        return "forecast-intraday-v9"

    daemon = await make_daemon(trainer=trainer)
    async with daemon.http.ws_connect("/ws/real-time") as ws:
        welcome = await receive(ws, {"welcome"})
        assert "price_update" in welcome["welcome"][0]["message_types"]
        await daemon.push(spread_ticks())
        await daemon.publish(
            [
                BatteryState(
                    ts=T0,
                    battery_id="b1",
                    market="DE",
                    soc_mwh=0.1,
                    soc_fraction=0.05,
                    power_mw=-1.0,
                    mode="charging",
                ),
                Trade(
                    ts=T0,
                    trade_id="t1",
                    strategy="alpha",
                    market="DE",
                    side="buy",
                    volume_mwh=1.0,
                    price_eur_mwh=40.0,
                ),
                BacktestProgress(
                    ts=T0,
                    run_id="bt-1",
                    state="running",
                    percent=10.0,
                    events_done=1,
                    events_total=10,
                ),
            ]
        )
        started = await daemon.http.post(
            "/api/v1/models/train", json={"kind": "forecast"}, headers=daemon.headers
        )
        assert started.status == 202
        seen = await receive(
            ws,
            {
                "price_update",
                "arbitrage_opportunity",
                "alert_triggered",
                "battery_update",
                "trade_executed",
                "backtest_progress",
                "model_training_progress",
            },
        )
        release.set()
    prices = [
        msgspec.json.decode(msgspec.json.encode(d), type=PriceTick) for d in seen["price_update"]
    ]
    assert {p.market for p in prices} == {"DE", "FR", "NL", "BE", "AT", "GB"}
    assert seen["arbitrage_opportunity"][0]["type"] == "SpreadOpportunity"
    assert {a["rule"] for a in seen["alert_triggered"]} >= {"arbitrage"}
    assert seen["battery_update"][0]["battery_id"] == "b1"
    assert seen["trade_executed"][0]["trade_id"] == "t1"
    assert seen["backtest_progress"][0]["percent"] == 10.0
    states = [job["state"] for job in seen["model_training_progress"]]
    assert states[0] == "queued"


async def test_batch_mode_and_type_filter(daemon: Daemon) -> None:
    async with daemon.http.ws_connect("/ws/real-time?types=alert_triggered&batch=1") as ws:
        await receive(ws, {"welcome"})
        await daemon.push(spread_ticks())
        message = await asyncio.wait_for(ws.receive(), 5)
        frame = msgspec.json.decode(message.data)
        assert frame["type"] == "batch"
        assert {m["type"] for m in frame["messages"]} == {"alert_triggered"}
        await ws.send_json({"action": "subscribe", "types": ["price_update"], "batch": False})
        subscribed = await receive(ws, {"subscribed"})
        assert subscribed["subscribed"][0] == {"types": ["price_update"], "batch": False}
        await daemon.push([tick("DE", 41.0, seconds=5)])
        got = await receive(ws, {"price_update"})
        assert got["price_update"][0]["price_eur_mwh"] == 41.0
    bad = await daemon.http.get("/ws/real-time?types=weather")
    assert bad.status == 400 and "weather" in (await bad.json())["error"]


async def test_ping_and_bad_messages(daemon: Daemon) -> None:
    async with daemon.http.ws_connect("/ws/real-time?types=alert_triggered") as ws:
        await receive(ws, {"welcome"})
        await ws.send_json({"action": "ping"})
        assert "pong" in await receive(ws, {"pong"})
        await ws.send_str("not json")
        error = await receive(ws, {"error"})
        assert error["error"][0]["status"] == 400
        await ws.send_json({"action": "dance"})
        error = await receive(ws, {"error"})
        assert "unknown action" in error["error"][0]["error"]


async def test_control_messages_need_the_token(daemon: Daemon) -> None:
    async with daemon.http.ws_connect("/ws/real-time?types=alert_triggered") as ws:
        await receive(ws, {"welcome"})
        await ws.send_json({"action": "toggle_strategy", "name": "alpha", "on": True})
        refused = await receive(ws, {"error"})
        assert refused["error"][0]["status"] == 401
        await ws.send_json({"action": "auth", "token": "wrong"})
        assert (await receive(ws, {"error"}))["error"][0]["status"] == 401
        assert daemon.commands.calls == []
        await ws.send_json({"action": "auth", "token": daemon.token})
        await receive(ws, {"authenticated"})
        await ws.send_json({"action": "toggle_strategy", "name": "alpha", "on": True})
        ack = await receive(ws, {"ack"})
        assert ack["ack"][0] == {"action": "toggle_strategy", "name": "alpha", "on": True}
        await ws.send_json({"action": "toggle_strategy", "name": "zeta", "on": True})
        assert (await receive(ws, {"error"}))["error"][0]["status"] == 404
    assert ("toggle_strategy", ("alpha", True)) in daemon.commands.calls
    async with daemon.http.ws_connect(
        "/ws/real-time?types=alert_triggered", headers=daemon.headers
    ) as ws:
        assert (await receive(ws, {"welcome"}))["welcome"][0]["authenticated"]
        await ws.send_json({"action": "stop_all_strategies"})
        await receive(ws, {"ack"})
    wrong = await daemon.http.get("/ws/real-time", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401


async def test_control_without_strategy_engine_says_503(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(commands=UnavailableCommands)
    async with daemon.http.ws_connect("/ws/real-time", headers=daemon.headers) as ws:
        await receive(ws, {"welcome"})
        await ws.send_json({"action": "stop_all_strategies"})
        error = await receive(ws, {"error"})
        assert error["error"][0]["status"] == 503
        assert "strategy engine" in error["error"][0]["error"]


async def test_a_slow_client_loses_its_oldest_messages_not_the_engine(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await make_daemon(api=ApiSettings(rate_limit_per_s=0, ws_queue_size=10))
    async with daemon.http.ws_connect("/ws/real-time?types=alert_triggered") as ws:
        await receive(ws, {"welcome"})
        [client] = daemon.app[HUB].clients
        alerts = [
            Alert(
                ts=T0 + timedelta(seconds=i),
                rule="test",
                severity=Severity.INFO,
                message=str(i),
                key=str(i),
            )
            for i in range(50)
        ]
        client.ready.clear()
        hub = daemon.app[HUB]
        hub.broadcast(alerts)  # all at once, before the sender can run
        seen = await receive(ws, {"dropped"})
        assert seen["dropped"][0]["total"] == 40
        got = await receive(ws, {"alert_triggered"})
        assert got["alert_triggered"][0]["message"] == "40"  # the 10 newest survive
    text = await (await daemon.http.get("/metrics")).text()
    assert "gridtui_websocket_dropped_messages_total 40.0" in text


async def test_too_many_clients_is_503(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon(api=ApiSettings(rate_limit_per_s=0, max_ws_clients=1))
    async with daemon.http.ws_connect("/ws/real-time") as ws:
        await receive(ws, {"welcome"})
        refused = await daemon.http.get("/ws/real-time")
        assert refused.status == 503
    assert (await daemon.http.get("/ws/real-time")).status == 400  # not an upgrade: plain GET


class RecordingSocket:
    """Stands in for aiohttp's WebSocketResponse: records frames, never closes."""

    def __init__(self) -> None:
        self.closed = False
        self.frames: list[bytes] = []

    async def send_frame(self, frame: bytes, opcode: object) -> None:
        self.frames.append(frame)


def batch_client(linger_s: float = 0.0) -> tuple[RecordingSocket, WebSocketClient]:
    """A batch-mode client of price updates on a socket that records its frames."""
    socket = RecordingSocket()
    client = WebSocketClient(
        socket,  # type: ignore[arg-type]
        peer="test",
        types=frozenset({"price_update"}),
        batch=True,
        queue_size=100,
        authenticated=False,
        batch_linger_s=linger_s,
    )
    return socket, client


async def test_a_batch_client_gets_everything_queued_in_one_frame_and_answers_first() -> None:
    socket, client = batch_client()
    for seconds in range(5):  # five engine batches before the sender runs
        client.offer(encode_events([tick("DE", 50.0 + seconds, seconds=seconds)]), None)
    client.push({"type": "pong"})
    sender = asyncio.create_task(client.run_sender())
    await until(lambda: client.sent == 5)
    sender.cancel()
    assert json.loads(socket.frames[0]) == {"type": "pong"}
    assert len(socket.frames) == 2
    batch = json.loads(socket.frames[1])
    assert batch["type"] == "batch"
    assert [m["data"]["price_eur_mwh"] for m in batch["messages"]] == [50.0, 51, 52, 53, 54]


async def test_a_batch_frame_gathers_what_arrives_within_the_linger() -> None:
    socket, client = batch_client(linger_s=0.05)
    sender = asyncio.create_task(client.run_sender())
    client.offer(encode_events([tick("DE", 50.0)]), None)
    await asyncio.sleep(0.01)  # within the linger: the same frame
    client.offer(encode_events([tick("DE", 51.0, seconds=1)]), None)
    await until(lambda: client.sent == 2)
    client.batch = False  # one message a frame from now on, without a linger
    client.offer(encode_events([tick("DE", 52.0, seconds=2)]), None)
    await until(lambda: client.sent == 3, within_s=0.04)
    sender.cancel()
    first = json.loads(socket.frames[0])
    assert [m["data"]["price_eur_mwh"] for m in first["messages"]] == [50.0, 51.0]
    assert json.loads(socket.frames[1])["type"] == "price_update"
