"""SqliteStore: the embedded default store (zero setup), one file in WAL mode.

sqlite3 is synchronous, so every call runs on one dedicated worker thread: the
event loop never blocks on disk, and the single thread serialises access (one
writer is what SQLite wants anyway). Timestamps are stored as integer
microseconds since the Unix epoch: compact, and they sort and compare fast.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any, Final, TypeVar

import msgspec

from engine import time_us
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
from engine.store import rows as R
from engine.store.base import BacktestRecord, StoreError
from engine.store.compaction import CompactionReport, HourlyPrice, compact, hourly_price_from
from engine.store.recording_sql import keys_sql, recorded_sql
from engine.store.retention_sql import hourly_rows_sql
from engine.store.sqlite_migrations import migrate
from engine.store.sqlite_retention import SqliteCompactionRunner, price_history_query
from engine.time_us import from_us

T = TypeVar("T")
E = TypeVar("E", bound=Event)
# SQLITE_CORRUPT and SQLITE_NOTADB (primary codes): the file itself is damaged,
# so retrying can never succeed, unlike a locked or full database.
_DAMAGED: Final = (11, 26)


class StoreCorruptError(StoreError):
    """The SQLite file is damaged; the message says which file and what to do.

    A StoreError, so the writer keeps (and spills) the events it could not
    store; the daemon sees :attr:`SqliteStore.corruption` and stops.
    """


def _mark(_: int) -> str:
    return "?"


def _is_damage(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _DAMAGED:
        return True
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def corruption_advice(path: str, problem: str) -> str:
    return (
        f"SQLite store {path} is damaged ({problem}). Stop gridtui, move the file aside "
        f"(mv {path} {path}.damaged) and start again on a fresh one; to save what it "
        f'holds: sqlite3 {path}.damaged ".recover" | sqlite3 {path}'
    )


def to_us(ts: datetime) -> int:
    """UTC datetime → integer microseconds since the epoch (exact, no float).

    A naive datetime is a TypeError here, as the store has always raised it.
    """
    try:
        return time_us.to_us(ts)
    except ValueError:
        raise TypeError(f"can't store a naive datetime {ts!r}; give it a time zone (UTC)") from None


@cache
def _insert_sql(table: R.Table, rows: int = 1) -> str:
    """An idempotent INSERT of ``rows`` rows (a duplicate, even within it, is skipped)."""
    marks = "(" + ", ".join("?" for _ in table.columns) + ")"
    return (
        f"INSERT INTO {table.name} ({', '.join(table.columns)}) "
        f"VALUES {', '.join([marks] * rows)} ON CONFLICT DO NOTHING"
    )


# The reads that must stay index probes as tables grow (tests/store/test_sqlite.py
# checks their plans): the newest row of one market's key, and a range of the
# time-first opportunity key, both in key order.
LATEST_PRICE_SQL: Final = (
    "SELECT * FROM prices WHERE market = ? AND kind = ? ORDER BY ts DESC LIMIT 1"
)
OPPORTUNITIES_SINCE_SQL: Final = (
    "SELECT * FROM opportunities WHERE ts >= ? ORDER BY ts, buy_market, sell_market, opened_at, seq"
)
# Rows per multi-row INSERT on the write path. sqlite3 releases the GIL while a
# statement runs, so a statement of many rows lets the event loop's thread work
# while SQLite inserts, where one statement per row kept the two taking turns;
# it also binds in fewer, larger calls. Pipeline throughput over one row a
# statement (bench/pipeline_throughput.py, medians of 3 A/B runs): +15 % at
# 1,024 rows, +11 % at 256, +5 % at 64.
ROWS_PER_STATEMENT: Final = 1024


def _insert_rows(conn: sqlite3.Connection, table: R.Table, rows: list[R.Row]) -> None:
    per = min(
        ROWS_PER_STATEMENT,
        conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(table.columns),
    )
    whole = len(rows) - len(rows) % per if per > 1 else 0
    if whole:
        # The same statement text each time, so sqlite3's statement cache keeps
        # it compiled; the rest of the rows go one per statement.
        flat = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, whole, per)]
        conn.executemany(_insert_sql(table, per), flat)
    if whole < len(rows):
        conn.executemany(_insert_sql(table), rows[whole:])


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN … COMMIT, or ROLLBACK on any error (the connection is in autocommit mode)."""
    conn.execute("BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _microseconds_memo() -> R.When:
    """``to_us`` remembering its answers for one batch.

    The ticks of one instant share a timestamp (six markets a second) and an
    opportunity's ``opened_at`` repeats in each of its events; the timedelta
    arithmetic of ``to_us`` costs more than a dict lookup.
    """
    seen: dict[datetime, int] = {}

    def when(ts: datetime) -> int:
        us = seen.get(ts)
        if us is None:
            us = seen[ts] = to_us(ts)
        return us

    return when


class SqliteStore:
    """The embedded store. ``path`` is a file, or ``":memory:"`` for tests."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Set (once) when SQLite reports the file damaged: what it said.
        self.corruption: str | None = None

    async def _run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            raise StoreError("store is not open: call `await store.open()` first")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn)
        except sqlite3.Error as exc:
            if _is_damage(exc):
                self.corruption = self.corruption or str(exc)
                raise StoreCorruptError(corruption_advice(self.path, str(exc))) from exc
            raise StoreError(f"SQLite store {self.path}: {exc}") from exc

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("store is not open: call `await store.open()` first")
        return self._conn

    async def open(self) -> None:
        def _open() -> None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                # Made 0600 before SQLite opens it: the prices, positions and
                # audit log are the user's alone, and SQLite gives its -wal and
                # -shm files the database file's mode.
                os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a crash never corrupts the file, a power cut
            # may lose the last transactions — the writer's batches are small.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            # 64 MiB of page cache (the default is 2 MiB): the pages inserts touch
            # (each market's end of the price key, the end of the time-first
            # keys) stay in memory as tables grow. +4 % pipeline throughput.
            conn.execute("PRAGMA cache_size=-65536")
            migrate(conn, self.path)
            self._conn = conn

        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        await self._run(_open)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._run(conn.close)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def ping(self) -> None:
        await self._run(lambda: self.conn.execute("SELECT 1").fetchone())

    async def write(self, events: Sequence[Event]) -> None:
        def _write() -> None:
            # Rows are built here, on the store's thread, not on the event loop.
            grouped = R.rows_by_table(events, _microseconds_memo())
            if not grouped:
                return
            with _transaction(self.conn) as conn:
                for table, rows in grouped.items():
                    _insert_rows(conn, table, rows)

        await self._run(_write)

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self._run(lambda: self.conn.execute(sql, params).fetchall())

    async def latest_prices(
        self, markets: Sequence[str], kind: PriceKind = PriceKind.INTRADAY
    ) -> dict[str, PriceTick]:
        # One primary-key seek per market (ORDER BY ts DESC LIMIT 1), never a scan.
        latest: dict[str, PriceTick] = {}
        for market in markets:
            found = await self._query(
                LATEST_PRICE_SQL,
                (market, kind.value),
            )
            if found:
                latest[market] = R.event_from(PriceTick, found[0], from_us)
        return latest

    async def price_history(
        self,
        market: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        kind: PriceKind | None = None,
    ) -> list[PriceTick]:
        # Raw ticks, and the hourly closes where retention compacted them.
        found = await self._query(
            *price_history_query(market, start=start, end=end, limit=limit, kind=kind)
        )
        return [R.event_from(PriceTick, r, from_us) for r in reversed(found)]

    async def opportunities_since(self, since: datetime) -> list[SpreadOpportunity]:
        found = await self._query(
            OPPORTUNITIES_SINCE_SQL,
            (to_us(since),),
        )
        return [R.event_from(SpreadOpportunity, r, from_us) for r in found]

    async def trades(self, strategy: str | None = None, limit: int = 1000) -> list[Trade]:
        if strategy is None:
            found = await self._query("SELECT * FROM trades ORDER BY ts LIMIT ?", (limit,))
        else:
            found = await self._query(
                "SELECT * FROM trades WHERE strategy = ? ORDER BY ts LIMIT ?", (strategy, limit)
            )
        return [R.event_from(Trade, r, from_us) for r in found]

    async def alerts(self, limit: int = 100) -> list[Alert]:
        found = await self._query("SELECT * FROM alerts ORDER BY ts DESC LIMIT ?", (limit,))
        return [R.event_from(Alert, r, from_us) for r in found]

    async def battery_states(self, battery_id: str, limit: int = 1000) -> list[BatteryState]:
        found = await self._query(
            "SELECT * FROM battery_states WHERE battery_id = ? ORDER BY ts DESC LIMIT ?",
            (battery_id, limit),
        )
        return [R.event_from(BatteryState, r, from_us) for r in reversed(found)]

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
            "?", strategy=strategy, actor=actor, action=action, start=start, end=end, when=to_us
        )
        found = await self._query(
            f"SELECT * FROM audit_log{where} ORDER BY ts DESC, entry_id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [R.event_from(AuditEntry, r, from_us) for r in found]

    async def save_backtest(self, record: BacktestRecord) -> None:
        encode = msgspec.json.encode
        row = (
            record.run_id,
            to_us(record.created_at),
            record.state,
            encode(record.config).decode(),
            encode(record.metrics).decode(),
            encode(record.equity_curve).decode(),
        )
        await self._run(
            lambda: self.conn.execute(
                "INSERT OR REPLACE INTO backtests VALUES (?, ?, ?, ?, ?, ?)", row
            )
        )

    @staticmethod
    def _backtest_from(r: sqlite3.Row) -> BacktestRecord:
        return BacktestRecord(
            run_id=r["run_id"],
            created_at=from_us(r["created_at"]),
            state=r["state"],
            config=msgspec.json.decode(r["config"]),
            metrics=msgspec.json.decode(r["metrics"]),
            equity_curve=msgspec.json.decode(r["equity_curve"], type=list[tuple[datetime, float]]),
        )

    async def backtests(self, limit: int = 100) -> list[BacktestRecord]:
        found = await self._query(
            "SELECT * FROM backtests ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [self._backtest_from(r) for r in found]

    async def backtest(self, run_id: str) -> BacktestRecord | None:
        found = await self._query("SELECT * FROM backtests WHERE run_id = ?", (run_id,))
        return self._backtest_from(found[0]) if found else None

    async def delete_backtest(self, run_id: str) -> bool:
        def _delete() -> int:
            conn = self.conn
            with _transaction(conn):
                conn.execute("DELETE FROM backtest_trades WHERE run_id = ?", (run_id,))
                deleted = conn.execute("DELETE FROM backtests WHERE run_id = ?", (run_id,))
            return deleted.rowcount

        return await self._run(_delete) > 0

    async def save_backtest_trades(self, run_id: str, trades: Sequence[Trade]) -> None:
        rows = [R.backtest_trade_row(run_id, t, to_us) for t in trades]

        def _write() -> None:
            with _transaction(self.conn) as conn:
                _insert_rows(conn, R.BACKTEST_TRADES, rows)

        if rows:
            await self._run(_write)

    async def backtest_trades(
        self, run_id: str, strategy: str | None = None, limit: int = 100_000
    ) -> list[Trade]:
        where, params = "run_id = ?", [run_id]
        if strategy is not None:
            where, params = "run_id = ? AND strategy = ?", [run_id, strategy]
        found = await self._query(
            f"SELECT * FROM backtest_trades WHERE {where} ORDER BY ts, trade_id LIMIT ?",
            (*params, limit),
        )
        return [R.event_from(Trade, r, from_us) for r in found]

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
        bounds = [to_us(until)] if since is None else [to_us(until), to_us(since)]
        found = await self._query(sql, (*match.values(), *bounds, limit))
        return [R.event_from(kind, r, from_us) for r in found]

    async def recorded_keys(self, kind: type[Event], column: str) -> list[str]:
        found = await self._query(keys_sql(R.table_of(kind), column))
        return [str(r[0]) for r in found]

    async def compact(self, before: datetime) -> CompactionReport:
        runner = SqliteCompactionRunner(self._run, lambda: self.conn)
        report = await compact(runner, before)
        if report.removed:
            await runner.reclaim()
        return report

    async def hourly_prices(
        self, market: str, kind: PriceKind, *, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[HourlyPrice]:
        found = await self._query(
            hourly_rows_sql(SqliteCompactionRunner.mark),
            (market, kind.value, to_us(start), to_us(end), limit),
        )
        return [hourly_price_from(r, from_us) for r in found]

    async def count(self, table: str) -> int:
        if table not in R.TABLE_NAMES:
            raise ValueError(f"unknown table {table!r}; known: {R.TABLE_NAMES}")
        found = await self._query(f"SELECT count(*) FROM {table}")
        return int(found[0][0])
