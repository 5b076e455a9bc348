"""Request and response bodies of the daemon's API, as msgspec structs.

Handlers build these and the OpenAPI document (``/openapi.json``) is generated
from the very same types, so the document cannot drift from what is served.
Engine events (PriceTick, SpreadOpportunity, …) appear as they are, tagged
with their ``type``, so a client can decode them into the engine's own types.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

import msgspec

from engine.alerts.config import AlertConfig
from engine.events import (
    Alert,
    BatteryState,
    Forecast,
    PriceTick,
    SpreadOpportunity,
    StrategyStatus,
    Trade,
)
from gridtui.client.protocol import ForecasterInfo


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    status: int


# -- InTheGrid-compatible ---------------------------------------------------------------


class PriceRow(msgspec.Struct, kw_only=True):
    market: str
    price: float
    timestamp: datetime
    kind: str


class LatestPrices(msgspec.Struct, kw_only=True):
    markets: list[PriceRow]
    count: int
    retrieved_at: datetime


class OpportunityRow(msgspec.Struct, kw_only=True):
    market_pair: str
    timestamp: datetime
    spread: float
    net_opportunity: float
    transmission_cost: float
    low_market: str
    high_market: str
    low_price: float
    high_price: float
    strategy: str
    opened_at: datetime
    duration_s: float
    capacity_mw: float | None = None
    profit_eur_h: float | None = None


class Opportunities(msgspec.Struct, kw_only=True):
    opportunities: list[OpportunityRow]
    count: int
    retrieved_at: datetime


class HistoryRow(msgspec.Struct, kw_only=True):
    market: str
    price: float
    timestamp: datetime


class HistoryStats(msgspec.Struct, kw_only=True):
    latest: float
    average: float
    min: float
    max: float
    samples: int


class PriceHistory(msgspec.Struct, kw_only=True):
    market: str
    history: list[HistoryRow]
    stats: HistoryStats | None
    retrieved_at: datetime


class FeedStatus(msgspec.Struct, kw_only=True):
    """The feed's one health state (the kernel's FeedHealthMachine) and its counters."""

    source: str
    state: str  # "up" | "degraded" | "down" | "ended" | "stopped" (the kernel stopped)
    reason: str = ""
    since: datetime | None = None
    events_total: int
    events_per_s: float
    rejected_total: int
    last_batch_at: datetime | None


class StoreStatus(msgspec.Struct, kw_only=True):
    backend: str
    up: bool
    pending: int
    written: int
    spilled: int
    last_error: str


class BusStatus(msgspec.Struct, kw_only=True):
    backend: str
    up: bool
    errors: int


class NodeStatus(msgspec.Struct, kw_only=True):
    """This daemon node: its role, whether it is the active one, and who is."""

    role: str  # "all" | "ingest" | "analytics" | "api"
    node_id: str
    state: str  # "active" | "standby"
    active_node: str = ""  # the lease holder (ingest, analytics); this node otherwise
    active_since: datetime | None = None
    takeovers: int = 0
    # Role → the node active for it now (ingest, analytics), on every split-role node.
    active_nodes: dict[str, str] = msgspec.field(default_factory=dict)


class Health(msgspec.Struct, kw_only=True):
    status: Literal["healthy", "degraded", "unhealthy"]
    service: str
    version: str
    timestamp: datetime
    uptime_s: float
    feed: FeedStatus
    store: StoreStatus
    bus: BusStatus
    components: list[str]
    websocket_clients: int
    node: NodeStatus | None = None


# -- /api/v1/dashboard ------------------------------------------------------------------


class Summary(msgspec.Struct, kw_only=True):
    timestamp: datetime
    markets: list[str]
    latest_prices_eur_mwh: dict[str, float]
    open_opportunities: int
    best_opportunity: SpreadOpportunity | None
    batteries: int
    strategies_running: int
    strategies_total: int
    strategies_pnl_eur: float
    recent_alerts: list[Alert]
    feed: FeedStatus
    store: StoreStatus


class Prices(msgspec.Struct, kw_only=True):
    kind: str
    prices: list[PriceTick]
    retrieved_at: datetime


class PriceSeries(msgspec.Struct, kw_only=True):
    market: str
    kind: str | None
    prices: list[PriceTick]
    count: int


class Batteries(msgspec.Struct, kw_only=True):
    batteries: list[BatteryState]
    count: int


class Arbitrage(msgspec.Struct, kw_only=True):
    opportunities: list[SpreadOpportunity]
    count: int


# -- /api/v1/backtest -------------------------------------------------------------------


class BacktestStart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A backtest over delivery days ``start``..``end`` (both included)."""

    start: date
    end: date
    strategies: list[str]
    data: Literal["mock", "replay"] = "mock"


class BacktestStarted(msgspec.Struct, kw_only=True):
    run_id: str
    status_url: str


class BacktestStatus(msgspec.Struct, kw_only=True):
    run_id: str
    state: str
    percent: float
    events_done: int
    events_total: int
    eta_s: float | None = None


class BacktestResult(msgspec.Struct, kw_only=True):
    run_id: str
    created_at: datetime
    state: str
    config: dict[str, Any]
    metrics: dict[str, float]
    equity_curve: list[tuple[datetime, float]]


class BacktestTrades(msgspec.Struct, kw_only=True):
    run_id: str
    trades: list[Trade]
    count: int


class BacktestRun(msgspec.Struct, kw_only=True):
    run_id: str
    created_at: datetime
    state: str
    metrics: dict[str, float]


class BacktestHistory(msgspec.Struct, kw_only=True):
    runs: list[BacktestRun]
    count: int


# -- /api/v1/models ---------------------------------------------------------------------


class ModelRow(msgspec.Struct, kw_only=True):
    model_id: str
    kind: str
    task: str
    version: int
    markets: list[str]
    horizon: int
    created: datetime | None
    metrics: dict[str, float]
    promoted: bool


class ModelList(msgspec.Struct, kw_only=True):
    models: list[ModelRow]
    count: int


class TrainStarted(msgspec.Struct, kw_only=True):
    job_id: str
    status_url: str


class ModelMetrics(msgspec.Struct, kw_only=True):
    model_id: str
    kind: str
    task: str
    version: int
    metrics: dict[str, float]
    train_from: datetime | None
    train_to: datetime | None


class Predictions(msgspec.Struct, kw_only=True):
    market: str
    source: Literal["forecaster", "live"]
    forecasts: list[Forecast]


# -- /api/v1/trading --------------------------------------------------------------------


class Strategies(msgspec.Struct, kw_only=True):
    strategies: list[StrategyStatus]
    count: int


class Toggle(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    on: bool


class ToggleResult(msgspec.Struct, kw_only=True):
    strategy: str
    on: bool
    accepted: bool


class StopAllResult(msgspec.Struct, kw_only=True):
    accepted: bool


class Position(msgspec.Struct, kw_only=True):
    """Energy one strategy holds for one market and delivery period, not yet delivered."""

    strategy: str
    market: str
    product: str
    delivery_start: datetime
    delivery_end: datetime
    net_mwh: float
    average_price_eur_mwh: float | None
    book: str = ""


class Positions(msgspec.Struct, kw_only=True):
    positions: list[Position]
    count: int
    strategy_pnl_eur: dict[str, float]


class TradingWindowView(msgspec.Struct, kw_only=True):
    """One product still open: what it delivers and when its gate closes."""

    product: str
    name: str
    delivery_start: datetime
    delivery_end: datetime
    closes_at: datetime
    closes_at_local: str
    closes_in_s: float


class MarketTimelineView(msgspec.Struct, kw_only=True):
    """A market's timeline at the engine's present."""

    market: str
    timezone: str
    next_day_ahead_delivery_day: date
    next_day_ahead_gate_closure: datetime
    next_day_ahead_publication: datetime | None
    published_until: datetime
    tradable: list[TradingWindowView]


class MarketTimelines(msgspec.Struct, kw_only=True):
    now: datetime
    markets: list[MarketTimelineView]


# -- /api/v1/settings, engine, alerts ---------------------------------------------------

# Every alert threshold, each optional: a PATCH names only what changes.
AlertRulesPatch: type[msgspec.Struct] = msgspec.defstruct(
    "AlertRulesPatch",
    [(field.name, field.type | None, None) for field in msgspec.structs.fields(AlertConfig)],
    kw_only=True,
    forbid_unknown_fields=True,
    frozen=True,
)


class SettingsPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What may change while the daemon runs: the alert rules' thresholds."""

    alerts: AlertRulesPatch  # type: ignore[valid-type]


class SettingsView(msgspec.Struct, kw_only=True):
    settings: dict[str, Any]
    mutable: list[str]


class TransmissionCost(msgspec.Struct, kw_only=True):
    from_market: str
    to_market: str
    cost_eur_mwh: float


class EngineInfo(msgspec.Struct, kw_only=True):
    feed: str
    store: str
    bus: str
    clock: str
    markets: list[str]
    transmission_costs: list[TransmissionCost]
    components: list[str]
    version: str
    forecasters: list[ForecasterInfo] = msgspec.field(default_factory=list)
    regions: dict[str, str] = msgspec.field(default_factory=dict)
    # "api node api-1" (gridtui.roles.node.NodeState.describe); "" for role "all".
    node: str = ""


class Alerts(msgspec.Struct, kw_only=True):
    alerts: list[Alert]
    count: int
