"""The daemon's aiohttp application: the factory, its routes, and the server.

:func:`create_app` builds the app around a :class:`~gridtui.daemon.state.DaemonEngine`.
What it holds is reached through the typed keys of :mod:`gridtui.daemon.keys`.

Every request passes the middlewares of :mod:`gridtui.daemon.middlewares`
(metrics, errors as JSON, rate limit, auth); the background tasks (bus pump,
alert router, health monitor, training worker) are in
:mod:`gridtui.daemon.background`, one per cleanup context.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import msgspec
from aiohttp import web

from gridtui.daemon.alert_router import AlertRouter
from gridtui.daemon.auth import TokenAuth
from gridtui.daemon.background import cleanup_contexts
from gridtui.daemon.guards import BacktestSlots, HostPolicy
from gridtui.daemon.keys import (
    ALERT_ROUTER,
    API_SETTINGS,
    AUTH,
    BACKTESTS,
    ENGINE,
    HOSTS,
    HUB,
    JOBS,
    LIMITER,
    METRICS,
)
from gridtui.daemon.metrics import CONTENT_TYPE_LATEST, DaemonMetrics
from gridtui.daemon.middlewares import MIDDLEWARES, token_required
from gridtui.daemon.openapi import RouteSpec, build_document
from gridtui.daemon.ratelimit import RateLimiter
from gridtui.daemon.routes import audit as routes_audit
from gridtui.daemon.routes import backtest as routes_backtest
from gridtui.daemon.routes import cockpit as routes_cockpit
from gridtui.daemon.routes import dashboard as routes_dashboard
from gridtui.daemon.routes import feeds as routes_feeds
from gridtui.daemon.routes import fundamentals as routes_fundamentals
from gridtui.daemon.routes import ledger as routes_ledger
from gridtui.daemon.routes import market as routes_market
from gridtui.daemon.routes import models as routes_models
from gridtui.daemon.routes import public as routes_public
from gridtui.daemon.routes import recorder as routes_recorder
from gridtui.daemon.routes import rerun as routes_rerun
from gridtui.daemon.routes import settings as routes_settings
from gridtui.daemon.routes import trading as routes_trading
from gridtui.daemon.sinks import AlertSink, DashboardSink
from gridtui.daemon.state import DaemonEngine, TrainingJob, TrainingJobs
from gridtui.daemon.websocket.protocol import TRAINING_PROGRESS
from gridtui.daemon.websocket.server import WS_PATH, WebSocketHub
from gridtui.settings.daemon import ApiSettings


def all_routes(app: web.Application, max_page_size: int) -> list[RouteSpec]:
    hub = app[HUB]

    async def metrics(request: web.Request) -> web.Response:
        response = web.Response(body=request.app[METRICS].render())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(body=document, content_type="application/json")

    async def websocket(request: web.Request) -> web.StreamResponse:
        return await hub.handle(request)

    from gridtui.daemon import websocket as ws_module

    specs = [
        *routes_public.routes(max_page_size),
        *routes_feeds.routes(max_page_size),
        *routes_dashboard.routes(max_page_size),
        *routes_fundamentals.routes(max_page_size),
        *routes_backtest.routes(max_page_size),
        *routes_models.routes(max_page_size),
        *routes_trading.routes(max_page_size),
        *routes_audit.routes(max_page_size),
        *routes_market.routes(max_page_size),
        *routes_settings.routes(max_page_size),
        *routes_ledger.routes(max_page_size),
        *routes_cockpit.routes(max_page_size),
        *routes_recorder.routes(max_page_size),
        *routes_rerun.routes(max_page_size),
        RouteSpec(
            "GET",
            "/metrics",
            metrics,
            "Prometheus metrics",
            "health",
            content_type="text/plain",
        ),
        RouteSpec(
            "GET",
            "/openapi.json",
            openapi,
            "This document",
            "health",
            content_type="application/json",
        ),
        RouteSpec(
            "GET",
            WS_PATH,
            websocket,
            "Live events over a WebSocket (upgrade required)",
            "websocket",
            status=101,
            errors=(400, 401, 503),
            description=ws_module.__doc__ or "",
            extra_responses={101: "Switching to the WebSocket protocol."},
        ),
    ]
    document = msgspec.json.encode(build_document(specs, version=routes_public.version()))
    return specs


def create_app(
    engine: DaemonEngine,
    api: ApiSettings,
    auth: TokenAuth,
    *,
    sinks: Sequence[AlertSink] = (),
    dashboard_alerts: bool = True,
    limiter_clock: Callable[[], float] = time.monotonic,
    monitor_interval_s: float = 0.5,
) -> web.Application:
    """The API app around ``engine`` (see the module docstring)."""
    app = web.Application(
        middlewares=MIDDLEWARES,
        client_max_size=256 * 1024,
    )
    metrics = DaemonMetrics(engine)
    app[ENGINE] = engine
    app[API_SETTINGS] = api
    app[AUTH] = auth
    app[METRICS] = metrics
    app[LIMITER] = RateLimiter(api.rate_limit_per_s, api.rate_limit_burst, clock=limiter_clock)
    # The address the API is bound to is a name clients reach it by (unless a wildcard).
    bound = () if api.host in ("", "0.0.0.0", "::") else (api.host,)
    app[HOSTS] = HostPolicy((*api.allowed_hosts, *bound))
    app[BACKTESTS] = BacktestSlots()
    hub = WebSocketHub(
        engine,
        auth,
        max_clients=api.max_ws_clients,
        queue_size=api.ws_queue_size,
        batch_linger_s=api.ws_batch_linger_s,
        metrics=metrics,
    )
    app[HUB] = hub
    app[ALERT_ROUTER] = AlertRouter(
        sinks,
        dashboard=DashboardSink(engine.runtime.bus) if dashboard_alerts else None,
        metrics=metrics,
    )

    def on_job(job: TrainingJob) -> None:
        hub.broadcast_message(TRAINING_PROGRESS, job)

    app[JOBS] = TrainingJobs(engine.now, on_job)
    for spec in all_routes(app, api.max_page_size):
        if spec.method == "GET":
            handler = token_required(spec.handler) if spec.needs_token else spec.handler
            # HEAD answers like GET without a body (aiohttp drops it), not 405.
            app.router.add_get(spec.path, handler, allow_head=True)
        else:
            app.router.add_route(spec.method, spec.path, spec.handler)

    app.cleanup_ctx.extend(cleanup_contexts(monitor_interval_s))

    async def close_websockets(app: web.Application) -> None:
        await app[HUB].close_all()

    app.on_shutdown.append(close_websockets)
    return app


async def start_server(
    app: web.Application, host: str, port: int, *, header_timeout_s: float = 5.0
) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0 = any free port); returns the runner and the URL.

    ``header_timeout_s`` bounds how long a connection may take to send a whole
    request: aiohttp's keep-alive timer runs from the connection's start (and
    from each answer) and is not reset by partial data, so a half-sent request
    is closed when it fires. Idle keep-alive connections close as soon; clients
    reconnect.
    """
    access_log = logging.getLogger("aiohttp.access")
    runner = web.AppRunner(
        app,
        handle_signals=False,  # the daemon's own SIGINT/SIGTERM handlers stop everything
        access_log=access_log if access_log.isEnabledFor(logging.DEBUG) else None,
        shutdown_timeout=5.0,
        keepalive_timeout=header_timeout_s,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    return runner, f"http://{shown}:{bound_port}"
