"""PostgresStore: the production store on PostgreSQL (TimescaleDB when present), via asyncpg.

The sibling of :class:`engine.store.sqlite.SqliteStore` behind the
:class:`engine.store.base.Store` protocol; ``gridtui.wiring`` picks one of them,
and ``tests/contract/test_store.py`` holds both to the same behaviour.

- Schema: ``engine.store.postgres_migrations`` (versioned, applied by :meth:`open`).
  Every table lives in one schema, selected with ``search_path`` on each pooled
  connection, so several deployments (or tests) can share a database.
- Writes: one transaction per :meth:`write`; a repeated row is ignored (the
  natural keys of ``engine.store.rows``). Per table of a batch:
  new rows are COPYed (binary) straight into the table inside a savepoint — the
  raw driver's speed. If a row is already there (a replay), COPY fails, the
  savepoint undoes it, and the rows are COPYed into a per-connection TEMP
  staging table and moved with ``INSERT … SELECT … ON CONFLICT DO NOTHING``;
  a table stays on that staging path until one of its batches goes in without
  a conflict. Tiny batches use a pipelined ``executemany`` of ``INSERT … ON
  CONFLICT DO NOTHING``. ``bench/store_throughput.py`` measures all three.
- Reads: "latest per market" is one backward index probe per market (a LATERAL
  join over the requested markets), never a scan of the table.
- Timestamps are ``timestamptz``: asyncpg exchanges them in binary as UTC
  microseconds, so what comes back is tz-aware UTC and equal to what was written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final, TypeVar

import asyncpg

from engine.events import (
    Alert,
    AuditEntry,
    BatteryState,
    Event,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
    Trade,
)
from engine.store import compaction as C
from engine.store import postgres_sql as S
from engine.store import rows as R
from engine.store.base import BacktestRecord, StoreError
from engine.store.postgres_backtests import PostgresBacktests
from engine.store.postgres_connection import (
    CONNECTION_LOST,
    DRIVER_ERRORS,
    PROTOCOL_CONFUSED,
    copy_rows,
    failed_error,
    redact,
    require_aware,
    unreachable_error,
)
from engine.store.postgres_migrations import migrate, quote_ident, timescaledb_schema
from engine.store.postgres_retention import PostgresCompactionRunner
from engine.store.recording_sql import keys_sql, recorded_sql
from engine.store.retention_sql import hourly_rows_sql

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Event)


def _mark(i: int) -> str:
    return f"${i}"


# Below this many rows a pipelined executemany ties with COPY (round trips
# dominate both) and beats the staging path 3:1, so it is used whatever the
# table's state; from ~25 rows on COPY pulls ahead (bench/store_throughput.py).
COPY_MIN_ROWS: Final = 16


class PostgresStore:
    """The production store.

    Args:
        dsn: libpq-style URL or key/value string (``postgresql://user@host:5432/db``).
        schema: where the tables live (created if missing); the pool's ``search_path``.
        pool_size: most connections held open at once.
        connect_timeout: seconds to wait for a connection before StoreError.
        command_timeout: seconds any one statement may take before StoreError, so a
            dead or hung server fails a call instead of stalling the caller.
    """

    backend = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        pool_size: int = 4,
        connect_timeout: float = 10.0,
        command_timeout: float = 60.0,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.hypertables = False  # set by open(): TimescaleDB hypertables in use
        # Batches of a table with fewer rows go through executemany, not COPY.
        self.copy_min_rows = COPY_MIN_ROWS
        # Try COPY straight into the table before staging (see _write_rows);
        # off, every large batch takes the staging path (bench comparison).
        self.direct_copy = True
        self._replaying: set[R.Table] = set()  # tables whose last batch had conflicts
        self._pool: asyncpg.Pool | None = None
        self.protocol_retries = 0  # batches written again after PROTOCOL_CONFUSED
        self._backtests = PostgresBacktests(self._connection, self._fetch)

    # -- connections -------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"PostgreSQL at {redact(self.dsn)} (schema {self.schema!r})"

    def _unreachable(self, exc: BaseException) -> StoreError:
        return unreachable_error(self._where, exc)

    def _failed(self, exc: BaseException) -> StoreError:
        return failed_error(self._where, exc, self.command_timeout, self.connect_timeout)

    def _connect_kwargs(self) -> dict[str, Any]:
        return {
            "timeout": self.connect_timeout,
            "command_timeout": self.command_timeout,
            "server_settings": {"search_path": quote_ident(self.schema)},
        }

    @staticmethod
    async def _prepare_connection(conn: asyncpg.Connection) -> None:
        await conn.execute(S.CREATE_STAGES)

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            conn = await asyncpg.connect(self.dsn, **self._connect_kwargs())
        except DRIVER_ERRORS as exc:
            raise self._unreachable(exc) from exc
        try:
            # Migrations before the pool: its connections create their staging
            # tables LIKE the real ones, which must exist by then.
            await migrate(conn, self.schema)
            if await timescaledb_schema(conn) is not None:
                self.hypertables = bool(
                    await conn.fetchval(
                        "SELECT 1 FROM timescaledb_information.hypertables "
                        "WHERE hypertable_schema = $1 AND hypertable_name = 'prices'",
                        self.schema,
                    )
                )
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc
        finally:
            try:
                await conn.close(timeout=self.connect_timeout)
            except DRIVER_ERRORS:
                conn.terminate()
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                # No floor: with one, asyncpg reconnects in the background while
                # the server is down and logs a traceback per attempt. Callers
                # get a StoreError per call instead, and the next call reconnects.
                min_size=0,
                max_size=self.pool_size,
                init=self._prepare_connection,
                **self._connect_kwargs(),
            )
        except DRIVER_ERRORS as exc:
            raise self._unreachable(exc) from exc

    async def close(self) -> None:
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), timeout=self.connect_timeout)
        except (TimeoutError, *DRIVER_ERRORS):
            # A dead server cannot take a polite goodbye: drop the sockets.
            pool.terminate()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; every driver error leaves as a StoreError."""
        if self._pool is None:
            raise StoreError("store is not open: call `await store.open()` first")
        try:
            async with self._pool.acquire(timeout=self.connect_timeout) as conn:
                try:
                    yield conn
                except PROTOCOL_CONFUSED:
                    # Never back into the pool mid-protocol: the next caller
                    # would inherit the confusion. Dropped, it is replaced.
                    conn.terminate()
                    raise
        except DRIVER_ERRORS as exc:
            raise self._failed(exc) from exc

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._connection() as conn:
            found: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return found

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    # -- writes ------------------------------------------------------------

    async def write(self, events: Sequence[Event]) -> None:
        grouped = R.rows_by_table(events)
        if not grouped:
            return
        try:
            await self._write_grouped(grouped)
        except StoreError as exc:
            cause = exc.__cause__
            if not isinstance(cause, PROTOCOL_CONFUSED) or isinstance(cause, CONNECTION_LOST):
                raise
            # The transaction died with its connection (terminated above), so
            # nothing of the batch is stored: one more try on a fresh connection
            # instead of reporting the store down.
            log.warning("%s; writing the batch again on a fresh connection", exc)
            self.protocol_retries += 1
            await self._write_grouped(grouped)

    async def _write_grouped(self, grouped: dict[R.Table, list[R.Row]]) -> None:
        async with self._connection() as conn, conn.transaction():
            for table, rows in grouped.items():
                try:
                    await self._write_rows(conn, table, rows)
                except (TypeError, ValueError) as exc:
                    # asyncpg's encoders reject a value of the wrong type this way
                    # (COPY raises it bare); the transaction is rolled back all the same.
                    raise StoreError(
                        f"{self._where}: a {table.name} row cannot be stored: {exc}"
                    ) from exc

    async def _write_rows(
        self, conn: asyncpg.Connection, table: R.Table, rows: list[R.Row]
    ) -> None:
        if len(rows) < self.copy_min_rows:
            await conn.executemany(S.INSERTS[table], rows)
            return
        if self.direct_copy and table not in self._replaying:
            # Fast path: new rows COPY straight into the table, at the raw driver's
            # speed. A row that is already there (a replay) fails the COPY; the
            # savepoint undoes just that, and the rows take the staging path.
            try:
                async with conn.transaction():
                    await copy_rows(conn, table.name, table, rows)
                return
            except asyncpg.UniqueViolationError:
                self._replaying.add(table)
        await copy_rows(conn, S.stage_name(table), table, rows)
        status = await conn.execute(S.MERGES[table])
        # "INSERT 0 <n>": once a batch goes in without a conflict, the replay is
        # over and the next batch tries the fast path again. Until then a stream
        # of overlapping batches (a feed re-sending the day) skips the doomed COPY.
        if status.rpartition(" ")[2] == str(len(rows)):
            self._replaying.discard(table)

    # -- reads -------------------------------------------------------------

    async def latest_prices(
        self, markets: Sequence[str], kind: PriceKind = PriceKind.INTRADAY
    ) -> dict[str, PriceTick]:
        if not markets:
            return {}
        found = await self._fetch(S.LATEST_PRICES_SQL, list(markets), kind.value)
        return {r["market"]: R.event_from(PriceTick, r) for r in found}

    async def price_history(
        self,
        market: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        kind: PriceKind | None = None,
    ) -> list[PriceTick]:
        kinds = S.ALL_KINDS if kind is None else [kind.value]
        args: list[Any] = [market, kinds, limit]
        if start is not None:
            args.append(require_aware("start", start))
        if end is not None:
            args.append(require_aware("end", end))
        if start is not None:
            args.append(C.floor_hour(start))
        sql = S.price_history_sql(has_start=start is not None, has_end=end is not None)
        found = await self._fetch(sql, *args)
        return [R.event_from(PriceTick, r) for r in reversed(found)]

    async def opportunities_since(self, since: datetime) -> list[SpreadOpportunity]:
        found = await self._fetch(S.OPPORTUNITIES_SINCE_SQL, require_aware("since", since))
        return [R.event_from(SpreadOpportunity, r) for r in found]

    async def trades(self, strategy: str | None = None, limit: int = 1000) -> list[Trade]:
        if strategy is None:
            found = await self._fetch("SELECT * FROM trades ORDER BY ts, trade_id LIMIT $1", limit)
        else:
            found = await self._fetch(
                "SELECT * FROM trades WHERE strategy = $1 ORDER BY ts, trade_id LIMIT $2",
                strategy,
                limit,
            )
        return [R.event_from(Trade, r) for r in found]

    async def alerts(self, limit: int = 100) -> list[Alert]:
        found = await self._fetch("SELECT * FROM alerts ORDER BY ts DESC LIMIT $1", limit)
        return [R.event_from(Alert, r) for r in found]

    async def battery_states(self, battery_id: str, limit: int = 1000) -> list[BatteryState]:
        found = await self._fetch(
            "SELECT * FROM battery_states WHERE battery_id = $1 ORDER BY ts DESC LIMIT $2",
            battery_id,
            limit,
        )
        return [R.event_from(BatteryState, r) for r in reversed(found)]

    async def audit_log(
        self,
        strategy: str | None = None,
        limit: int = 100,
        *,
        actor: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        offset: int = 0,
    ) -> list[AuditEntry]:
        where, args = R.audit_filter(
            "$", strategy=strategy, actor=actor, action=action, start=start, end=end
        )
        n = len(args)
        found = await self._fetch(
            f"SELECT * FROM audit_log{where} ORDER BY ts DESC, entry_id DESC "
            f"LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            limit,
            offset,
        )
        return [R.event_from(AuditEntry, r) for r in found]

    # -- backtests: PostgresBacktests, on this store's pooled connections ------

    async def save_backtest(self, record: BacktestRecord) -> None:
        await self._backtests.save(record)

    async def backtests(self, limit: int = 100) -> list[BacktestRecord]:
        return await self._backtests.newest(limit)

    async def backtest(self, run_id: str) -> BacktestRecord | None:
        return await self._backtests.one(run_id)

    async def delete_backtest(self, run_id: str) -> bool:
        return await self._backtests.delete(run_id)

    async def save_backtest_trades(self, run_id: str, trades: Sequence[Trade]) -> None:
        await self._backtests.save_trades(run_id, trades)

    async def backtest_trades(
        self, run_id: str, strategy: str | None = None, limit: int = 100_000
    ) -> list[Trade]:
        return await self._backtests.trades(run_id, strategy, limit)

    async def recorded(
        self,
        kind: type[E],
        *,
        until: datetime,
        since: datetime | None = None,
        limit: int = 1000,
        match: Mapping[str, str] | None = None,
        oldest: bool = False,
    ) -> list[E]:
        match = dict(match or {})
        sql = recorded_sql(
            R.table_of(kind), tuple(match), has_since=since is not None, mark=_mark, oldest=oldest
        )
        bounds = [require_aware("until", until)]
        if since is not None:
            bounds.append(require_aware("since", since))
        found = await self._fetch(sql, *match.values(), *bounds, limit)
        return [R.event_from(kind, r) for r in found]

    async def recorded_keys(self, kind: type[Event], column: str) -> list[str]:
        found = await self._fetch(keys_sql(R.table_of(kind), column))
        return [str(r[0]) for r in found]

    async def compact(self, before: datetime) -> C.CompactionReport:
        return await C.compact(PostgresCompactionRunner(self._connection), before)

    async def hourly_prices(
        self, market: str, kind: PriceKind, *, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[C.HourlyPrice]:
        bounds = require_aware("start", start), require_aware("end", end)
        found = await self._fetch(hourly_rows_sql(_mark), market, kind.value, *bounds, limit)
        return [C.hourly_price_from(r) for r in found]

    async def count(self, table: str) -> int:
        if table not in R.TABLE_NAMES:
            raise ValueError(f"unknown table {table!r}; known: {R.TABLE_NAMES}")
        found = await self._fetch(f"SELECT count(*) FROM {table}")
        return int(found[0][0])
