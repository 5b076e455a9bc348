"""The web side of ``gridtui serve``: textual-serve's page and WebSocket, guarded.

:class:`DashboardServer` keeps textual-serve's page, static files and per-tab
process handling and changes what a tab is allowed:

* ``GET /`` — the page. Its WebSocket URL is built from the address the browser
  used (so the trade cookie, which is per host name, rides along). ``?token=…``
  is exchanged for a trade ticket (:mod:`gridtui.serve.tickets`) once the daemon
  accepts the token, then the browser is sent on to ``/``.
* ``GET /ws`` — one tab: a ``gridtui dashboard --connect DAEMON`` child,
  watch-only unless the tab holds a valid ticket
  (:class:`~gridtui.serve.session.DashboardSession`).
* Every request must address this server by a host name it knows (no DNS
  rebinding: the daemon's :class:`~gridtui.daemon.guards.HostPolicy`); the
  WebSocket must come from this server's own page (same ``Origin``), which keeps
  other sites' pages from driving a tab with the visitor's cookie; the page may
  not be framed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from gridtui.daemon.guards import HostPolicy
from gridtui.serve.session import DashboardSession, dashboard_command
from gridtui.serve.tickets import COOKIE, TradeTickets
from gridtui.serve.token_check import TokenCheckError, daemon_accepts

log = logging.getLogger("gridtui.serve")

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DashboardServer(Server):
    """textual-serve's server, serving gridtui dashboards attached to one daemon."""

    def __init__(
        self,
        daemon_url: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        allowed_hosts: Iterable[str] = (),
        config: str | None = None,
        tickets: TradeTickets | None = None,
    ) -> None:
        super().__init__(command="gridtui dashboard", host=host, port=port, title="gridtui")
        self.daemon_url = daemon_url.rstrip("/")
        self.config = config
        self.tickets = tickets or TradeTickets()
        bound = [] if host in WILDCARD_HOSTS else [host]
        self.hosts = HostPolicy([*allowed_hosts, *bound])
        self.tabs = {"watching": 0, "trading": 0}

    def make_app(self) -> web.Application:
        """The aiohttp application (textual-serve's routes, this class's guards)."""
        app = web.Application(middlewares=[self._guard_host])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        return app

    @web.middleware
    async def _guard_host(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.hosts.host_ok(request.headers.get("Host")):
            return web.Response(
                status=421,
                text=f"gridtui serve does not answer to host {request.host[:100]!r}; "
                f"allowed: {self.hosts.describe()} (add yours to api.allowed_hosts)\n",
            )
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page; ``?token=`` is exchanged for a trade cookie first."""
        if "token" in request.query:
            return await self._exchange_token(request)
        trading = self.tickets.token_for(request.cookies.get(COOKIE)) is not None
        scheme = "wss" if request.secure else "ws"
        context: dict[str, Any] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": "gridtui · " + ("trading" if trading else "watch only")},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers.update(PAGE_HEADERS)
        return response

    async def _exchange_token(self, request: web.Request) -> web.StreamResponse:
        token = request.query["token"].strip()
        if not token:
            return _page_error(400, "?token= is empty: give the daemon's API token, or none")
        try:
            accepted = await daemon_accepts(self.daemon_url, token)
        except TokenCheckError as exc:
            return _page_error(502, f"cannot check the token: {exc}")
        if not accepted:
            log.warning("a browser offered a token the daemon refused (from %s)", request.remote)
            return _page_error(
                403,
                f"the daemon at {self.daemon_url} refused this token. Open "
                f"{request.scheme}://{request.host}/ without ?token= to watch, or use the "
                "token in the daemon's DATA_DIR/api-token to trade.",
            )
        ticket = self.tickets.issue(token)
        log.info("trading ticket issued to a browser at %s", request.remote)
        # 303 to the bare page: the token leaves the address bar (and the history).
        response = web.HTTPSeeOther("/", headers=PAGE_HEADERS)
        response.set_cookie(
            COOKIE,
            ticket,
            max_age=int(self.tickets.ttl_s),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: its own dashboard process, watch-only unless the tab holds a ticket."""
        expected = f"{request.scheme}://{request.host}"
        origin = request.headers.get("Origin")
        if origin is None or origin.lower() != expected.lower():
            raise web.HTTPForbidden(
                text=f"the dashboard's WebSocket opens only from its own page ({expected}), "
                f"not from origin {(origin or 'none')[:100]!r}\n"
            )
        token = self.tickets.token_for(request.cookies.get(COOKIE))
        kind = "trading" if token else "watching"
        command = dashboard_command(self.daemon_url, read_only=token is None, config=self.config)
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        session: DashboardSession | None = None
        self.tabs[kind] += 1
        log.info("browser tab opened (%s) from %s", kind, request.remote)
        try:
            await websocket.prepare(request)
            session = DashboardSession(
                command,
                token=token,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await session.start(width, height)
            # textual-serve's own loop over the browser's stdin/resize/focus messages.
            await self._process_messages(websocket, session)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("browser tab failed")
        finally:
            if session is not None:
                await session.stop()
            self.tabs[kind] -= 1
            log.info("browser tab closed (%s)", kind)
        return websocket


def _page_error(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=f"gridtui serve: {text}\n", headers=PAGE_HEADERS)
