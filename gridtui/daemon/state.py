"""What the daemon's API serves from: the engine handle and a live view of the bus.

* :class:`DaemonEngine` — the running :class:`~engine.runtime.Runtime` (store,
  bus, kernel statistics), an :class:`~gridtui.client.protocol.EngineClient` around it
  for commands (strategy toggles, the kill switch, backtests), the settings,
  and the optional parts later issues plug in (a model trainer, a predictor).
  Routes for a part the engine does not have answer 503 with a message that
  says which part brings it (:meth:`DaemonEngine.require`).
* :class:`LiveState` — the newest of everything that went over the bus (latest
  price per market and kind, open opportunities, batteries, strategies,
  backtest progress, forecasts, feed health, recent alerts), folded by the
  app's one bus-pump task. Summaries are answered from it without touching the
  database.
* :class:`TrainingJobs` — model-training jobs the API started, run one at a
  time by one worker task.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

import msgspec

from engine.alerts.engine import AlertEngine
from engine.events import (
    Alert,
    BacktestProgress,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    Fundamentals,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
    StrategyStatus,
)
from engine.runtime import Runtime
from engine.spreads.engine import SpreadEngine
from gridtui.client.protocol import EngineClient
from gridtui.daemon.validation import ApiError
from gridtui.roles.node import NodeState
from gridtui.settings.loader import Settings

log = logging.getLogger(__name__)

# Engine parts a route may need: the component names that bring each, and what
# to tell a caller while the engine has none.
PARTS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "batteries": (
        ("batteries", "battery", "dispatch"),
        "battery dispatch arrives with the battery fleet: configure [[battery.fleet]] "
        "(engine/battery/physics.py, engine/battery/dispatch.py)",
    ),
    "strategies": (
        ("strategies", "strategy"),
        "strategies arrive with the strategy engine (engine/strategies/, "
        "engine/strategies/manager.py)",
    ),
    "forecasts": (
        ("forecast",),
        "price forecasts arrive with XGBoost forecasting (models/forecast/onnx_forecaster.py): "
        "no forecaster runs in this engine",
    ),
}


class TrainRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What ``POST /api/v1/models/train`` asks for."""

    kind: str = "forecast"  # "forecast" | "policy"
    task: str = "intraday"
    markets: tuple[str, ...] = ()
    # days, n_estimators, max_depth, learning_rate, step_minutes, promote, and
    # data: a price file inside the data dir to train on instead of the store.
    params: dict[str, float | int | str | bool] = {}


ProgressCallback = Callable[[float, str], None]


class Trainer(Protocol):
    """Trains a model in the background (off the event loop) and registers it.

    Calls ``progress(percent, message)`` as it goes; returns the new model id.
    Raises ValueError for a request it cannot serve.
    """

    def __call__(self, request: TrainRequest, progress: ProgressCallback) -> Awaitable[str]: ...


class Predictor(Protocol):
    """Forecasts ``horizon_steps`` ahead for one market on demand."""

    def __call__(self, market: str, horizon_steps: int) -> Awaitable[list[Forecast]]: ...


@dataclass
class DaemonEngine:
    """The engine as the API sees it (see the module docstring).

    The daemon owns the runtime's lifecycle (it started it and runs it); the
    ``client`` wraps the same runtime for commands and is never started itself.
    """

    runtime: Runtime
    client: EngineClient
    settings: Settings
    trainer: Trainer | None = None
    predictor: Predictor | None = None
    started_monotonic: float = 0.0
    live: LiveState = field(default_factory=lambda: LiveState())
    bus_up: bool = True  # kept by the app's health monitor
    # This node's role and whether it is the active one (gridtui.roles); None: role "all".
    node: NodeState | None = None

    def __post_init__(self) -> None:
        self.live.now = self.now  # when a tick was seen, for the feed-health route

    def now(self) -> datetime:
        """The engine's time (simulated in a replay)."""
        return self.runtime.clock.now()

    def uptime_s(self) -> float:
        return max(0.0, self.runtime.clock.monotonic() - self.started_monotonic)

    def feed_state(self) -> str:
        """The feed's one health state (``up``, ``degraded``, ``down``, ``ended``) from the
        kernel's state machine, or ``stopped`` once the kernel has stopped. A node that
        runs no feed of its own (api, analytics, a standby ingest) tells the health the
        active ingest node last published on the bus (``unknown`` before any came)."""
        remote = self.bus_feed_health()
        if remote is not None or not self.owns_feed():
            return remote.state if remote is not None else "unknown"
        kernel = self.runtime.kernel
        if kernel.stats.stopped_monotonic is not None:
            return "stopped"
        return kernel.feed_health.evaluate(self.now())

    def owns_feed(self) -> bool:
        return self.node is None or self.node.owns_feed

    def bus_feed_health(self) -> FeedHealth | None:
        """The newest feed health from the bus, for a node that runs no feed itself."""
        if self.owns_feed() or not self.live.feeds:
            return None
        return max(self.live.feeds.values(), key=lambda health: health.ts)

    def component_names(self) -> list[str]:
        return [component.name for component in self.runtime.kernel.components]

    def has_part(self, part: str) -> bool:
        """Whether the engine runs a component that brings ``part``, or its events were seen."""
        prefixes, _ = PARTS[part]
        if any(name.startswith(prefixes) for name in self.component_names()):
            return True
        seen = {
            "batteries": bool(self.live.batteries),
            "strategies": bool(self.live.strategies),
            "forecasts": bool(self.live.forecasts),
        }
        return seen[part]

    def require(self, part: str) -> None:
        """Raise a 503 ApiError saying which part brings ``part`` when it is missing."""
        if not self.has_part(part):
            raise ApiError(503, PARTS[part][1])

    @property
    def spreads(self) -> SpreadEngine | None:
        for component in self.runtime.kernel.components:
            if isinstance(component, SpreadEngine):
                return component
        return None

    @property
    def alerts(self) -> AlertEngine | None:
        for component in self.runtime.kernel.components:
            if isinstance(component, AlertEngine):
                return component
        return None

    def open_opportunities(self) -> list[SpreadOpportunity]:
        """The opportunities open now, best net spread first."""
        spreads = self.spreads
        found = spreads.open_opportunities() if spreads else list(self.live.opportunities.values())
        return sorted(found, key=lambda o: o.net_spread_eur_mwh, reverse=True)


KEEP_FUNDAMENTALS: Final = 192


class LiveState:
    """The newest of each thing that went over the bus; fed by the app's bus pump."""

    def __init__(self, *, keep_alerts: int = 200, keep_backtests: int = 200) -> None:
        self.prices: dict[tuple[str, PriceKind], PriceTick] = {}
        self.opportunities: dict[tuple[str, str], SpreadOpportunity] = {}
        self.batteries: dict[str, BatteryState] = {}
        self.strategies: dict[str, StrategyStatus] = {}
        self.backtests: OrderedDict[str, BacktestProgress] = OrderedDict()
        self.forecasts: dict[str, dict[int, Forecast]] = {}
        self.feeds: dict[str, FeedHealth] = {}
        # Per market the newest intervals, oldest first: two days of quarter-hours.
        self.fundamentals: dict[str, deque[Fundamentals]] = {}
        # market → (engine time it arrived, the tick): a day-ahead tick is stamped
        # with its delivery start, hours ahead, but was seen when it came.
        self.ticks_seen: dict[str, tuple[datetime, PriceTick]] = {}
        self.now: Callable[[], datetime] | None = None
        self.alerts: deque[Alert] = deque(maxlen=keep_alerts)
        self.events_seen = 0
        self.last_event_at: datetime | None = None
        # Counted here, in the one pass over each batch, and exported by /metrics.
        self.opportunity_counts: Counter[str] = Counter()
        self.alert_counts: Counter[tuple[str, str]] = Counter()
        self._keep_backtests = keep_backtests

    def apply(self, events: Sequence[Event]) -> None:
        for event in events:
            kind = type(event)
            if kind is PriceTick:
                assert isinstance(event, PriceTick)
                self.prices[(event.market, event.kind)] = event
                self._seen(event)
            elif kind is SpreadOpportunity:
                assert isinstance(event, SpreadOpportunity)
                self.opportunity_counts[event.status.value] += 1
                if event.status is OpportunityStatus.CLOSED:
                    self.opportunities.pop(event.pair, None)
                else:
                    self.opportunities[event.pair] = event
            elif kind is BatteryState:
                assert isinstance(event, BatteryState)
                self.batteries[event.battery_id] = event
            elif kind is StrategyStatus:
                assert isinstance(event, StrategyStatus)
                self.strategies[event.strategy] = event
            elif kind is BacktestProgress:
                assert isinstance(event, BacktestProgress)
                self.backtests[event.run_id] = event
                self.backtests.move_to_end(event.run_id)
                while len(self.backtests) > self._keep_backtests:
                    self.backtests.popitem(last=False)
            elif kind is Forecast:
                assert isinstance(event, Forecast)
                self.forecasts.setdefault(event.market, {})[event.horizon_steps] = event
            elif kind is FeedHealth:
                assert isinstance(event, FeedHealth)
                self.feeds[event.source] = event
            elif kind is Fundamentals:
                assert isinstance(event, Fundamentals)
                kept = self.fundamentals.setdefault(event.market, deque(maxlen=KEEP_FUNDAMENTALS))
                if not kept or event.ts > kept[-1].ts:  # a repeated interval is not kept twice
                    kept.append(event)
            elif kind is Alert:
                assert isinstance(event, Alert)
                self.alerts.append(event)
                self.alert_counts[(event.rule, event.severity.value)] += 1
        if events:
            self.events_seen += len(events)
            self.last_event_at = events[-1].ts

    def _seen(self, tick: PriceTick) -> None:
        seen_at = min(tick.ts, self.now()) if self.now is not None else tick.ts
        previous = self.ticks_seen.get(tick.market)
        if previous is None or seen_at >= previous[0]:
            self.ticks_seen[tick.market] = (seen_at, tick)

    def latest_prices(self, kind: PriceKind) -> dict[str, PriceTick]:
        return {market: tick for (market, k), tick in self.prices.items() if k is kind}


class TrainingJob(msgspec.Struct, kw_only=True):
    """One model training started over the API: its id, task, progress and outcome."""

    job_id: str
    state: str  # "queued" | "running" | "finished" | "failed"
    percent: float = 0.0
    message: str = ""
    model_id: str | None = None
    request: TrainRequest
    created_at: datetime
    finished_at: datetime | None = None


class TrainingJobs:
    """Training jobs started over the API, run one at a time by :meth:`run`.

    ``on_progress`` is told of every change (the app broadcasts it on the
    WebSocket as ``model_training_progress``).
    """

    def __init__(
        self,
        now: Callable[[], datetime],
        on_progress: Callable[[TrainingJob], None],
        *,
        keep: int = 100,
    ) -> None:
        self.jobs: OrderedDict[str, TrainingJob] = OrderedDict()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._now = now
        self._on_progress = on_progress
        self._keep = keep

    def queued(self) -> int:
        """Jobs waiting for the worker (the one it runs is not counted)."""
        return sum(1 for job in self.jobs.values() if job.state == "queued")

    def submit(self, request: TrainRequest) -> TrainingJob:
        job = TrainingJob(
            job_id=f"train-{next(self._ids):04d}",
            state="queued",
            request=request,
            created_at=self._now(),
        )
        self.jobs[job.job_id] = job
        while len(self.jobs) > self._keep:
            oldest = next(iter(self.jobs))
            if self.jobs[oldest].state in ("queued", "running"):
                break
            del self.jobs[oldest]
        self._queue.put_nowait(job.job_id)
        self._on_progress(job)
        return job

    async def run(self, trainer: Trainer | None) -> None:
        """The worker: take queued jobs one by one until cancelled."""
        while True:
            job = self.jobs.get(await self._queue.get())
            if job is None:
                continue
            if trainer is None:  # submit() is refused without one; belt and braces
                self._finish(job, "failed", "no trainer in this engine")
                continue
            job.state = "running"
            self._on_progress(job)

            def progress(percent: float, message: str, job: TrainingJob = job) -> None:
                job.percent = max(0.0, min(100.0, float(percent)))
                job.message = message
                self._on_progress(job)

            try:
                job.model_id = await trainer(job.request, progress)
            except asyncio.CancelledError:
                self._finish(job, "failed", "the daemon stopped during training")
                raise
            except Exception as exc:
                log.exception("training job %s failed", job.job_id)
                self._finish(job, "failed", str(exc) or type(exc).__name__)
                continue
            job.percent = 100.0
            self._finish(job, "finished", f"registered {job.model_id}")

    def _finish(self, job: TrainingJob, state: str, message: str) -> None:
        job.state = state
        job.message = message
        job.finished_at = self._now()
        self._on_progress(job)
