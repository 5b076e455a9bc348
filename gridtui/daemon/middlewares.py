"""The daemon app's middlewares, outermost first.

1. metrics — counts every answer by route, method and status, and times it;
2. errors — every failure becomes JSON ``{"error", "status"}``: an
   :class:`~gridtui.daemon.validation.ApiError` as it says, a store outage 503,
   aiohttp's own 404/405 as JSON too, anything unexpected 500 (logged);
3. hosts — a ``Host`` the daemon is not known by answers 421, an ``Origin``
   of a foreign page 403 (:class:`~gridtui.daemon.guards.HostPolicy`);
4. rate limit — a token bucket per client address (429 + ``Retry-After``);
   ``/health`` and ``/metrics`` are outside it, so probes always get through;
5. auth — every method but GET/HEAD/OPTIONS needs the bearer token (401).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from engine.store.base import StoreError
from gridtui.daemon.auth import SAFE_METHODS
from gridtui.daemon.keys import AUTH, HOSTS, LIMITER, METRICS
from gridtui.daemon.validation import ApiError, error_body
from gridtui.daemon.websocket.server import WS_PATH

# The logger these lines had in app.py: log lines keep their logger name.
log = logging.getLogger("gridtui.daemon.api")


def _json_error(
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, object] | None = None,
) -> web.Response:
    return web.Response(
        body=error_body(status, message, extra),
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
        return _json_error(exc.status, exc.message, exc.headers, exc.extra)
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


UNLIMITED_PATHS = frozenset({"/health", "/metrics"})


@web.middleware
async def host_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    hosts = request.app[HOSTS]
    if not hosts.host_ok(request.headers.get("Host")):
        raise ApiError(
            421,
            "this daemon does not answer to host "
            f"{request.headers.get('Host', '')[:100]!r}; allowed hosts: {hosts.describe()} "
            "(add yours to api.allowed_hosts)",
        )
    origin = request.headers.get("Origin")
    if not hosts.origin_ok(origin):
        raise ApiError(
            403,
            f"requests from origin {(origin or '')[:100]!r} are refused; allowed origins are "
            f"pages served from: {hosts.describe()} (api.allowed_hosts)",
        )
    return await handler(request)


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limiter = request.app[LIMITER]
    if limiter.enabled and request.path not in UNLIMITED_PATHS:
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


def require_token(request: web.Request) -> None:
    """Raise 401 unless the request carries the daemon's bearer token."""
    authorization = request.headers.get("Authorization")
    if not request.app[AUTH].check_header(authorization):
        request.app[METRICS].auth_failures.inc()
        what = "wrong bearer token" if authorization else "missing bearer token"
        raise ApiError(
            401,
            f"{what}: {request.method} {request.path} needs 'Authorization: Bearer <token>' "
            "(the token is in the daemon's api-token file)",
            headers={"WWW-Authenticate": 'Bearer realm="gridtui"'},
        )


def token_required(handler: Handler) -> Handler:
    """``handler`` behind the token: for the reads a route spec marks ``token``."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        require_token(request)
        return await handler(request)

    return guarded


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in SAFE_METHODS:
        require_token(request)
    return await handler(request)


MIDDLEWARES = (
    metrics_middleware,
    error_middleware,
    host_middleware,
    rate_limit_middleware,
    auth_middleware,
)
