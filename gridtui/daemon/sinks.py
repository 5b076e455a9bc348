"""Alert sinks: where the daemon sends each alert so that people see it.

The engine's :class:`~engine.alerts.engine.AlertEngine` raises alerts inside the
kernel; they go out on the bus's ``alerts`` topic (so every dashboard, local
or remote, shows them) and into the store. The daemon's
:class:`~gridtui.daemon.alert_router.AlertRouter` takes them from the bus and
hands each to every configured sink:

* :class:`LogSink` — one structured log line (``--log-format json`` for machines);
* :class:`StdoutSink` — one JSON line on standard output (for a pipe or journald);
* :class:`JsonLinesSink` — one JSON line appended to a file;
* :class:`WebhookSink` — an HTTP POST (Slack-style ``{"text": …}`` plus the
  alert's fields) with retries and doubling back-off on timeouts, connection
  errors, 429 and 5xx;
* :class:`RedisStreamSink` — an XADD to a Redis stream with flat fields;
* :class:`DashboardSink` — publishes on the bus; used for the daemon's own
  alerts (store or bus down and back), which do not come from the kernel.

A sink that fails is counted and logged (without its URL's secrets) and the
others still get the alert; a failing sink never stops the router.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, Protocol
from urllib.parse import urlsplit

import aiohttp

from engine.bus.base import Bus, BusClosed, BusError
from engine.events import Alert, Severity

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from gridtui.settings.daemon import AlertSettings

alert_log = logging.getLogger("gridtui.alerts")

RANK: Final = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_LEVEL: Final = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.CRITICAL,
}


class SinkError(RuntimeError):
    """A sink could not deliver an alert (after its retries)."""


class AlertSink(Protocol):
    """Where the daemon sends alerts: the protocol every sink implements."""

    @property
    def name(self) -> str: ...

    @property
    def min_severity(self) -> Severity: ...

    async def send(self, alert: Alert) -> None:
        """Deliver one alert. Raises SinkError when it could not."""
        ...

    async def close(self) -> None: ...


def alert_record(alert: Alert) -> dict[str, object]:
    """The alert as a flat JSON-ready dict."""
    return {
        "ts": alert.ts.isoformat(),
        "rule": alert.rule,
        "severity": alert.severity.value,
        "message": alert.message,
        "key": alert.key,
        "market": alert.market,
    }


def alert_line(alert: Alert) -> str:
    return json.dumps(alert_record(alert), ensure_ascii=False)


def redact_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries carry keys."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


class LogSink:
    """Alerts as log lines (logger ``gridtui.alerts``)."""

    name = "log"

    def __init__(self, min_severity: Severity = Severity.INFO) -> None:
        self.min_severity = min_severity

    async def send(self, alert: Alert) -> None:
        alert_log.log(
            _LEVEL[alert.severity],
            "alert %s [%s]: %s",
            alert.rule,
            alert.severity.value,
            alert.message,
            extra={"rule": alert.rule, "severity": alert.severity.value, "key": alert.key},
        )

    async def close(self) -> None:
        return None


class StdoutSink:
    """Alerts printed on standard output, one line each."""

    name = "stdout"

    def __init__(self, min_severity: Severity = Severity.INFO, stream: IO[str] | None = None):
        self.min_severity = min_severity
        self.stream = stream

    async def send(self, alert: Alert) -> None:
        stream = self.stream or sys.stdout
        try:
            stream.write(alert_line(alert) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:
            raise SinkError(f"cannot write to stdout: {exc}") from exc

    async def close(self) -> None:
        return None


class JsonLinesSink:
    """Alerts appended to a JSON Lines file inside the data dir."""

    name = "jsonl"

    def __init__(self, path: Path, min_severity: Severity = Severity.INFO) -> None:
        self.path = path
        self.min_severity = min_severity
        self._handle: IO[str] | None = None

    async def send(self, alert: Alert) -> None:
        try:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # 0600 like every file the daemon makes in the data dir.
                descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._handle = os.fdopen(descriptor, "a", encoding="utf-8")
            self._handle.write(alert_line(alert) + "\n")
            self._handle.flush()
        except OSError as exc:
            self._handle = None
            raise SinkError(f"cannot append to {self.path}: {exc}") from exc

    async def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


class WebhookSink:
    """POST each alert as JSON; retry what may succeed later, give up on the rest."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        min_severity: Severity = Severity.WARNING,
        timeout_s: float = 5.0,
        attempts: int = 4,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
    ) -> None:
        self.url = url
        self.min_severity = min_severity
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._session: aiohttp.ClientSession | None = None

    def describe(self) -> str:
        return f"webhook {redact_url(self.url)}"

    def _payload(self, alert: Alert) -> dict[str, object]:
        where = f" ({alert.market})" if alert.market else ""
        text = f"[{alert.severity.value.upper()}] {alert.rule}{where}: {alert.message}"
        return {"text": text, **alert_record(alert)}

    async def send(self, alert: Alert) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s)
            )
        payload = self._payload(alert)
        delay = self.backoff_initial_s
        problem = ""
        for attempt in range(1, self.attempts + 1):
            retry_after: float | None = None
            try:
                async with self._session.post(self.url, json=payload) as response:
                    if response.status < 300:
                        return
                    problem = f"HTTP {response.status}"
                    if response.status != 429 and response.status < 500:
                        raise SinkError(f"{self.describe()} refused the alert: {problem}")
                    with contextlib.suppress(ValueError):
                        retry_after = float(response.headers.get("Retry-After", ""))
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
            if attempt < self.attempts:
                await asyncio.sleep(min(retry_after or delay, self.backoff_max_s))
                delay = min(delay * 2, self.backoff_max_s)
        raise SinkError(f"{self.describe()} failed {self.attempts} times, last: {problem}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class RedisStreamSink:
    """XADD each alert to a Redis stream (flat string fields) for other tools."""

    name = "redis"

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        min_severity: Severity = Severity.INFO,
        maxlen: int = 10_000,
        attempts: int = 3,
        backoff_initial_s: float = 0.2,
    ) -> None:
        self.url = url
        self.stream = stream
        self.min_severity = min_severity
        self.maxlen = maxlen
        self.attempts = attempts
        self.backoff_initial_s = backoff_initial_s
        self._client: aioredis.Redis | None = None

    async def send(self, alert: Alert) -> None:
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=2.0, socket_timeout=5.0
            )
        fields = {k: "" if v is None else str(v) for k, v in alert_record(alert).items()}
        delay = self.backoff_initial_s
        for attempt in range(1, self.attempts + 1):
            try:
                await self._client.xadd(
                    self.stream,
                    fields,  # type: ignore[arg-type]  # redis-py's field typing is too narrow
                    maxlen=self.maxlen,
                    approximate=True,
                )
                return
            except (RedisError, OSError) as exc:
                if attempt == self.attempts:
                    raise SinkError(
                        f"Redis stream {self.stream}: {type(exc).__name__} "
                        f"after {self.attempts} tries"
                    ) from exc
                await asyncio.sleep(delay)
                delay *= 2

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class DashboardSink:
    """Publish an alert on the bus, where every dashboard (local or remote) sees it."""

    name = "dashboard"

    def __init__(self, bus: Bus, min_severity: Severity = Severity.INFO) -> None:
        self.bus = bus
        self.min_severity = min_severity

    async def send(self, alert: Alert) -> None:
        try:
            await self.bus.publish([alert])
        except (BusError, BusClosed) as exc:
            raise SinkError(f"cannot publish on the bus: {exc}") from exc

    async def close(self) -> None:
        return None


def build_sinks(settings: AlertSettings, *, data_dir: Path, bus_url: str) -> list[AlertSink]:
    """The sinks ``[alerts]`` asks for (the dashboard sink is the router's own)."""
    floor = Severity(settings.min_severity)
    sinks: list[AlertSink] = []
    if settings.log:
        sinks.append(LogSink(floor))
    if settings.stdout:
        sinks.append(StdoutSink(floor))
    if settings.jsonl_path:
        path = Path(settings.jsonl_path).expanduser()
        sinks.append(JsonLinesSink(path if path.is_absolute() else data_dir / path, floor))
    if settings.webhook_url:
        webhook_floor = max(floor, Severity(settings.webhook_min_severity), key=RANK.__getitem__)
        sinks.append(
            WebhookSink(
                settings.webhook_url,
                min_severity=webhook_floor,
                timeout_s=settings.webhook_timeout_s,
                attempts=settings.webhook_attempts,
            )
        )
    if settings.redis_stream:
        url = settings.redis_url or bus_url
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                "alerts.redis_stream needs a Redis server: set alerts.redis_url "
                "(or use a redis:// bus)"
            )
        sinks.append(
            RedisStreamSink(
                url, settings.redis_stream, min_severity=floor, maxlen=settings.redis_maxlen
            )
        )
    return sinks
