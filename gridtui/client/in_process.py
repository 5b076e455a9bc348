"""EngineClient: how front ends (the TUI, later the API) talk to an engine.

The TUI never imports engine internals beyond the event vocabulary: it holds an
``EngineClient`` and renders the events it gets. Two implementations:

* :class:`InProcessClient` — runs a :class:`engine.runtime.Runtime` in this
  process (the default: mock feed, embedded SQLite);
* a WebSocket client to a daemon (``gridtui --connect``), with the same
  surface, arrives with the daemon API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

import msgspec

from engine.bus.base import BusError, Subscription
from engine.clock import Clock, LiveClock
from engine.events import ALL_TOPICS, AuditEntry, BacktestProgress, Event, PriceKind, PriceTick
from engine.runtime import Runtime
from engine.store.base import BacktestRecord, StoreError
from engine.strategies.manager import StrategyManager
from engine.strategies.registry import parse_names
from gridtui.client.engine_state import RECENT_ALERTS, RECENT_BACKTESTS, stored_backtest_events
from gridtui.settings.loader import Settings
from gridtui.wiring import build_runtime

if TYPE_CHECKING:
    from gridtui.commands.backtest import Prepared

log = logging.getLogger(__name__)


class ForecasterInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One forecast model on the engine: what it forecasts and what it needs first.

    ``warmup_steps`` closed steps of ``step_s`` seconds come before its first
    forecast of a market (the Prices pane counts them while it warms up).
    A day-ahead model forecasts D at ``decision_time`` (local wall-clock time
    on D−1 in ``timezone``), or after its warm-up when the engine started
    later; both are empty for an intraday model.
    """

    model_id: str
    task: str  # "intraday" | "dayahead"
    step_s: int
    warmup_steps: int
    decision_time: str = ""  # "10:00"
    timezone: str = ""  # "Europe/Brussels"


class ClientInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a status bar shows about the engine behind a client."""

    feed: str
    store: str
    bus: str
    clock: str  # "live", "sim 360×", "replay 60×": see clock_mode
    markets: tuple[str, ...]
    forecasters: tuple[ForecasterInfo, ...] = ()


def clock_mode(clock: Clock, feed: str) -> str:
    """What the status bar calls the engine's time: ``live``, ``sim 360×``, ``replay 60×``.

    Only real market data on the wall clock is live: the simulator says ``sim`` even
    at real time (``sim 1×``), since its prices are made up; ``max`` is as fast as
    the machine goes.
    """
    if clock.is_live and feed not in ("mock", "replay"):
        return "live"
    what = "replay" if feed == "replay" else "sim"
    speed = 1.0 if clock.is_live else getattr(clock, "speed", math.inf)
    pace = f"{speed:g}×" if math.isfinite(speed) else "max"
    return f"{what} {pace}"


class ClientStats(msgspec.Struct, frozen=True, kw_only=True):
    events_in: int
    events_per_s: float
    rejected: int
    stored: int
    pending: int
    store_up: bool
    dropped_for_viewer: int


class Origin(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks for a command and how, as the audit log keeps it.

    ``actor`` is ``dashboard`` (keys of an in-process dashboard), ``api:<address>``
    (a daemon's HTTP or WebSocket client, by its socket address) or ``cli``;
    ``detail`` says what happened (``start via POST /api/v1/…``).
    """

    actor: str
    detail: str


DASHBOARD: Final = "dashboard"
CLI: Final = "cli"
# The User-Agent of a dashboard attached to a daemon (``gridtui --connect``).
DASHBOARD_AGENT: Final = "gridtui-dashboard"


class NotAvailable(RuntimeError):
    """The engine behind this client has no such part yet; the message says which.

    Front ends show the message as it is (a notification), never a fake success.
    """


class BacktestRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the new-backtest form asks for: a date range, strategies and a data source.

    ``start`` and ``end`` are delivery days, both included. ``data`` is ``"mock"``
    (the simulator) or ``"replay"`` (stored history).
    """

    start: date
    end: date
    strategies: tuple[str, ...]
    data: str = "mock"


class EngineClient(Protocol):
    @property
    def info(self) -> ClientInfo: ...

    async def start(self) -> None:
        """Connect / start the engine. Raises StoreError, BusError or ConnectionError."""
        ...

    async def next_events(self, timeout: float | None = None) -> list[Event]:
        """The next events for the viewer (lossy: a slow viewer skips stale ones)."""
        ...

    async def latest_prices(self, kind: PriceKind = PriceKind.INTRADAY) -> dict[str, PriceTick]: ...

    async def price_history(
        self, market: str, limit: int = 500, kind: PriceKind | None = None
    ) -> list[PriceTick]: ...

    def stats(self) -> ClientStats: ...

    def transmission_costs(self) -> dict[tuple[str, str], float]:
        """EUR/MWh to move power from the first market to the second, every ordered pair."""
        ...

    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        """Start (``on``) or stop a strategy. Raises NotAvailable or KeyError (unknown name).

        ``origin`` is who asks, for the audit log (default: this client's own front
        end); a remote client leaves it to the daemon, which knows the address.
        """
        ...

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        """The kill switch: stop every strategy now. Raises NotAvailable."""
        ...

    async def audit_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Audit entries, newest first (filters as ``Store.audit_log``). Raises ConnectionError."""
        ...

    async def start_backtest(self, request: BacktestRequest) -> str:
        """Queue a backtest; returns its run id. Raises NotAvailable or ValueError."""
        ...

    async def backtest_metrics(self, run_id: str) -> dict[str, float]:
        """Headline metrics of a stored backtest run; empty when it has none (yet)."""
        ...

    async def cancel_backtests(self) -> int:
        """Cancel the backtests running here and wait until each is recorded as
        ``cancelled``; returns how many. Remote: 0 (they run in the daemon)."""
        ...

    async def backtest_record(self, run_id: str) -> BacktestRecord | None:
        """A stored run (config, metrics, equity curve) for its result screen; None if unknown."""
        ...

    async def initial_events(self) -> list[Event]:
        """The engine's current state as events, oldest first, for a dashboard just started.

        See :mod:`gridtui.client.engine_state`. Raises ConnectionError or StoreError.
        """
        ...

    async def close(self) -> None:
        """Stop (in-process: flush the store) and disconnect."""
        ...


def forecasters_of(components: Sequence[object]) -> tuple[ForecasterInfo, ...]:
    """The forecast models among an engine's components (see ``ForecastComponent``)."""
    found: list[ForecasterInfo] = []
    for component in components:
        # Duck-typed: importing models.forecast.component here would pull onnxruntime
        # into every front end, even one with forecasts switched off.
        forecaster = getattr(component, "forecaster", None)
        warmup_steps = getattr(component, "warmup_steps", None)
        if forecaster is None or not isinstance(warmup_steps, int):
            continue
        config = getattr(forecaster, "config", None)
        day_ahead = str(forecaster.task) == "dayahead"
        found.append(
            ForecasterInfo(
                model_id=str(forecaster.model_id),
                task=str(forecaster.task),
                step_s=int(component.step_s),  # type: ignore[attr-defined]
                warmup_steps=warmup_steps,
                decision_time=str(getattr(config, "decision_time", "")) if day_ahead else "",
                timezone=str(getattr(config, "timezone", "")) if day_ahead else "",
            )
        )
    return tuple(found)


class InProcessClient:
    """Runs the engine inside the front end's own event loop."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime = runtime or build_runtime(settings)
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[object] | None = None
        self._backtests: set[asyncio.Task[None]] = set()

    @property
    def info(self) -> ClientInfo:
        feed = self.runtime.kernel.feed.name
        return ClientInfo(
            feed=feed,
            store=self.runtime.store.backend,
            bus=self.runtime.bus.backend,
            clock=clock_mode(self.runtime.clock, feed),
            markets=self.settings.markets,
            forecasters=forecasters_of(self.runtime.kernel.components),
        )

    async def start(self) -> None:
        await self.runtime.start()
        self._subscription = await self.runtime.bus.subscribe(
            ALL_TOPICS, name="tui", lossless=False, maxsize=20_000
        )
        self._task = asyncio.create_task(self.runtime.run(), name="engine")

    async def next_events(self, timeout: float | None = None) -> list[Event]:
        if self._subscription is None:
            raise RuntimeError("client not started: await client.start() first")
        return await self._subscription.next_batch(timeout)

    async def latest_prices(self, kind: PriceKind = PriceKind.INTRADAY) -> dict[str, PriceTick]:
        return await self.runtime.store.latest_prices(self.settings.markets, kind)

    async def price_history(
        self, market: str, limit: int = 500, kind: PriceKind | None = None
    ) -> list[PriceTick]:
        return await self.runtime.store.price_history(market, limit=limit, kind=kind)

    def stats(self) -> ClientStats:
        kernel, writer = self.runtime.kernel, self.runtime.writer
        return ClientStats(
            events_in=kernel.stats.events_in,
            events_per_s=kernel.events_per_s(),
            rejected=self.runtime.validator.rejected_total,
            stored=writer.stats.written,
            pending=writer.pending,
            store_up=writer.stats.store_up,
            dropped_for_viewer=self._subscription.dropped if self._subscription else 0,
        )

    def transmission_costs(self) -> dict[tuple[str, str], float]:
        return self.settings.spreads.cost_matrix_eur_mwh()

    def _strategies(self) -> StrategyManager:
        for component in self.runtime.kernel.components:
            if isinstance(component, StrategyManager):
                return component
        raise NotAvailable("no strategies are loaded (strategies.enabled is empty)")

    async def _emit(self, events: Sequence[Event]) -> None:
        """Publish and store events made outside the kernel loop (toggles, backtest progress)."""
        self.runtime.writer.add(events)
        try:
            await self.runtime.bus.publish(events)
        except BusError as exc:
            log.error("could not publish %d events (they are stored): %s", len(events), exc)

    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        manager = self._strategies()
        verb = "start" if on else "stop"
        # Without an origin the call came from this process's own dashboard keys.
        origin = origin or Origin(
            actor=DASHBOARD, detail=f"{verb}: strategy key pressed and confirmed on the dashboard"
        )
        events = manager.set_running(
            name, on, now=self.runtime.clock.now(), actor=origin.actor, reason=origin.detail
        )
        await self._emit(events)

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        manager = self._strategies()
        origin = origin or Origin(actor=DASHBOARD, detail="kill switch key on the dashboard")
        events = manager.stop_all(
            now=self.runtime.clock.now(), actor=origin.actor, reason=origin.detail
        )
        await self._emit(events)

    async def audit_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[AuditEntry]:
        return await self.runtime.store.audit_log(
            actor=actor, action=action, limit=limit, offset=offset
        )

    @property
    def running_backtests(self) -> int:
        """Backtests started here that have not ended (the daemon caps them)."""
        return len(self._backtests)

    async def start_backtest(self, request: BacktestRequest) -> str:
        from engine.backtest.run import new_run_id
        from gridtui.commands.backtest import prepare

        names = parse_names(request.strategies)
        if not names:
            raise ValueError("name at least one strategy")
        data = "mock" if request.data == "mock" else self.settings.feed.path
        if not data:
            raise ValueError(
                "no stored history to replay: set feed.path (or run `gridtui backtest --data FILE`)"
            )
        now = LiveClock().now()
        run_id = f"{new_run_id(now)}-{secrets.token_hex(2)}"
        # Off the loop: preparing reads the price file (its span, for the window check)
        # and builds the strategies, ~0.2-1 s the dashboard would otherwise freeze for.
        prepared = await asyncio.to_thread(
            prepare,
            self.settings,
            data=data,
            start=request.start,
            end=request.end,
            names=names,
            run_id=run_id,
        )
        task = asyncio.create_task(self._run_backtest(prepared, now), name=f"backtest-{run_id}")
        self._backtests.add(task)
        task.add_done_callback(self._backtests.discard)
        return run_id

    async def _run_backtest(self, prepared: Prepared, created_at: datetime) -> None:
        """Run in the background; progress goes to the dashboard's bus, the result to the store.

        A run that is cancelled (the daemon stops) or fails is recorded with that
        state, so history says what became of it instead of losing it.
        """
        from gridtui.commands.backtest import run_and_save

        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()
        finished: list[BacktestProgress] = []
        last = BacktestProgress(
            ts=created_at,
            run_id=prepared.config.run_id,
            state="running",
            percent=0.0,
            events_done=0,
            events_total=0,
        )

        def forward(progress: BacktestProgress) -> None:
            nonlocal last
            last = progress
            if progress.state == "finished":
                finished.append(progress)  # published once the record is stored
                return
            task = loop.create_task(self._emit([progress]))
            pending.add(task)
            task.add_done_callback(pending.discard)

        try:
            # The result screen links the report: every run from here writes one.
            report = Path(self.settings.data_dir) / "reports" / f"{prepared.config.run_id}.html"
            await run_and_save(
                prepared,
                self.runtime.store,
                created_at=created_at,
                on_progress=forward,
                report=report,
            )
        except asyncio.CancelledError:
            # Progress still in flight goes out before the end state, never after
            # the bus has closed.
            await asyncio.gather(*pending, return_exceptions=True)
            await self._end_backtest(prepared, created_at, last, "cancelled")
            raise
        except Exception:
            log.exception("backtest %s failed", prepared.config.run_id)
            await asyncio.gather(*pending, return_exceptions=True)
            await self._end_backtest(prepared, created_at, last, "failed")
            return
        await asyncio.gather(*pending, return_exceptions=True)
        if finished:
            await self._emit(finished[-1:])

    async def _end_backtest(
        self, prepared: Prepared, created_at: datetime, last: BacktestProgress, state: str
    ) -> None:
        """Record and announce a run that ended without a result."""
        config = prepared.config
        record = BacktestRecord(
            run_id=config.run_id,
            created_at=created_at,
            state=state,
            config={
                "from": config.start.isoformat(),
                "to": config.end.isoformat(),
                "data": config.data,
                "markets": list(config.markets),
                "strategies": list(config.strategies),
                "events_done": last.events_done,
            },
        )
        try:
            await self.runtime.store.save_backtest(record)
        except StoreError as exc:
            log.error("could not record backtest %s as %s: %s", config.run_id, state, exc)
        log.info(
            "backtest %s %s at %.0f%% (%d events replayed)",
            config.run_id,
            state,
            last.percent,
            last.events_done,
        )
        await self._emit([msgspec.structs.replace(last, state=state, eta_s=None)])

    async def backtest_metrics(self, run_id: str) -> dict[str, float]:
        record = await self.runtime.store.backtest(run_id)
        return dict(record.metrics) if record is not None else {}

    async def backtest_record(self, run_id: str) -> BacktestRecord | None:
        return await self.runtime.store.backtest(run_id)

    async def initial_events(self) -> list[Event]:
        """Recent alerts and stored backtests: what the store kept from earlier sessions.

        Prices come with the price history; strategies and batteries announce
        themselves when the engine starts.
        """
        store = self.runtime.store
        alerts = await store.alerts(RECENT_ALERTS)
        runs = await store.backtests(RECENT_BACKTESTS)
        events: list[Event] = sorted(alerts, key=lambda alert: alert.ts)
        for record in reversed(runs):  # oldest first, as they were run
            events += stored_backtest_events(record)
        return events

    async def cancel_backtests(self) -> int:
        # Awaited while the store and the bus are still open, so each run records
        # its end and nothing is published after the bus closes.
        backtests = list(self._backtests)
        for backtest in backtests:
            backtest.cancel()
        await asyncio.gather(*backtests, return_exceptions=True)
        return len(backtests)

    async def close(self) -> None:
        await self.cancel_backtests()
        self.runtime.stop()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        await self.runtime.close()
