"""The one vocabulary of events that flows through gridtui.

Every piece — feeds, the kernel, the bus, the store, strategies, the TUI and the
daemon's API — speaks in these types. They are frozen, slotted msgspec structs,
tagged with their class name so a list of mixed events round-trips through the
JSON and the binary (MessagePack) codecs in ``engine.bus.codec``.

Units are in the field names: prices in EUR/MWh, power in MW, energy in MWh,
money in EUR. Every timestamp is a tz-aware UTC ``datetime``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Final

import msgspec


class PriceKind(enum.StrEnum):
    """Which market a price comes from.

    Two families: auction results (day-ahead and the three SIDC intraday
    auctions) are stamped at the start of the delivery period they price and
    carry ``delivery_minutes``; intraday and imbalance ticks are stamped when
    they were observed. Each intraday auction is a kind of its own because the
    store keys prices by (market, kind, ts): IDA1 and IDA2 both price every
    period of the day, so one shared kind would keep only the first of them.
    """

    DAY_AHEAD = "day_ahead"
    INTRADAY = "intraday"
    IMBALANCE = "imbalance"
    IDA1 = "ida1"
    IDA2 = "ida2"
    IDA3 = "ida3"

    @classmethod
    def of_auction(cls, name: str) -> PriceKind:
        """The kind of an auction's results by its timeline name: ``DA``, ``IDA1`` …

        Raises:
            ValueError: no price kind for that auction.
        """
        kind = _AUCTION_NAMES.get(name)
        if kind is None:
            raise ValueError(f"no price kind for auction {name!r} (DA, IDA1, IDA2, IDA3)")
        return kind


INTRADAY_AUCTION_KINDS: Final = frozenset({PriceKind.IDA1, PriceKind.IDA2, PriceKind.IDA3})
# Kinds stamped at their delivery start, so published ahead of the clock.
AUCTION_KINDS: Final = INTRADAY_AUCTION_KINDS | {PriceKind.DAY_AHEAD}
_AUCTION_NAMES: Final = {
    "DA": PriceKind.DAY_AHEAD,
    "IDA1": PriceKind.IDA1,
    "IDA2": PriceKind.IDA2,
    "IDA3": PriceKind.IDA3,
}


class Severity(enum.StrEnum):
    """How much an :class:`Alert` matters: info, warning or critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class OpportunityStatus(enum.StrEnum):
    """The lifecycle step a :class:`SpreadOpportunity` reports: opened, updated or closed."""

    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"


class Event(msgspec.Struct, frozen=True, tag=True, kw_only=True, gc=False):
    """Base of every event. ``ts`` is when the event happened (UTC).

    ``gc=False``: events hold only scalars and datetimes, so they can never be
    part of a reference cycle; untracking them halves the cost of creating the
    ~10⁵ events a second the pipeline handles (the collector no longer scans them).
    """

    ts: datetime


class PriceTick(Event, frozen=True, tag=True, kw_only=True):
    """One price observation for one market.

    ``ts`` is the tick time for intraday/imbalance prices and the start of the
    delivery period for day-ahead prices (``delivery_minutes`` is then 15 or 60).
    """

    market: str
    price_eur_mwh: float
    kind: PriceKind = PriceKind.INTRADAY
    volume_mwh: float | None = None
    source: str = "unknown"
    delivery_minutes: int | None = None


class Fundamentals(Event, frozen=True, tag=True, kw_only=True):
    """What drives a price: demand and renewable supply of one zone, in MW.

    ``load_mw``, ``wind_mw`` and ``solar_mw`` are actuals of the interval
    starting at ``ts``. ``load_forecast_mw`` is the day-ahead forecast of that
    interval's load, where the feed publishes one (ENTSO-E A65 processType
    A01); None where it does not (the simulator). It is made before the
    interval, so it may be shown beside the actual, never used in its place.
    """

    market: str
    load_mw: float
    wind_mw: float
    solar_mw: float
    source: str = "unknown"
    load_forecast_mw: float | None = None


class SpreadOpportunity(Event, frozen=True, tag=True, kw_only=True):
    """A cross-border spread: the cheap zone, the dear one, and what it is worth to whom.

    ``spread_eur_mwh`` = sell − buy is the **congestion spread**. Under market
    coupling it is congestion rent and goes to the TSOs: a trader earns it only
    by holding a transmission right on the border (:mod:`engine.spreads.transmission`),
    which pays max(0, spread) per MWh and costs ``right_price_eur_mwh`` (this
    month's price of a right buy→sell; None where there is no interconnector or
    no price yet). ``net_of_right_eur_mwh`` = max(0, spread) − that price: what
    holding the right earns this period.

    ``net_spread_eur_mwh`` = spread − transmission cost of the border in the
    buy→sell direction. ``profit_eur_h`` is the net spread times the border's
    capacity when a capacity is configured.

    ``seq`` numbers the events of one opportunity (the pair, direction and
    ``opened_at``): 0 when it opens, then one more per update and for the close.
    Two updates can share a timestamp (both markets of the pair tick in the same
    second), so the sequence, not the time, tells them apart; a replay of the
    same ticks gives the same numbers, which keeps stored writes idempotent.
    """

    buy_market: str
    sell_market: str
    buy_price_eur_mwh: float
    sell_price_eur_mwh: float
    spread_eur_mwh: float
    transmission_cost_eur_mwh: float
    net_spread_eur_mwh: float
    status: OpportunityStatus
    opened_at: datetime
    duration_s: float = 0.0
    capacity_mw: float | None = None
    profit_eur_h: float | None = None
    seq: int = 0
    right_price_eur_mwh: float | None = None
    net_of_right_eur_mwh: float | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.buy_market, self.sell_market)

    def describe(self) -> str:
        """The opportunity in plain words, as a trader would say it."""
        words = (
            f"Buy in {self.buy_market} at €{self.buy_price_eur_mwh:,.2f}, "
            f"sell in {self.sell_market} at €{self.sell_price_eur_mwh:,.2f}: "
            f"net €{self.net_spread_eur_mwh:,.2f}/MWh"
        )
        if self.profit_eur_h is not None:
            words += f" (€{self.profit_eur_h:,.0f}/h over {self.capacity_mw:,.0f} MW)"
        return words


class BatteryState(Event, frozen=True, tag=True, kw_only=True):
    """A battery's state after a dispatch step. ``power_mw`` > 0 discharges."""

    battery_id: str
    market: str
    soc_mwh: float
    soc_fraction: float
    power_mw: float
    mode: str  # "charging" | "discharging" | "idle"
    revenue_eur: float = 0.0
    # False: nothing was committed for this step (its gate passed before the
    # battery planned it); the capture ledger books that as execution. Not stored.
    committed: bool = True


class Trade(Event, frozen=True, tag=True, kw_only=True):
    """A (simulated) fill, or the settlement of a delivered position.

    ``volume_mwh`` > 0; ``side`` is "buy", "sell" or "settle". Fills realise
    nothing (``pnl_eur`` 0); a settlement carries the realised PnL of one
    market's delivery period, so Σ ``pnl_eur`` is the revenue of what was
    delivered. ``product``, ``delivery_start`` and ``delivery_minutes`` say what
    was traded (the store keeps the fill; these travel on the bus).
    """

    trade_id: str
    strategy: str
    market: str
    side: str
    volume_mwh: float
    price_eur_mwh: float
    fee_eur: float = 0.0
    pnl_eur: float = 0.0
    reason: str = ""
    product: str = ""
    delivery_start: datetime | None = None
    delivery_minutes: int | None = None

    @property
    def is_fill(self) -> bool:
        return self.side != "settle"


class Alert(Event, frozen=True, tag=True, kw_only=True):
    """Something a person should know about. ``key`` deduplicates repeats."""

    rule: str
    severity: Severity
    message: str
    key: str = ""
    market: str | None = None


class OpenPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Energy a strategy holds for one market and delivery period, not yet delivered."""

    market: str
    product: str
    delivery_start: datetime
    delivery_minutes: int
    net_mwh: float
    average_price_eur_mwh: float | None = None
    book: str = ""


class StrategyStatus(Event, frozen=True, tag=True, kw_only=True):
    """A strategy's state line: running or not, PnL, trades, and its open positions."""

    strategy: str
    state: str  # "stopped" | "armed" | "running" | "error"
    pnl_eur: float = 0.0
    trades: int = 0
    last_action: str = ""
    positions: tuple[OpenPosition, ...] = ()
    pending_orders: int = 0
    rejected: int = 0


class BacktestProgress(Event, frozen=True, tag=True, kw_only=True):
    """How far a backtest run has got (published while it runs, and once when it ends).

    Wall time (``wall_s``) and the simulated span are told apart.
    """

    run_id: str
    state: str  # "running" | "finished" | "failed" | "cancelled"
    percent: float
    events_done: int
    events_total: int
    eta_s: float | None = None
    # Real seconds since the run started: the wall time, told apart from the
    # simulated span (``ts`` minus the window's start), which is days.
    wall_s: float | None = None


class AuditEntry(Event, frozen=True, tag=True, kw_only=True):
    """One line of the audit log: when (``ts``), who or what (``actor``), did what
    (``action``) to which strategy, and why.

    ``actor`` reads ``user:tui``, ``system:autostart``, ``system:kill-switch``,
    ``backtest:<run id>`` or ``strategy:<name>``; ``action`` is ``start``, ``stop``,
    ``kill``, ``trade`` or ``error``; ``ref`` points at what the entry is about
    (a trade id).
    ``entry_id`` is unique and makes the stored log idempotent.
    """

    entry_id: str
    actor: str
    action: str
    strategy: str
    reason: str = ""
    ref: str = ""


class Forecast(Event, frozen=True, tag=True, kw_only=True):
    """A predicted price for ``target_ts``, issued at ``ts``, with a band."""

    market: str
    target_ts: datetime
    horizon_steps: int
    price_eur_mwh: float
    lower_eur_mwh: float | None = None
    upper_eur_mwh: float | None = None
    model_id: str = ""


class FeedHealth(Event, frozen=True, tag=True, kw_only=True):
    """One feed's health, from its :class:`~engine.feed_health.FeedHealthMachine`.

    ``message`` is the reason for the state (empty when up), ``since`` when the
    state began. ``budget_used``/``budget_limit``: requests spent in the API's
    rate-limit window (None for a feed without an API).
    """

    source: str
    state: str  # "up" | "degraded" | "down" | "ended"
    last_success: datetime | None = None
    events_total: int = 0
    rejected_total: int = 0
    errors_total: int = 0
    budget_used_fraction: float | None = None
    message: str = ""
    since: datetime | None = None
    retries_total: int = 0
    last_error: str = ""
    last_error_at: datetime | None = None
    budget_used: int | None = None
    budget_limit: int | None = None


AnyEvent = (
    PriceTick
    | Fundamentals
    | SpreadOpportunity
    | BatteryState
    | Trade
    | Alert
    | StrategyStatus
    | BacktestProgress
    | Forecast
    | FeedHealth
    | AuditEntry
)

# Topic names: the bus fans out by topic, Redis keeps one stream per topic.
PRICES: Final = "prices"
FUNDAMENTALS: Final = "fundamentals"
SPREADS: Final = "spreads"
BATTERIES: Final = "batteries"
TRADES: Final = "trades"
ALERTS: Final = "alerts"
STRATEGIES: Final = "strategies"
BACKTESTS: Final = "backtests"
FORECASTS: Final = "forecasts"
HEALTH: Final = "health"
AUDIT: Final = "audit"

TOPIC_OF: Final[dict[type[Event], str]] = {
    PriceTick: PRICES,
    Fundamentals: FUNDAMENTALS,
    SpreadOpportunity: SPREADS,
    BatteryState: BATTERIES,
    Trade: TRADES,
    Alert: ALERTS,
    StrategyStatus: STRATEGIES,
    BacktestProgress: BACKTESTS,
    Forecast: FORECASTS,
    FeedHealth: HEALTH,
    AuditEntry: AUDIT,
}
ALL_TOPICS: Final = tuple(TOPIC_OF.values())


def topic_of(event: Event) -> str:
    """The topic an event is published on."""
    return TOPIC_OF[type(event)]
