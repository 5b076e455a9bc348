"""Start and stop the API inside ``gridtui daemon`` (the daemon command calls these).

The token file is made on the first start (mode 0600) and its path — never the
token — is logged. Every secret the settings hold (the API token a client
would send, the webhook URL, the ENTSO-E token, the passwords inside the store
and Redis URLs) and the daemon's token are redacted from every log line from
here on, and so is the password of any URL a line carries.
"""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from aiohttp import web

from engine.runtime import Runtime
from gridtui.client.in_process import InProcessClient
from gridtui.client.protocol import EngineClient
from gridtui.daemon.app import create_app, start_server
from gridtui.daemon.auth import (
    TokenAuth,
    TokenError,
    install_redaction,
    rotate_token,
    token_path,
)
from gridtui.daemon.sinks import build_sinks
from gridtui.daemon.state import DaemonEngine, Predictor, Trainer
from gridtui.roles.node import NodeState
from gridtui.settings.loader import Settings, url_passwords

log = logging.getLogger("gridtui.daemon")


class ApiStartError(RuntimeError):
    """The API could not start (port taken, token file unwritable); the message says why."""


def rotate(settings: Settings) -> Path:
    """Write a new token (``gridtui daemon --rotate-token``); returns the file's path."""
    path = token_path(settings)
    rotate_token(path)
    return path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def start_api(
    settings: Settings,
    runtime: Runtime,
    *,
    client: EngineClient | None = None,
    trainer: Trainer | None = None,
    predictor: Predictor | None = None,
    node: NodeState | None = None,
) -> web.AppRunner | None:
    """Serve the API for ``runtime`` (already started); None when ``api.enabled`` is off.

    Raises:
        ApiStartError: the port is taken, or the token file cannot be made.
    """
    if not settings.api.enabled:
        return None
    path = token_path(settings)
    try:
        auth, created = TokenAuth.load_or_create(path)
    except (OSError, TokenError) as exc:
        raise ApiStartError(f"cannot prepare the API token in {path}: {exc}") from exc
    install_redaction(
        settings.api.token,
        settings.alerts.webhook_url,
        settings.entsoe.token,
        *url_passwords(settings),  # the store's and Redis' passwords, wherever they show up
        auth=auth,
    )
    if created:
        log.info("API token created in %s (mode 0600): send it as 'Authorization: Bearer …'", path)
    try:
        sinks = build_sinks(
            settings.alerts, data_dir=Path(settings.data_dir), bus_url=settings.bus.url
        )
    except ValueError as exc:
        raise ApiStartError(str(exc)) from exc
    engine = DaemonEngine(
        runtime=runtime,
        client=client or InProcessClient(settings, runtime),
        settings=settings,
        trainer=trainer,
        predictor=predictor,
        started_monotonic=runtime.clock.monotonic(),
        node=node,
    )
    app = create_app(engine, settings.api, auth, sinks=sinks)
    try:
        runner, url = await start_server(
            app,
            settings.api.host,
            settings.api.port,
            header_timeout_s=settings.api.header_timeout_s,
        )
    except OSError as exc:
        raise ApiStartError(
            f"cannot serve the API on {settings.api.host}:{settings.api.port}: "
            f"{exc.strerror or exc} (another daemon? choose --port, or set api.enabled = false)"
        ) from exc
    log.info(
        "API listening on %s",
        url,
        extra={
            "openapi": f"{url}/openapi.json",
            "websocket": f"{url}/ws/real-time",
            "token_file": str(path),
            "sinks": ",".join(s.name for s in sinks),
        },
    )
    if not _is_loopback(settings.api.host):
        log.warning(
            "API bound to %s: reachable from other hosts; put TLS in front of it "
            "(the bearer token travels in a header). Requests are answered only for "
            "the host names localhost, 127.0.0.1, ::1, the bound address and "
            "api.allowed_hosts (%s)",
            settings.api.host,
            ", ".join(settings.api.allowed_hosts) or "none set",
        )
    return runner
