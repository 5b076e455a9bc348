"""The EngineClient protocol: what a front end may ask of an engine, and the answers' types.

The TUI never imports engine internals beyond the event vocabulary: it holds an
:class:`EngineClient` and renders the events it gets. Two implementations:
:class:`~gridtui.client.in_process.InProcessClient` runs the engine in this
process (the default: mock feed, embedded SQLite);
:class:`~gridtui.client.remote.RemoteClient` attaches to a daemon over HTTP and
WebSocket (``gridtui --connect``), with the same surface.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Final, Protocol

import msgspec

from engine.backtest.rerun import RerunComparison
from engine.capture.rows import LedgerSnapshot
from engine.clock import Clock
from engine.cockpit.rows import CockpitSnapshot
from engine.events import AuditEntry, Event, PriceKind, PriceTick
from engine.store.base import BacktestRecord
from engine.store.recording import RecordingSpan

if TYPE_CHECKING:
    pass


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
    regions: dict[str, str] = msgspec.field(default_factory=dict)
    """Market → its region (``CWE``, ``Nordic``, …): the dashboard groups and filters by it."""


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
    """The engine's counters as a client sees them: events, rejects, store and bus state (the status
    bar's figures).
    """

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


class RerunRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the re-run form asks for: strategies over the recording from ``since``.

    ``until`` (excluded) defaults to the end of the recording. ``settings``
    overrides strategy settings for this run only, ``"kind.field"`` to a TOML
    value (``{"battery.controller": "mpc", "technical.indicator": "rsi"}``).
    """

    since: datetime
    strategies: tuple[str, ...]
    until: datetime | None = None
    settings: dict[str, str] = msgspec.field(default_factory=dict)


class EngineClient(Protocol):
    """What a front end may ask of an engine: events, history, toggles, backtests, audit.

    Implemented by :class:`~gridtui.client.in_process.InProcessClient` and
    :class:`~gridtui.client.remote.RemoteClient`; the TUI holds one.
    """

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

    async def recording_span(self) -> RecordingSpan | None:
        """The first and last recorded instants (where a rewind can go); None when nothing is
        recorded. Raises ConnectionError (remote) or StoreError."""
        ...

    async def state_at(self, at: datetime) -> list[Event]:
        """The engine's state at a recorded instant, as the events a dashboard folds, oldest
        first (:func:`engine.store.recording.state_at`). Raises ValueError for a naive time,
        ConnectionError (remote) or StoreError."""
        ...

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        """Re-run strategies over the recording from ``request.since`` (a backtest on the stored
        ticks, kept like any backtest) and set it beside what they did live
        (:mod:`engine.backtest.rerun`). Raises ValueError (a bad request: the message names the
        field), NotAvailable, ConnectionError (remote) or StoreError."""
        ...

    async def close(self) -> None:
        """Stop (in-process: flush the store) and disconnect."""
        ...

    async def capture_ledger(self) -> LedgerSnapshot:
        """The "% of perfect foresight" ledger now (:mod:`engine.capture`): per battery
        and strategy, today, this week, this month and the run. Empty rows when the
        engine runs no ledger. Raises ConnectionError (remote)."""
        ...

    async def cockpit(self) -> CockpitSnapshot:
        """The gate-closure cockpit at the engine's now (:mod:`engine.cockpit`): per market
        the next gate closures with their countdowns, whose orders are in, and the last
        day-ahead publication's status. Empty when the engine runs no cockpit. Raises
        ConnectionError (remote)."""
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
