"""Settings sections for the daemon: its role (``[daemon]``), how it is reached (``[api]``)
and what it tells (``[alerts]``).

The REST/WebSocket API (bind address, token, limits, allowed hosts and origins)
and the alert rules' thresholds and sinks. The top-level
:class:`gridtui.settings.loader.Settings` holds one of each.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from engine.alerts.config import AlertConfig
from gridtui.settings.data import Count, Seconds

# A DNS name or an IPv4/IPv6 address, as api.allowed_hosts takes them.
_HOST_NAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|[0-9A-Fa-f:.]+)$"
)


ROLES = ("all", "ingest", "analytics", "api")


class DaemonSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What part of the engine one ``gridtui daemon`` runs (``--role``).

    Attributes:
        role: ``all`` (feed, analytics and API in one process, the default),
            ``ingest`` (the feed into the store and the bus), ``analytics``
            (spreads, forecasts, batteries, strategies and alerts from the bus)
            or ``api`` (REST + WebSocket from the bus and the store). The split
            roles need a Redis bus and a PostgreSQL store shared by every node.
        node_id: this node's name in ``/health``, the status bar and the lease;
            empty = ``HOSTNAME-PID``.
        lease_s: ``ingest`` and ``analytics``: how long the active node's lease
            lasts without renewal (it renews every third of it); a standby takes
            over within about this long after the active node dies.
    """

    role: str = "all"
    node_id: str = ""
    lease_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 10.0

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(
                f"daemon.role: {self.role!r} is not a role; use one of {', '.join(ROLES)}"
            )
        if not 0.3 <= self.lease_s <= 3600:
            raise ValueError(f"daemon.lease_s must be within 0.3..3600 s, got {self.lease_s}")


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The daemon's REST + WebSocket API (``gridtui daemon``) and remote dashboards.

    Attributes:
        enabled: serve the API from the daemon.
        host: address to bind; 127.0.0.1 unless you mean to expose it (then put
            TLS in front: the bearer token travels in a header).
        port: TCP port.
        token_file: where the daemon keeps its bearer token (mode 0600, made on
            first start, replaced by ``gridtui daemon --rotate-token``); empty =
            ``DATA_DIR/api-token``.
        token: the token a remote dashboard (``gridtui --connect URL``) sends;
            empty = read ``token_file``. Better set GRIDTUI_API_TOKEN. Never logged;
            ``gridtui config`` shows it as ``***``.
        rate_limit_per_s: requests a second each client (IP address) may make,
            sustained; 0 = no limit.
        rate_limit_burst: requests a client may make at once above that rate.
        max_page_size: the largest ``limit`` a list endpoint accepts.
        max_ws_clients: WebSocket connections at once.
        ws_queue_size: messages buffered for a slow WebSocket client before the
            oldest are dropped (and counted).
        ws_batch_linger_s: a batch-mode client's frame gathers what arrives in
            this long after the first event (a dashboard draws at 10 Hz): at
            1,000 events/s, 50 frames a second instead of 1,000. 0 = send at once.
        allowed_hosts: host names (or addresses) besides localhost, 127.0.0.1
            and ::1 by which clients reach the daemon (``Host`` header, with or
            without the port) and browser pages may come from (``Origin``);
            anything else is refused (421 / 403), which stops DNS rebinding.
            Name the host a remote dashboard connects to.
        max_running_backtests: backtests running at once; beyond, 429.
        max_queued_jobs: training jobs waiting to run; beyond, 429.
        header_timeout_s: a connection that has not sent a whole request within
            this long (after connecting or after its last answer) is closed, so
            half-sent requests cannot hold file descriptors.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65_535)] = 8765
    token_file: str = ""
    token: str = ""
    rate_limit_per_s: Annotated[float, msgspec.Meta(gt=0, le=1e6)] = 50.0
    rate_limit_burst: Count = 200
    max_page_size: Count = 1000
    max_ws_clients: Count = 200
    ws_queue_size: Count = 5_000
    ws_batch_linger_s: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.02
    allowed_hosts: tuple[str, ...] = ()
    max_running_backtests: Count = 2
    max_queued_jobs: Annotated[int, msgspec.Meta(ge=0)] = 8
    header_timeout_s: Seconds = 5.0

    def __post_init__(self) -> None:
        for host in self.allowed_hosts:
            if not _HOST_NAME.match(host.strip("[]")):
                raise ValueError(
                    f"api.allowed_hosts: {host!r} is not a host name or address "
                    "(e.g. grid.lan, 10.0.0.7, ::1: no scheme, port or path)"
                )
        for name in ("max_running_backtests", "max_queued_jobs"):
            if not 1 <= getattr(self, name) <= 1000:
                raise ValueError(f"api.{name} must be within 1..1000, got {getattr(self, name)}")
        if not 0.1 <= self.header_timeout_s <= 3600:
            raise ValueError(
                f"api.header_timeout_s must be within 0.1..3600 s, got {self.header_timeout_s}"
            )
        if not 0 <= self.ws_batch_linger_s <= 1:
            raise ValueError(
                f"api.ws_batch_linger_s must be within 0..1 s, got {self.ws_batch_linger_s}"
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"api.port must be within 0..65535, got {self.port}")
        if self.rate_limit_per_s < 0 or self.rate_limit_burst < 1:
            raise ValueError("api.rate_limit_per_s must be >= 0 and api.rate_limit_burst >= 1")
        if self.max_page_size < 1 or self.max_ws_clients < 1 or self.ws_queue_size < 1:
            raise ValueError("api.max_page_size, max_ws_clients and ws_queue_size must be >= 1")


class AlertSettings(AlertConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Alerts: the rules' thresholds (every field of ``engine.alerts.config.AlertConfig``:
    ``cooldown_s``, ``spike_sigma``, ``spike_min_eur_mwh``, ``arbitrage_min_net_eur_mwh``,
    ``battery_low_fraction``, ``feed_stale_after_s``, ``forecast_max_error_eur_mwh`` …)
    and where the daemon sends them.

    Attributes:
        min_severity: ``info``, ``warning`` or ``critical``: the least an alert
            must be to reach the sinks below (the dashboard shows every alert).
        log: write each alert as a structured log line.
        stdout: print each alert as a JSON line on standard output.
        jsonl_path: append each alert as a JSON line to this file (relative:
            in the data dir); empty = off.
        webhook_url: POST each alert as JSON to this URL (Slack-style
            ``{"text": …}`` plus the alert's fields); empty = off. A secret:
            never logged, ``***`` in ``gridtui config``.
        webhook_min_severity: the least an alert must be to be posted.
        webhook_timeout_s / webhook_attempts: per try, and tries (with doubling
            back-off) before an alert is given up and counted as failed.
        redis_stream: XADD each alert to this Redis stream (flat fields); empty = off.
        redis_url: the Redis server for ``redis_stream``; empty = ``bus.url``.
        redis_maxlen: approximate length the stream is trimmed to.
    """

    min_severity: str = "info"
    log: bool = True
    stdout: bool = False
    jsonl_path: str = ""
    webhook_url: str = ""
    webhook_min_severity: str = "warning"
    webhook_timeout_s: Seconds = 5.0
    webhook_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 4
    redis_stream: str = ""
    redis_url: str = ""
    redis_maxlen: Count = 10_000

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("min_severity", "webhook_min_severity"):
            if getattr(self, name) not in ("info", "warning", "critical"):
                raise ValueError(f"alerts.{name} must be info, warning or critical")
        if self.webhook_attempts < 1 or not self.webhook_timeout_s > 0:
            raise ValueError("alerts.webhook_attempts must be >= 1 and webhook_timeout_s > 0")

    def rules(self) -> AlertConfig:
        """Only the thresholds, for the engine's AlertEngine."""
        fields = {name: getattr(self, name) for name in AlertConfig.__struct_fields__}
        return AlertConfig(**fields)


__all__ = ["AlertSettings", "ApiSettings"]
