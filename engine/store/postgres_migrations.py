"""Versioned schema migrations for :class:`engine.store.postgres.PostgresStore`.

Owns the PostgreSQL DDL of the store: the tables of ``engine.store.rows`` plus
``backtests``, their indexes, and (when the server offers the extension) the
TimescaleDB hypertables. ``PostgresStore.open`` calls :func:`migrate` once on a
dedicated connection whose ``search_path`` is the store's schema.

Each migration runs in its own transaction and records its version in
``schema_migrations``. The transaction first takes a transaction-scoped advisory
lock keyed by the schema, so two daemons starting at once against an empty
database serialise: the second waits, then finds the versions already there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final, NamedTuple

from engine.store import rows as R
from engine.store.base import StoreError

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

# Tables that become hypertables under TimescaleDB. Their natural keys include
# ``ts`` (a hypertable's unique indexes must contain the partitioning column).
# Trades stay a plain table: their key is ``trade_id`` alone, and there are few.
HYPERTABLES: Final = (R.PRICES, R.OPPORTUNITIES, R.BATTERY_STATES, R.ALERTS)

_CREATE_TABLES: Final = """
CREATE TABLE prices (
    market text NOT NULL,
    kind text NOT NULL,
    ts timestamptz NOT NULL,
    price_eur_mwh double precision NOT NULL,
    volume_mwh double precision,
    source text NOT NULL,
    delivery_minutes integer,
    PRIMARY KEY (market, kind, ts)
);
CREATE TABLE opportunities (
    buy_market text NOT NULL,
    sell_market text NOT NULL,
    opened_at timestamptz NOT NULL,
    status text NOT NULL,
    ts timestamptz NOT NULL,
    buy_price_eur_mwh double precision NOT NULL,
    sell_price_eur_mwh double precision NOT NULL,
    spread_eur_mwh double precision NOT NULL,
    transmission_cost_eur_mwh double precision NOT NULL,
    net_spread_eur_mwh double precision NOT NULL,
    duration_s double precision NOT NULL,
    capacity_mw double precision,
    profit_eur_h double precision,
    PRIMARY KEY (buy_market, sell_market, opened_at, status, ts)
);
-- "Opportunities of the last N minutes" is a range on ts alone.
CREATE INDEX opportunities_ts ON opportunities (ts);
CREATE TABLE battery_states (
    battery_id text NOT NULL,
    ts timestamptz NOT NULL,
    market text NOT NULL,
    soc_mwh double precision NOT NULL,
    soc_fraction double precision NOT NULL,
    power_mw double precision NOT NULL,
    mode text NOT NULL,
    revenue_eur double precision NOT NULL,
    PRIMARY KEY (battery_id, ts)
);
CREATE TABLE trades (
    trade_id text PRIMARY KEY,
    ts timestamptz NOT NULL,
    strategy text NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    volume_mwh double precision NOT NULL,
    price_eur_mwh double precision NOT NULL,
    fee_eur double precision NOT NULL,
    pnl_eur double precision NOT NULL,
    reason text NOT NULL
);
CREATE INDEX trades_ts ON trades (ts);
CREATE INDEX trades_strategy_ts ON trades (strategy, ts);
CREATE TABLE alerts (
    rule text NOT NULL,
    key text NOT NULL,
    ts timestamptz NOT NULL,
    severity text NOT NULL,
    message text NOT NULL,
    market text,
    PRIMARY KEY (rule, key, ts)
);
CREATE INDEX alerts_ts ON alerts (ts);
CREATE TABLE backtests (
    run_id text PRIMARY KEY,
    created_at timestamptz NOT NULL,
    state text NOT NULL,
    config jsonb NOT NULL,
    metrics jsonb NOT NULL,
    equity_curve jsonb NOT NULL
);
CREATE INDEX backtests_created_at ON backtests (created_at);
"""


async def _create_tables(conn: asyncpg.Connection) -> None:
    await conn.execute(_CREATE_TABLES)


async def timescaledb_schema(conn: asyncpg.Connection) -> str | None:
    """The schema holding TimescaleDB's functions, or None if it is not installed."""
    schema: str | None = await conn.fetchval(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'timescaledb'"
    )
    return schema


async def _hypertables(conn: asyncpg.Connection) -> None:
    available = await conn.fetchval(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    if not available:
        # Plain tables with their primary keys and indexes serve every query;
        # installing TimescaleDB later means converting the tables by hand.
        log.info("TimescaleDB is not available on this server: keeping plain tables")
        return
    try:
        # A savepoint: without the library in shared_preload_libraries the
        # extension cannot be created, and that must not abort the migration.
        async with conn.transaction():
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except Exception as exc:  # whatever the cause, the answer is "no hypertables"
        log.warning("TimescaleDB is available but cannot be enabled (%s): plain tables", exc)
        return
    ext_schema = await timescaledb_schema(conn)
    for table in HYPERTABLES:
        await conn.execute(
            f"SELECT {ext_schema}.create_hypertable($1::text::regclass, $2::name, "
            "if_not_exists => TRUE, migrate_data => TRUE, create_default_indexes => FALSE)",
            table.name,
            table.time_column,
        )


_CREATE_AUDIT_AND_BACKTEST_TRADES: Final = """
CREATE TABLE audit_log (
    entry_id text PRIMARY KEY,
    ts timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    strategy text NOT NULL,
    reason text NOT NULL,
    ref text NOT NULL
);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_strategy_ts ON audit_log (strategy, ts);
CREATE TABLE backtest_trades (
    run_id text NOT NULL,
    trade_id text NOT NULL,
    ts timestamptz NOT NULL,
    strategy text NOT NULL,
    market text NOT NULL,
    side text NOT NULL,
    volume_mwh double precision NOT NULL,
    price_eur_mwh double precision NOT NULL,
    fee_eur double precision NOT NULL,
    pnl_eur double precision NOT NULL,
    reason text NOT NULL,
    PRIMARY KEY (run_id, trade_id)
);
CREATE INDEX backtest_trades_run_ts ON backtest_trades (run_id, ts);
"""


async def _audit_and_backtest_trades(conn: asyncpg.Connection) -> None:
    # Plain tables: the audit log is small and keyed by entry id, not by time.
    await conn.execute(_CREATE_AUDIT_AND_BACKTEST_TRADES)


async def _opportunities_by_time_and_seq(conn: asyncpg.Connection) -> None:
    # Two updates of a pair in the same second shared the old key, so the second
    # was dropped as a duplicate (and failed every direct COPY of its batch).
    # The event sequence number tells them apart; with time first, the key also
    # serves "opportunities since", so the separate ts index goes.
    await conn.execute(
        f"""
        ALTER TABLE opportunities ADD COLUMN seq integer;
        UPDATE opportunities AS o SET seq = numbered.seq
        FROM (
            SELECT buy_market, sell_market, opened_at, status, ts,
                   {R.OPPORTUNITY_SEQ_SQL} AS seq
            FROM opportunities
        ) AS numbered
        WHERE (o.buy_market, o.sell_market, o.opened_at, o.status, o.ts)
            = (numbered.buy_market, numbered.sell_market, numbered.opened_at,
               numbered.status, numbered.ts);
        ALTER TABLE opportunities ALTER COLUMN seq SET NOT NULL;
        ALTER TABLE opportunities DROP CONSTRAINT opportunities_pkey;
        DROP INDEX opportunities_ts;
        ALTER TABLE opportunities ADD PRIMARY KEY (ts, buy_market, sell_market, opened_at, seq);
        """
    )


_CREATE_RECORDER_TABLES: Final = """
CREATE TABLE strategy_status (
    strategy text NOT NULL,
    ts timestamptz NOT NULL,
    state text NOT NULL,
    pnl_eur double precision NOT NULL,
    trades integer NOT NULL,
    last_action text NOT NULL,
    positions text NOT NULL,
    pending_orders integer NOT NULL,
    rejected integer NOT NULL,
    PRIMARY KEY (strategy, ts)
);
CREATE TABLE forecasts (
    market text NOT NULL,
    ts timestamptz NOT NULL,
    model_id text NOT NULL,
    horizon_steps integer NOT NULL,
    target_ts timestamptz NOT NULL,
    price_eur_mwh double precision NOT NULL,
    lower_eur_mwh double precision,
    upper_eur_mwh double precision,
    PRIMARY KEY (market, ts, model_id, horizon_steps)
);
CREATE INDEX opportunities_pair_ts ON opportunities (buy_market, sell_market, ts);
"""


async def _recorder_tables(conn: asyncpg.Connection) -> None:
    # The flight recorder: strategy status lines and forecasts, and the index that
    # finds a pair's newest opportunity event at or before an instant. Both tables
    # grow with time like the prices, so they are hypertables where TimescaleDB is.
    await conn.execute(_CREATE_RECORDER_TABLES)
    ext_schema = await timescaledb_schema(conn)
    if ext_schema is None:
        return
    for table in (R.STRATEGY_STATUS, R.FORECASTS):
        await conn.execute(
            f"SELECT {ext_schema}.create_hypertable($1::text::regclass, $2::name, "
            "if_not_exists => TRUE, migrate_data => TRUE, create_default_indexes => FALSE)",
            table.name,
            table.time_column,
        )


_CREATE_RETENTION_TABLES: Final = f"""
CREATE TABLE {R.PRICES_HOURLY} (
    market text NOT NULL,
    kind text NOT NULL,
    hour_start timestamptz NOT NULL,
    first_ts timestamptz NOT NULL,
    last_ts timestamptz NOT NULL,
    open_eur_mwh double precision NOT NULL,
    high_eur_mwh double precision NOT NULL,
    low_eur_mwh double precision NOT NULL,
    close_eur_mwh double precision NOT NULL,
    mean_eur_mwh double precision NOT NULL,
    ticks bigint NOT NULL,
    volume_mwh double precision,
    source text NOT NULL,
    PRIMARY KEY (market, kind, hour_start)
);
CREATE TABLE {R.RETENTION_WATERMARK} (
    scope text PRIMARY KEY,
    compacted_until timestamptz NOT NULL
);
"""


async def _retention_tables(conn: asyncpg.Connection) -> None:
    # Recorder retention (engine.store.retention_sql): plain tables on every
    # server. The hourly rows are few (24 a market a day), and compaction's
    # bounded DELETEs work on hypertables as on plain tables.
    await conn.execute(_CREATE_RETENTION_TABLES)


class Migration(NamedTuple):
    """One schema version of the PostgreSQL store: its number, what it does and how to apply it."""

    version: int
    description: str
    apply: Callable[[asyncpg.Connection], Awaitable[None]]


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "tables, keys and indexes", _create_tables),
    Migration(2, "TimescaleDB hypertables when the extension is available", _hypertables),
    Migration(3, "audit log and backtest trades", _audit_and_backtest_trades),
    Migration(4, "opportunities keyed by time and sequence", _opportunities_by_time_and_seq),
    Migration(5, "flight recorder: strategy status and forecasts", _recorder_tables),
    Migration(6, "recorder retention: hourly price rows and the watermark", _retention_tables),
)
LATEST_VERSION: Final = MIGRATIONS[-1].version


def quote_ident(name: str) -> str:
    """An SQL identifier, quoted (schema names come from configuration)."""
    return '"' + name.replace('"', '""') + '"'


async def migrate(conn: asyncpg.Connection, schema: str) -> list[int]:
    """Apply pending migrations to ``schema``; return the versions applied now.

    ``conn`` must have ``search_path`` set to ``schema``. Creates the schema if it
    does not exist. Raises StoreError when the schema is newer than this code.
    """
    lock_key = f"gridtui.schema_migrations:{schema}"
    applied_now: list[int] = []
    for migration in MIGRATIONS:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", lock_key)
            # Checked before creating: CREATE SCHEMA IF NOT EXISTS demands the
            # CREATE privilege on the database even when the schema exists.
            exists = await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema)
            if not exists:
                await conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            current: int = await conn.fetchval(
                "SELECT coalesce(max(version), 0) FROM schema_migrations"
            )
            if current > LATEST_VERSION:
                raise StoreError(
                    f"schema {schema!r} has version {current}, newer than this gridtui knows "
                    f"({LATEST_VERSION}): upgrade gridtui or use another schema"
                )
            if await conn.fetchval(
                "SELECT 1 FROM schema_migrations WHERE version = $1", migration.version
            ):
                continue
            log.info("schema %s: applying migration %d (%s)", schema, *migration[:2])
            await migration.apply(conn)
            await conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())",
                migration.version,
            )
            applied_now.append(migration.version)
    return applied_now
