"""RemoteClient: the :class:`EngineClient` of a daemon over HTTP + WebSocket.

``gridtui --connect http://HOST:PORT`` builds one and hands it to the very same
dashboard that otherwise runs on an in-process engine: same panes, same keys.
Several dashboards may attach to one daemon at once.

* Events arrive on the daemon's WebSocket (``/ws/real-time`` in batch mode) as
  the engine's own tagged events and are decoded into the engine's types. The
  client is a lossy viewer: a bounded buffer whose oldest events are dropped
  (and counted) when the dashboard falls behind. If the connection drops it
  reconnects with doubling back-off and says so in the log; the dashboard
  simply sees no events meanwhile.
* History, latest prices, engine info and statistics come from the REST API,
  and so does the state the dashboard starts from (recent alerts, batteries,
  strategies, backtests, forecasts: :func:`gridtui.client.engine_state.daemon_state`).
* At attach, also the feed's health (``/api/v1/feeds/health``: no "waiting"
  until the next one).
* Commands (strategy toggles, the kill switch, backtests) are authenticated
  POSTs with the bearer token; the daemon's answers map onto the protocol's
  exceptions: 503 → :class:`~gridtui.client.protocol.NotAvailable` (its message names
  the missing part), 404 → KeyError, 400/422 → ValueError, 401 and transport
  failures → ConnectionError (:class:`RemoteAuthError` for a refused token).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

import aiohttp
import msgspec

from engine.backtest.rerun import RerunComparison
from engine.bus.inbox import Inbox
from engine.capture.rows import LedgerSnapshot
from engine.cockpit.rows import CockpitSnapshot
from engine.events import AuditEntry, Event, FeedHealth, PriceKind, PriceTick
from engine.store.base import BacktestRecord
from engine.store.recording import RecordedState, RecordingSpan
from gridtui.client.engine_state import daemon_state
from gridtui.client.protocol import (
    DASHBOARD_AGENT,
    BacktestRequest,
    ClientInfo,
    ClientStats,
    NotAvailable,
    Origin,
    RerunRequest,
)
from gridtui.client.remote_wire import (
    Audit,
    EngineInfo,
    FeedsHealth,
    Prices,
    Results,
    Started,
    decode_frame,
    error_message,
)

log = logging.getLogger(__name__)

# What the daemon accepts as a page by default (api.max_page_size); asking for
# more would be refused, so history requests are clamped to it.
MAX_PAGE = 1000
RERUN_TIMEOUT_S = 600.0


class _Span(msgspec.Struct):
    first: datetime | None
    last: datetime | None


class RemoteAuthError(ConnectionError):
    """The daemon refused the bearer token (or none was given for a command)."""


class RemoteClient:
    """An EngineClient attached to a running daemon (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        maxsize: int = 20_000,
        timeout_s: float = 10.0,
        reconnect_initial_s: float = 0.25,
        reconnect_max_s: float = 10.0,
        stats_interval_s: float = 1.0,
        no_token_reason: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token or None
        # Why a command without a token is refused, in the words of whoever chose to
        # attach without one (a watch-only browser tab of `gridtui serve`, say).
        self.no_token_reason = no_token_reason
        self.timeout_s = timeout_s
        self.reconnect_initial_s = reconnect_initial_s
        self.reconnect_max_s = reconnect_max_s
        self.stats_interval_s = stats_interval_s
        self._inbox: Inbox[Event] = Inbox(maxsize)
        self._session: aiohttp.ClientSession | None = None
        self._info: ClientInfo | None = None
        self._costs: dict[tuple[str, str], float] = {}
        self._stats = ClientStats(
            events_in=0,
            events_per_s=0.0,
            rejected=0,
            stored=0,
            pending=0,
            store_up=True,
            dropped_for_viewer=0,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.connected = asyncio.Event()
        self.received = 0
        self.reconnects = 0

    # -- connection -------------------------------------------------------------------

    def _headers(self, *, command: bool = False) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if command and self.no_token_reason:
            raise RemoteAuthError(self.no_token_reason)
        if command:
            raise RemoteAuthError(
                "this command needs the daemon's API token: pass --token, set "
                "GRIDTUI_API_TOKEN, or run on the daemon's host (it reads DATA_DIR/api-token)"
            )
        return {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                # The daemon's audit detail says a command came from a dashboard.
                headers={"User-Agent": DASHBOARD_AGENT},
            )
        return self._session

    async def connect(self) -> None:
        """Fetch the engine's info (markets, border costs). Raises ConnectionError."""
        info = msgspec.json.decode(await self._get("/api/v1/engine/info"), type=EngineInfo)
        self._info = ClientInfo(
            feed=info.feed,
            store=info.store,
            # The node answering, where the daemons are split by role: which of the
            # API nodes this dashboard is attached to.
            bus=f"{info.bus} via {self.url}" + (f" · {info.node}" if info.node else ""),
            clock=info.clock,
            markets=tuple(info.markets),
            forecasters=tuple(info.forecasters),
            regions=dict(info.regions),
        )
        self._costs = {
            (c.from_market, c.to_market): c.cost_eur_mwh for c in info.transmission_costs
        }

    @property
    def info(self) -> ClientInfo:
        if self._info is None:
            raise RuntimeError("not connected: await client.connect() first")
        return self._info

    def transmission_costs(self) -> dict[tuple[str, str], float]:
        return dict(self._costs)

    async def start(self) -> None:
        if self._info is None:
            await self.connect()
        # A daemon older than the route answers 404: the health events will come anyway.
        with contextlib.suppress(KeyError, msgspec.DecodeError, msgspec.ValidationError):
            if feeds := await self.feeds_health():
                self._inbox.put(feeds)
        self._tasks = [
            asyncio.create_task(self._read_events(), name="remote-events"),
            asyncio.create_task(self._poll_stats(), name="remote-stats"),
        ]

    async def _read_events(self) -> None:
        delay = self.reconnect_initial_s
        ws_url = self.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        while not self._closed:
            try:
                async with self._http().ws_connect(
                    f"{ws_url}/ws/real-time?batch=1",
                    headers=self._headers(),
                    heartbeat=30.0,
                    timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                    max_msg_size=0,
                ) as ws:
                    self.connected.set()
                    if self.reconnects:
                        log.info("reconnected to the daemon at %s", self.url)
                    delay = self.reconnect_initial_s
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self._on_frame(message.data.encode())
                        elif message.type == aiohttp.WSMsgType.BINARY:
                            self._on_frame(message.data)
                        elif message.type == aiohttp.WSMsgType.ERROR:
                            break
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                if not self._closed:
                    log.warning(
                        "lost the daemon at %s (%s); retrying in %.1f s",
                        self.url,
                        type(exc).__name__,
                        delay,
                    )
            self.connected.clear()
            if self._closed:
                return
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max_s)

    def _on_frame(self, raw: bytes) -> None:
        events = decode_frame(raw)
        if not events:
            return
        self._inbox.put(events)
        self.received += len(events)

    async def _poll_stats(self) -> None:
        while not self._closed:
            with contextlib.suppress(ConnectionError, msgspec.DecodeError, msgspec.ValidationError):
                self._stats = msgspec.json.decode(
                    await self._get("/api/v1/engine/stats"), type=ClientStats
                )
            await asyncio.sleep(self.stats_interval_s)

    # -- the EngineClient surface ------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Events this lossy viewer skipped because it fell behind."""
        return self._inbox.dropped

    async def next_events(self, timeout: float | None = None) -> list[Event]:
        batch = await self._inbox.take(timeout)
        if batch is None:
            raise ConnectionError("remote client closed")
        return batch

    async def feeds_health(self) -> list[FeedHealth]:
        """Each feed's health now, as the daemon's kernel judges it."""
        raw = await self._get("/api/v1/feeds/health")
        return msgspec.json.decode(raw, type=FeedsHealth).feeds

    async def latest_prices(self, kind: PriceKind = PriceKind.INTRADAY) -> dict[str, PriceTick]:
        raw = await self._get("/api/v1/dashboard/prices", {"kind": kind.value})
        return {tick.market: tick for tick in msgspec.json.decode(raw, type=Prices).prices}

    async def price_history(
        self, market: str, limit: int = 500, kind: PriceKind | None = None
    ) -> list[PriceTick]:
        params = {"market": market, "limit": str(max(1, min(limit, MAX_PAGE)))}
        if kind is not None:
            params["kind"] = kind.value
        raw = await self._get("/api/v1/dashboard/prices/history", params)
        return msgspec.json.decode(raw, type=Prices).prices

    def stats(self) -> ClientStats:
        return msgspec.structs.replace(self._stats, dropped_for_viewer=self.dropped)

    # ``origin`` is not sent: the daemon records who asked from the request itself
    # (its socket address), which a client cannot make up.
    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        await self._post(f"/api/v1/trading/strategies/{name}/toggle", {"on": on}, missing=name)

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        await self._post("/api/v1/trading/stop-all", None)

    async def audit_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[AuditEntry]:
        params = {"limit": str(max(1, min(limit, MAX_PAGE))), "offset": str(offset)}
        params |= {k: v for k, v in (("actor", actor), ("action", action)) if v}
        raw = await self._request("GET", "/api/v1/audit", params=params, command=True)
        return msgspec.json.decode(raw, type=Audit).entries

    async def start_backtest(self, request: BacktestRequest) -> str:
        body = {
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "strategies": list(request.strategies),
            "data": request.data,
        }
        raw = await self._post("/api/v1/backtest/start", body)
        return msgspec.json.decode(raw, type=Started).run_id

    async def backtest_metrics(self, run_id: str) -> dict[str, float]:
        try:
            raw = await self._get(f"/api/v1/backtest/results/{run_id}")
        except KeyError:
            return {}
        return msgspec.json.decode(raw, type=Results).metrics

    async def cancel_backtests(self) -> int:
        return 0  # they run in the daemon, which cancels them when it stops

    async def backtest_record(self, run_id: str) -> BacktestRecord | None:
        try:
            raw = await self._get(f"/api/v1/backtest/results/{run_id}")
        except KeyError:
            return None
        return msgspec.json.decode(raw, type=BacktestRecord)

    async def initial_events(self) -> list[Event]:
        return await daemon_state(self._get, self.info.markets)

    async def recording_span(self) -> RecordingSpan | None:
        found = msgspec.json.decode(await self._get("/api/v1/recorder/span"), type=_Span)
        if found.first is None or found.last is None:
            return None
        return RecordingSpan(first=found.first, last=found.last)

    async def state_at(self, at: datetime) -> list[Event]:
        if at.tzinfo is None:
            raise ValueError(f"at must carry a time zone (got {at.isoformat()})")
        raw = await self._get("/api/v1/recorder/state", {"at": at.isoformat()})
        return list(msgspec.json.decode(raw, type=RecordedState).events)

    async def capture_ledger(self) -> LedgerSnapshot:
        return msgspec.json.decode(await self._get("/api/v1/ledger"), type=LedgerSnapshot)

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        body = {
            "since": request.since.isoformat(),
            "until": request.until.isoformat() if request.until is not None else None,
            "strategies": list(request.strategies),
            "settings": dict(request.settings),
        }
        # A re-run is a backtest answered in one go: longer than a read may take.
        raw = await self._request(
            "POST", "/api/v1/rerun", body=body, command=True, timeout_s=RERUN_TIMEOUT_S
        )
        return msgspec.json.decode(raw, type=RerunComparison)

    async def cockpit(self) -> CockpitSnapshot:
        return msgspec.json.decode(await self._get("/api/v1/cockpit"), type=CockpitSnapshot)

    async def close(self) -> None:
        self._closed = True
        self._inbox.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- HTTP --------------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, str] | None = None) -> bytes:
        return await self._request("GET", path, params=params)

    async def _post(self, path: str, body: Any, *, missing: str | None = None) -> bytes:
        return await self._request("POST", path, body=body, command=True, missing=missing)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        command: bool = False,
        missing: str | None = None,
        timeout_s: float | None = None,
    ) -> bytes:
        # Only when asked: aiohttp reads timeout=None as "no timeout at all".
        extra: dict[str, Any] = {}
        if timeout_s is not None:
            extra["timeout"] = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._http().request(
                method,
                self.url + path,
                params=params,
                json=body,
                headers=self._headers(command=command),
                **extra,
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectionError(f"the daemon at {self.url} is unreachable: {exc}") from exc
        if status < 300:
            return raw
        message = error_message(raw) or f"HTTP {status}"
        if status == 503:
            raise NotAvailable(message)
        if status == 404:
            raise KeyError(missing if missing is not None else message)
        if status == 401:
            raise RemoteAuthError(f"the daemon refused the request: {message}")
        if status in (400, 413, 422):
            raise ValueError(message)
        raise ConnectionError(f"the daemon answered {status}: {message}")
