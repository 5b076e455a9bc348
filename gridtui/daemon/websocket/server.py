"""``/ws/real-time``: every engine event, pushed to any number of WebSocket clients.

One bus subscription feeds all clients: the app's bus pump hands each batch to
:meth:`WebSocketHub.broadcast`, which encodes every event once and appends the
encoded messages to each client's bounded queue. A client's own sender task
drains its queue; a client that falls behind loses its oldest messages (counted,
and reported to it in a ``dropped`` message) and never slows the engine or the
other clients.

Messages from the server are JSON text frames ``{"type": …, "data": …}``:

=====================  ===================================================
``price_update``        a PriceTick
``battery_update``      a BatteryState
``arbitrage_opportunity``  a SpreadOpportunity (opened, updated, closed)
``trade_executed``      a Trade
``alert_triggered``     an Alert
``backtest_progress``   a BacktestProgress
``model_training_progress``  a training job of ``POST /api/v1/models/train``
``ledger_update``       the capture ledger (as ``GET /api/v1/ledger``), after a
                        delivery or a settlement
``strategy_update``, ``forecast_update``, ``feed_health``,
``fundamentals_update``, ``audit_entry``   the other engine events
=====================  ===================================================

``data`` is the event as tagged JSON (its ``type`` field names the event class),
so a client can decode it into the engine's own types. With ``batch`` on, a
client gets ``{"type": "batch", "messages": [...]}`` frames instead — one frame
with everything queued for it since its last send, far cheaper at thousands of
events a second (remote dashboards use it).

Messages from a client (JSON objects with an ``action``):

* ``{"action": "subscribe", "types": [...], "batch": false}`` — what to receive
  (also as query parameters ``?types=price_update,alert_triggered&batch=1``);
* ``{"action": "ping"}`` — answered with ``pong``;
* ``{"action": "auth", "token": "…"}`` — authenticate this connection (or send
  ``Authorization: Bearer …`` with the handshake);
* ``{"action": "toggle_strategy", "name": "…", "on": true}`` and
  ``{"action": "stop_all_strategies"}`` — control messages: they need an
  authenticated connection, else the answer is an ``error`` with status 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final

import msgspec
from aiohttp import WSMsgType, web

from engine.events import Event
from gridtui.client.protocol import NotAvailable, Origin
from gridtui.daemon.websocket.client import WebSocketClient
from gridtui.daemon.websocket.protocol import (
    ALL_MESSAGE_TYPES,
    ClientMessage,
    encode_events,
    encoder,
    frame,
)

if TYPE_CHECKING:
    from gridtui.daemon.auth import TokenAuth
    from gridtui.daemon.metrics import DaemonMetrics
    from gridtui.daemon.state import DaemonEngine

log = logging.getLogger(__name__)

WS_PATH: Final = "/ws/real-time"


class WebSocketHub:
    """Every connected client; the bus pump broadcasts through it."""

    def __init__(
        self,
        engine: DaemonEngine,
        auth: TokenAuth,
        *,
        max_clients: int,
        queue_size: int,
        batch_linger_s: float = 0.0,
        metrics: DaemonMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.batch_linger_s = batch_linger_s
        self.auth = auth
        self.max_clients = max_clients
        self.queue_size = queue_size
        self.metrics = metrics
        self.clients: set[WebSocketClient] = set()

    def broadcast(self, events: Sequence[Event]) -> None:
        if not self.clients or not events:
            return
        messages = encode_events(events)
        for client in self.clients:
            client.offer(messages, self.metrics)

    def broadcast_message(self, message_type: str, data: object) -> None:
        if not self.clients:
            return
        messages = [(message_type, frame(message_type, encoder.encode(data)))]
        for client in self.clients:
            client.offer(messages, self.metrics)

    async def close_all(self) -> None:
        for client in list(self.clients):
            with contextlib.suppress(Exception):
                await client.ws.close(code=1001, message=b"daemon shutting down")

    # -- the handler -----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if len(self.clients) >= self.max_clients:
            return web.json_response(
                {"error": f"too many WebSocket clients (limit {self.max_clients})", "status": 503},
                status=503,
            )
        try:
            types = self._parse_types(request.query.get("types"))
        except ValueError as exc:
            return web.json_response({"error": str(exc), "status": 400}, status=400)
        batch = request.query.get("batch", "").lower() in ("1", "true", "yes")
        authorization = request.headers.get("Authorization")
        authenticated = bool(authorization) and self.auth.check_header(authorization)
        if authorization and not authenticated:
            if self.metrics:
                self.metrics.auth_failures.inc()
            return web.json_response(
                {"error": "invalid bearer token", "status": 401},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="gridtui"'},
            )
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=64 * 1024)
        if not ws.can_prepare(request).ok:
            return web.json_response(
                {
                    "error": "this is a WebSocket endpoint: connect with a WebSocket client",
                    "status": 400,
                },
                status=400,
            )
        await ws.prepare(request)
        client = WebSocketClient(
            ws,
            peer=request.remote or "?",
            types=types,
            batch=batch,
            queue_size=self.queue_size,
            authenticated=authenticated,
            batch_linger_s=self.batch_linger_s,
        )
        self.clients.add(client)
        if self.metrics:
            self.metrics.ws_clients.set(len(self.clients))
        sender = asyncio.create_task(client.run_sender(), name=f"ws-sender-{client.peer}")
        client.push(
            {
                "type": "welcome",
                "data": {
                    "types": sorted(client.types),
                    "batch": client.batch,
                    "authenticated": client.authenticated,
                    "message_types": list(ALL_MESSAGE_TYPES),
                },
            }
        )
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._on_message(client, message.data)
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.clients.discard(client)
            if self.metrics:
                self.metrics.ws_clients.set(len(self.clients))
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        return ws

    @staticmethod
    def _parse_types(raw: str | Iterable[str] | None) -> frozenset[str]:
        if raw is None or raw == "" or raw == "all":
            return frozenset(ALL_MESSAGE_TYPES)
        names = [part.strip() for part in raw.split(",")] if isinstance(raw, str) else list(raw)
        unknown = sorted(set(names) - set(ALL_MESSAGE_TYPES))
        if unknown:
            raise ValueError(
                f"unknown message types {unknown}; known: {', '.join(ALL_MESSAGE_TYPES)}"
            )
        return frozenset(names)

    async def _on_message(self, client: WebSocketClient, text: str) -> None:
        try:
            message = msgspec.json.decode(text, type=ClientMessage)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            client.push({"type": "error", "data": {"status": 400, "error": f"bad message: {exc}"}})
            return
        action = message.action
        if action == "ping":
            client.push({"type": "pong", "data": {}})
        elif action == "subscribe":
            try:
                if message.types is not None:
                    client.types = self._parse_types(message.types)
            except ValueError as exc:
                client.push({"type": "error", "data": {"status": 400, "error": str(exc)}})
                return
            if message.batch is not None:
                client.batch = message.batch
            client.push(
                {
                    "type": "subscribed",
                    "data": {"types": sorted(client.types), "batch": client.batch},
                }
            )
        elif action == "auth":
            client.authenticated = self.auth.check(message.token)
            if client.authenticated:
                client.push({"type": "authenticated", "data": {}})
            else:
                self._unauthorised(client, "auth")
        elif action in ("toggle_strategy", "stop_all_strategies"):
            if not client.authenticated:
                self._unauthorised(client, action)
                return
            await self._control(client, message)
        else:
            client.push(
                {
                    "type": "error",
                    "data": {
                        "status": 400,
                        "error": f"unknown action {action!r}; known: subscribe, ping, auth, "
                        "toggle_strategy, stop_all_strategies",
                    },
                }
            )

    def _unauthorised(self, client: WebSocketClient, action: str) -> None:
        if self.metrics:
            self.metrics.auth_failures.inc()
        client.push(
            {
                "type": "error",
                "data": {
                    "status": 401,
                    "action": action,
                    "error": "a valid bearer token is needed: send Authorization: Bearer … "
                    'with the handshake or {"action": "auth", "token": …}',
                },
            }
        )

    async def _control(self, client: WebSocketClient, message: ClientMessage) -> None:
        commands = self.engine.client
        # Recorded as the socket's peer, like the HTTP routes (X-Forwarded-For is not trusted).
        actor, sent = f"api:{client.peer}", f"via WebSocket {WS_PATH} from {client.peer}"
        try:
            if message.action == "toggle_strategy":
                if not message.name or message.on is None:
                    raise ValueError("toggle_strategy needs 'name' and 'on'")
                verb = "start" if message.on else "stop"
                await commands.toggle_strategy(
                    message.name, message.on, origin=Origin(actor=actor, detail=f"{verb} {sent}")
                )
            else:
                await commands.stop_all_strategies(
                    origin=Origin(actor=actor, detail=f"kill switch {sent}")
                )
        except NotAvailable as exc:
            client.push(
                {
                    "type": "error",
                    "data": {"status": 503, "action": message.action, "error": str(exc)},
                }
            )
        except KeyError as exc:
            client.push(
                {
                    "type": "error",
                    "data": {
                        "status": 404,
                        "action": message.action,
                        "error": f"no strategy {exc.args[0]!r}",
                    },
                }
            )
        except ValueError as exc:
            client.push(
                {
                    "type": "error",
                    "data": {"status": 400, "action": message.action, "error": str(exc)},
                }
            )
        else:
            client.push(
                {
                    "type": "ack",
                    "data": {"action": message.action, "name": message.name, "on": message.on},
                }
            )
