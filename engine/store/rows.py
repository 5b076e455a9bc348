"""The mapping between events and table rows, shared by every store backend.

Each stored event kind has one table, one column list and one natural primary
key (which is what makes writes idempotent). Rows hold ``datetime`` values; a
backend converts them if its driver needs another form (SQLite stores integer
microseconds since the epoch, which sort and compare fast).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, TypeVar

import msgspec

from engine.events import (
    Alert,
    AuditEntry,
    BatteryState,
    Event,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
    Trade,
)

Row = tuple[Any, ...]


class Table(NamedTuple):
    """One stored table: its columns, natural key (duplicates are skipped), time column and
    timestamp columns.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    time_column: str  # the hypertable / range-query column
    timestamp_columns: tuple[str, ...]
    json_columns: tuple[str, ...] = ()  # nested values, kept as JSON text


PRICES: Final = Table(
    "prices",
    ("market", "kind", "ts", "price_eur_mwh", "volume_mwh", "source", "delivery_minutes"),
    ("market", "kind", "ts"),
    "ts",
    ("ts",),
)
OPPORTUNITIES: Final = Table(
    "opportunities",
    (
        "buy_market",
        "sell_market",
        "opened_at",
        "status",
        "ts",
        "buy_price_eur_mwh",
        "sell_price_eur_mwh",
        "spread_eur_mwh",
        "transmission_cost_eur_mwh",
        "net_spread_eur_mwh",
        "duration_s",
        "capacity_mw",
        "profit_eur_h",
        "seq",
    ),
    # Time first: "opportunities of the last N minutes" is a range on this key,
    # and rows arrive in time order, so inserts append at the key's right edge.
    ("ts", "buy_market", "sell_market", "opened_at", "seq"),
    "ts",
    ("opened_at", "ts"),
)
# For the migrations that added ``seq``: numbers the rows stored before it in
# each opportunity's lifecycle order (opened, updates, closed).
OPPORTUNITY_SEQ_SQL: Final = (
    "row_number() OVER (PARTITION BY buy_market, sell_market, opened_at "
    "ORDER BY ts, CASE status WHEN 'opened' THEN 0 WHEN 'updated' THEN 1 ELSE 2 END) - 1"
)
BATTERY_STATES: Final = Table(
    "battery_states",
    ("battery_id", "ts", "market", "soc_mwh", "soc_fraction", "power_mw", "mode", "revenue_eur"),
    ("battery_id", "ts"),
    "ts",
    ("ts",),
)
TRADES: Final = Table(
    "trades",
    (
        "trade_id",
        "ts",
        "strategy",
        "market",
        "side",
        "volume_mwh",
        "price_eur_mwh",
        "fee_eur",
        "pnl_eur",
        "reason",
    ),
    ("trade_id",),
    "ts",
    ("ts",),
)
ALERTS: Final = Table(
    "alerts",
    ("rule", "key", "ts", "severity", "message", "market"),
    ("rule", "key", "ts"),
    "ts",
    ("ts",),
)
AUDIT_LOG: Final = Table(
    "audit_log",
    ("entry_id", "ts", "actor", "action", "strategy", "reason", "ref"),
    ("entry_id",),
    "ts",
    ("ts",),
)
# What the flight recorder needs beyond the trading record: each strategy's status
# line (state, PnL, open positions) and every forecast, so that the dashboard
# can be rewound to any instant. Keyed by the name first, then time: "the
# newest at or before t" is one seek.
STRATEGY_STATUS: Final = Table(
    "strategy_status",
    (
        "strategy",
        "ts",
        "state",
        "pnl_eur",
        "trades",
        "last_action",
        "positions",
        "pending_orders",
        "rejected",
    ),
    ("strategy", "ts"),
    "ts",
    ("ts",),
    ("positions",),
)
FORECASTS: Final = Table(
    "forecasts",
    (
        "market",
        "ts",
        "model_id",
        "horizon_steps",
        "target_ts",
        "price_eur_mwh",
        "lower_eur_mwh",
        "upper_eur_mwh",
    ),
    ("market", "ts", "model_id", "horizon_steps"),
    "ts",
    ("ts", "target_ts"),
)
TABLES: Final = (
    PRICES,
    OPPORTUNITIES,
    BATTERY_STATES,
    TRADES,
    ALERTS,
    AUDIT_LOG,
    STRATEGY_STATUS,
    FORECASTS,
)
# The trades of stored backtest runs: kept apart from live trades, keyed by run.
# Written by ``save_backtest_trades``, never by ``write``.
BACKTEST_TRADES: Final = Table(
    "backtest_trades",
    ("run_id", *TRADES.columns),
    ("run_id", "trade_id"),
    "ts",
    ("ts",),
)
# Recorder retention (``Store.compact``, engine.store.retention_sql): observed
# ticks folded into one row per market, kind and hour, and how far that went.
PRICES_HOURLY: Final = "price_ticks_hourly"
RETENTION_WATERMARK: Final = "retention_watermark"
TABLE_NAMES: Final = (
    *(t.name for t in TABLES),
    "backtests",
    BACKTEST_TRADES.name,
    PRICES_HOURLY,
    RETENTION_WATERMARK,
)


# A backend's form of a timestamp: the datetime itself (asyncpg) or integer
# microseconds (SQLite). Passed into the row builders so a row is built once.
When = Callable[[datetime], Any]


def _as_is(ts: datetime) -> datetime:
    return ts


# Enum members → their plain text: a dict lookup is a fifth of ``.value``'s cost
# (an enum property), and the price and opportunity rows are the hot path.
_TEXT: Final[dict[str, str]] = {
    member: member.value for enum in (PriceKind, OpportunityStatus, Severity) for member in enum
}


def price_row(e: PriceTick, when: When = _as_is) -> Row:
    return (
        e.market,
        _TEXT[e.kind],
        when(e.ts),
        e.price_eur_mwh,
        e.volume_mwh,
        e.source,
        e.delivery_minutes,
    )


def opportunity_row(e: SpreadOpportunity, when: When = _as_is) -> Row:
    return (
        e.buy_market,
        e.sell_market,
        when(e.opened_at),
        _TEXT[e.status],
        when(e.ts),
        e.buy_price_eur_mwh,
        e.sell_price_eur_mwh,
        e.spread_eur_mwh,
        e.transmission_cost_eur_mwh,
        e.net_spread_eur_mwh,
        e.duration_s,
        e.capacity_mw,
        e.profit_eur_h,
        e.seq,
    )


def battery_row(e: BatteryState, when: When = _as_is) -> Row:
    return (
        e.battery_id,
        when(e.ts),
        e.market,
        e.soc_mwh,
        e.soc_fraction,
        e.power_mw,
        e.mode,
        e.revenue_eur,
    )


def trade_row(e: Trade, when: When = _as_is) -> Row:
    return (
        e.trade_id,
        when(e.ts),
        e.strategy,
        e.market,
        e.side,
        e.volume_mwh,
        e.price_eur_mwh,
        e.fee_eur,
        e.pnl_eur,
        e.reason,
    )


def alert_row(e: Alert, when: When = _as_is) -> Row:
    return (e.rule, e.key, when(e.ts), _TEXT[e.severity], e.message, e.market)


def audit_row(e: AuditEntry, when: When = _as_is) -> Row:
    return (e.entry_id, when(e.ts), e.actor, e.action, e.strategy, e.reason, e.ref)


def strategy_status_row(e: StrategyStatus, when: When = _as_is) -> Row:
    return (
        e.strategy,
        when(e.ts),
        e.state,
        e.pnl_eur,
        e.trades,
        e.last_action,
        msgspec.json.encode(e.positions).decode(),
        e.pending_orders,
        e.rejected,
    )


def forecast_row(e: Forecast, when: When = _as_is) -> Row:
    return (
        e.market,
        when(e.ts),
        e.model_id,
        e.horizon_steps,
        when(e.target_ts),
        e.price_eur_mwh,
        e.lower_eur_mwh,
        e.upper_eur_mwh,
    )


def audit_filter(
    placeholder: str,
    *,
    strategy: str | None,
    actor: str | None,
    action: str | None,
    start: datetime | None,
    end: datetime | None,
    when: When = _as_is,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause of an audit query and its arguments, for both stores.

    ``placeholder`` is ``?`` (SQLite) or ``$`` (PostgreSQL, numbered ``$1``…).
    An actor without a ``:`` matches its kind too (``api`` → ``api:10.0.0.7``).
    """
    clauses: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return "?" if placeholder == "?" else f"${len(args)}"

    if strategy is not None:
        clauses.append(f"strategy = {arg(strategy)}")
    if actor is not None:
        if ":" in actor:
            clauses.append(f"actor = {arg(actor)}")
        else:
            # Prefix match by substr, not LIKE: an actor's '%' or '_' stays literal.
            exact = arg(actor)
            prefix = arg(f"{actor}:")
            clauses.append(f"(actor = {exact} OR substr(actor, 1, {len(actor) + 1}) = {prefix})")
    if action is not None:
        clauses.append(f"action = {arg(action)}")
    if start is not None:
        clauses.append(f"ts >= {arg(when(start))}")
    if end is not None:
        clauses.append(f"ts < {arg(when(end))}")
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), args


def backtest_trade_row(run_id: str, e: Trade, when: When = _as_is) -> Row:
    return (run_id, *trade_row(e, when))


_TO_ROW: Final[dict[type[Event], tuple[Table, Callable[[Any, When], Row]]]] = {
    PriceTick: (PRICES, price_row),
    SpreadOpportunity: (OPPORTUNITIES, opportunity_row),
    BatteryState: (BATTERY_STATES, battery_row),
    Trade: (TRADES, trade_row),
    Alert: (ALERTS, alert_row),
    AuditEntry: (AUDIT_LOG, audit_row),
    StrategyStatus: (STRATEGY_STATUS, strategy_status_row),
    Forecast: (FORECASTS, forecast_row),
}


def rows_by_table(events: Sequence[Event], when: When = _as_is) -> dict[Table, list[Row]]:
    """Split a batch into rows per table, timestamps as ``when`` makes them.

    Event kinds without a table are skipped.
    """
    grouped: dict[Table, list[Row]] = {}
    for event in events:
        mapping = _TO_ROW.get(type(event))
        if mapping is None:
            continue
        table, to_row = mapping
        rows = grouped.get(table)
        if rows is None:
            rows = grouped[table] = []
        rows.append(to_row(event, when))
    return grouped


# Rows back to events. ``r`` is a mapping-like row (sqlite3.Row, asyncpg.Record)
# whose columns are named as the event's fields; ``since`` turns the backend's
# form of a timestamp back into a tz-aware UTC datetime (the inverse of When).
E = TypeVar("E", bound=Event)
_TABLE_OF: Final[dict[type[Event], Table]] = {kind: table for kind, (table, _) in _TO_ROW.items()}


def event_from(kind: type[E], r: Any, since: Callable[[Any], datetime] = _as_is) -> E:
    """The ``kind`` event a stored row of its table holds."""
    table = _TABLE_OF[kind]
    fields = {column: r[column] for column in table.columns}
    for column in table.timestamp_columns:
        fields[column] = since(fields[column])
    for column in table.json_columns:
        fields[column] = msgspec.json.decode(fields[column])
    return msgspec.convert(fields, kind)


def table_of(kind: type[Event]) -> Table:
    """The table that keeps ``kind``; ValueError for a kind that is not stored."""
    table = _TABLE_OF.get(kind)
    if table is None:
        stored = ", ".join(sorted(k.__name__ for k in _TABLE_OF))
        raise ValueError(f"{kind.__name__} events are not stored; stored kinds: {stored}")
    return table
