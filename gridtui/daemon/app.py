"""The daemon's aiohttp application: factory, middlewares, background tasks, server.

:func:`create_app` builds the app around a :class:`~gridtui.daemon.state.DaemonEngine`.
What it holds is reached through the typed keys of :mod:`gridtui.daemon.keys`.

Middlewares, outermost first:

1. metrics — counts every answer by route, method and status, and times it;
2. errors — every failure becomes JSON ``{"error", "status"}``: an
   :class:`~gridtui.daemon.validation.ApiError` as it says, a store outage 503,
   aiohttp's own 404/405 as JSON too, anything unexpected 500 (logged);
3. rate limit — a token bucket per client address (429 + ``Retry-After``);
4. auth — every method but GET/HEAD/OPTIONS needs the bearer token (401).

Background work, one task per cleanup context (aiohttp's background-tasks
pattern), each cancelled and awaited when the app stops:

* the **bus pump** — one lossy subscription to every topic; folds each batch
  into the live view and broadcasts it to the WebSocket clients;
* the **alert router** — a lossless subscription to ``alerts`` feeding the sinks;
* the **health monitor** — samples event-loop lag and ingest rate for
  ``/metrics``, tracks store and bus up/down, and raises the daemon's own
  alerts when either goes down or comes back;
* the **training worker** — runs API-started training jobs one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

from engine.bus.base import BusClosed, BusError, Subscription
from engine.events import ALL_TOPICS, Alert, Severity
from engine.store.base import StoreError
from gridtui.daemon import (
    routes_backtest,
    routes_dashboard,
    routes_models,
    routes_public,
    routes_settings,
    routes_trading,
)
from gridtui.daemon.auth import SAFE_METHODS, TokenAuth
from gridtui.daemon.keys import (
    ALERT_ROUTER,
    API_SETTINGS,
    AUTH,
    ENGINE,
    HUB,
    JOBS,
    LIMITER,
    METRICS,
)
from gridtui.daemon.metrics import CONTENT_TYPE_LATEST, DaemonMetrics
from gridtui.daemon.openapi import RouteSpec, build_document
from gridtui.daemon.ratelimit import RateLimiter
from gridtui.daemon.sinks import AlertRouter, AlertSink, DashboardSink
from gridtui.daemon.state import DaemonEngine, TrainingJob, TrainingJobs
from gridtui.daemon.validation import ApiError, error_body
from gridtui.daemon.websocket import TRAINING_PROGRESS, WebSocketHub
from gridtui.settings_ops import ApiSettings

log = logging.getLogger("gridtui.daemon.api")

WS_PATH = "/ws/real-time"


def _json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=error_body(status, message),
        status=status,
        content_type="application/json",
        headers=headers,
    )


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    metrics = request.app[METRICS]
    metrics.http_requests.labels(name, request.method, str(response.status)).inc()
    if name != WS_PATH:
        metrics.http_latency.labels(name).observe(time.perf_counter() - started)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return _json_error(exc.status, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 405:
            allowed = exc.headers.get("Allow", "")
            message = f"method {request.method} not allowed here; allowed: {allowed}"
        elif exc.status == 404:
            message = f"no such endpoint {request.path}; see /openapi.json"
        else:
            message = exc.text or exc.reason
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return _json_error(exc.status, message, headers)
    except StoreError as exc:
        return _json_error(503, f"the store is unavailable right now: {exc}")
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return _json_error(500, "internal error; the daemon's log has the details")


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limiter = request.app[LIMITER]
    if limiter.enabled:
        wait_s = limiter.acquire(request.remote or "?")
        if wait_s > 0:
            request.app[METRICS].rate_limited.inc()
            raise ApiError(
                429,
                f"too many requests from this client: at most "
                f"{limiter.rate_per_s:g}/s (burst {limiter.burst:g})",
                headers={"Retry-After": limiter.retry_after(wait_s)},
            )
    return await handler(request)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in SAFE_METHODS:
        authorization = request.headers.get("Authorization")
        if not request.app[AUTH].check_header(authorization):
            request.app[METRICS].auth_failures.inc()
            what = "wrong bearer token" if authorization else "missing bearer token"
            raise ApiError(
                401,
                f"{what}: {request.method} needs 'Authorization: Bearer <token>' "
                "(the token is in the daemon's api-token file)",
                headers={"WWW-Authenticate": 'Bearer realm="gridtui"'},
            )
    return await handler(request)


# -- background tasks, one per cleanup context ----------------------------------------


async def subscribe_all(app: web.Application) -> Subscription | None:
    """The API's one lossy subscription to every topic; None when the bus is unreachable."""
    try:
        return await app[ENGINE].runtime.bus.subscribe(
            ALL_TOPICS, name="api", lossless=False, maxsize=100_000
        )
    except BusError as exc:
        log.warning("API cannot subscribe to the bus yet (%s); retrying", exc)
        return None


async def bus_pump(app: web.Application, subscription: Subscription | None) -> None:
    """Fold every bus batch into the live view and broadcast it to WebSocket clients."""
    engine, hub, metrics = app[ENGINE], app[HUB], app[METRICS]
    try:
        while subscription is None:
            await asyncio.sleep(1.0)
            subscription = await subscribe_all(app)
        while True:
            batch = await subscription.next_batch()
            engine.live.apply(batch)
            metrics.bus_events.inc(len(batch))
            hub.broadcast(batch)
    except BusClosed:
        return
    finally:
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.close()


async def health_monitor(app: web.Application, interval_s: float) -> None:
    """Loop lag, ingest rate, and the daemon's own alerts on store/bus outages."""
    engine, metrics = app[ENGINE], app[METRICS]
    runtime = engine.runtime
    loop = asyncio.get_running_loop()
    last_events, last_time = runtime.kernel.stats.events_in, loop.time()
    last_bus_errors, bus_quiet_s = runtime.kernel.stats.bus_errors, 0.0
    store_up = True
    while True:
        expected = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        now = loop.time()
        lag_s = max(0.0, now - expected)
        metrics.loop_lag.set(lag_s)
        metrics.loop_lag_histogram.observe(lag_s)
        events = runtime.kernel.stats.events_in
        metrics.events_per_second.set((events - last_events) / max(now - last_time, 1e-9))
        last_events, last_time = events, now

        bus_errors = runtime.kernel.stats.bus_errors
        if bus_errors != last_bus_errors:
            last_bus_errors, bus_quiet_s = bus_errors, 0.0
            if engine.bus_up:
                engine.bus_up = False
                await _local_alert(
                    app,
                    "bus_down",
                    Severity.WARNING,
                    f"the {runtime.bus.backend} bus is unreachable: dashboards and other "
                    "daemons get nothing; events are still stored",
                )
        else:
            bus_quiet_s += interval_s
            if not engine.bus_up and bus_quiet_s >= 3 * max(interval_s, 1.0):
                engine.bus_up = True
                await _local_alert(
                    app,
                    "bus_recovered",
                    Severity.INFO,
                    f"the {runtime.bus.backend} bus is back",
                )

        writer = runtime.writer
        if writer.stats.store_up != store_up:
            store_up = writer.stats.store_up
            if store_up:
                await _local_alert(
                    app,
                    "store_recovered",
                    Severity.INFO,
                    f"the {runtime.store.backend} store is back; {writer.pending} events "
                    "still to write",
                )
            else:
                await _local_alert(
                    app,
                    "store_down",
                    Severity.CRITICAL,
                    f"the {runtime.store.backend} store is down: buffering "
                    f"({writer.pending} events pending, spilled to disk past "
                    f"{writer.config.max_buffered}): {writer.stats.last_error}",
                )


async def _local_alert(app: web.Application, rule: str, severity: Severity, message: str) -> None:
    engine = app[ENGINE]
    alert = Alert(ts=engine.now(), rule=rule, severity=severity, message=message, key="daemon")
    engine.runtime.writer.add([alert])  # kept like every alert (buffered if the store is down)
    engine.live.apply([alert])
    try:
        await app[ALERT_ROUTER].raise_local(alert)
    except Exception:
        log.exception("could not deliver the daemon alert %s", rule)


async def _one_task(
    app: web.Application, name: str, work: Coroutine[Any, Any, None]
) -> AsyncIterator[None]:
    """The body of a cleanup context that owns exactly one background task."""
    task = asyncio.create_task(work, name=name)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _task_context(
    name: str, start: Callable[[web.Application], Coroutine[Any, Any, None]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running ``start(app)`` as its one background task."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async for _ in _one_task(app, name, start(app)):
            yield

    context.__name__ = f"{name}_context"
    return context


# -- the factory -----------------------------------------------------------------------


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
        *routes_dashboard.routes(max_page_size),
        *routes_backtest.routes(max_page_size),
        *routes_models.routes(max_page_size),
        *routes_trading.routes(max_page_size),
        *routes_settings.routes(max_page_size),
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
        middlewares=[metrics_middleware, error_middleware, rate_limit_middleware, auth_middleware],
        client_max_size=256 * 1024,
    )
    metrics = DaemonMetrics(engine)
    app[ENGINE] = engine
    app[API_SETTINGS] = api
    app[AUTH] = auth
    app[METRICS] = metrics
    app[LIMITER] = RateLimiter(api.rate_limit_per_s, api.rate_limit_burst, clock=limiter_clock)
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
        app.router.add_route(spec.method, spec.path, spec.handler)

    async def pump_context(app: web.Application) -> AsyncIterator[None]:
        # Subscribed before the app serves: nothing published from then on is missed.
        subscription = await subscribe_all(app)
        async for _ in _one_task(app, "bus-pump", bus_pump(app, subscription)):
            yield

    async def alert_router_context(app: web.Application) -> AsyncIterator[None]:
        router, bus = app[ALERT_ROUTER], app[ENGINE].runtime.bus
        subscription = await router.subscribe(bus)
        try:
            async for _ in _one_task(app, "alert-router", router.run(bus, subscription)):
                yield
        finally:
            await router.close()

    async def monitor(app: web.Application) -> None:
        await health_monitor(app, monitor_interval_s)

    async def training(app: web.Application) -> None:
        await app[JOBS].run(app[ENGINE].trainer)

    app.cleanup_ctx.extend(
        [
            pump_context,
            alert_router_context,
            _task_context("health-monitor", monitor),
            _task_context("training-worker", training),
        ]
    )

    async def close_websockets(app: web.Application) -> None:
        await app[HUB].close_all()

    app.on_shutdown.append(close_websockets)
    return app


async def start_server(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0 = any free port); returns the runner and the URL."""
    access_log = logging.getLogger("aiohttp.access")
    runner = web.AppRunner(
        app,
        handle_signals=False,  # the daemon's own SIGINT/SIGTERM handlers stop everything
        access_log=access_log if access_log.isEnabledFor(logging.DEBUG) else None,
        shutdown_timeout=5.0,
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
