"""SqliteStore's part of recorder retention: compaction on its one thread, reads across the cut-off.

:func:`engine.store.compaction.compact` drives; every query and every hour's
batch runs as its own job on the store's single worker thread, so the
writer's batches slot in between two hours. Afterwards the freed pages are
handed back to the file system in bounded steps where the file allows it
(``auto_vacuum = INCREMENTAL``, set on every file this version creates); an
older file keeps them and reuses them for new rows, so it stops growing
instead of shrinking.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from engine import time_us
from engine.events import PriceKind
from engine.store import retention_sql as Q
from engine.store.compaction import floor_hour

T = TypeVar("T")
Run = Callable[[Callable[[], T]], Awaitable[T]]
# Pages handed back per step (4 KiB each: 4 MiB), one step per job on the
# store's thread so that a write never waits behind a long vacuum.
VACUUM_PAGES_PER_STEP: Final = 1024
_INCREMENTAL: Final = 2


class SqliteCompactionRunner:
    """The :class:`~engine.store.compaction.CompactionRunner` of one open SqliteStore."""

    def __init__(self, run: Run[Any], conn: Callable[[], sqlite3.Connection]) -> None:
        self._run = run
        self._conn = conn

    @staticmethod
    def mark(i: int) -> str:
        return f"?{i}"

    @staticmethod
    def when(ts: datetime) -> int:
        return time_us.to_us(ts)

    @staticmethod
    def since(value: Any) -> datetime:
        return time_us.from_us(int(value))

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = await self._run(
            lambda: self._conn().execute(sql, params).fetchall()
        )
        return rows

    async def run_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        def batch() -> list[int]:
            conn = self._conn()
            # IMMEDIATE: the write lock first, so an hour is read and rewritten
            # from one snapshot even with another process on the file.
            conn.execute("BEGIN IMMEDIATE")
            try:
                counts = [conn.execute(sql, params).rowcount for sql, params in statements]
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return counts

        counts: list[int] = await self._run(batch)
        return counts

    async def reclaim(self) -> int:
        """Give freed pages back to the file system; the pages given back."""

        def step() -> int:
            conn = self._conn()
            if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
                return 0
            free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
            if free:
                # executescript steps the pragma to its end: execute() steps it
                # once, and each step frees a single page.
                conn.executescript(f"PRAGMA incremental_vacuum({VACUUM_PAGES_PER_STEP})")
            return free - int(conn.execute("PRAGMA freelist_count").fetchone()[0])

        total = 0
        while (given := await self._run(step)) > 0:
            total += given
        return total


def price_history_query(
    market: str,
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    kind: PriceKind | None,
) -> tuple[str, list[Any]]:
    """``price_history``'s SQL and parameters: the raw ticks, and where observed
    ticks were compacted, each hour's close at its last tick (``hourly_closes_sql``).

    Each arm is a backward range of its own key with the limit applied, then
    the two are merged: the cost follows the limit, not the table.
    """
    params: list[Any] = [market, limit]
    raw = ["market = ?1"]
    if start is not None:
        params += [time_us.to_us(start), time_us.to_us(floor_hour(start))]
        raw.append(f"ts >= ?{len(params) - 1}")
    if end is not None:
        params.append(time_us.to_us(end))
        raw.append(f"ts < ?{len(params)}")
    kinds = "1 = 1"
    if kind is not None:
        params.append(kind.value)
        raw.append(f"kind = ?{len(params)}")
        kinds = f"kind = ?{len(params)}"
    sql = f"SELECT * FROM prices WHERE {' AND '.join(raw)} ORDER BY ts DESC LIMIT ?2"
    if kind is not None and kind.value not in Q.OBSERVED_KINDS:
        return sql, params
    hourly = Q.hourly_closes_sql(
        market="?1",
        limit="?2",
        kinds=kinds,
        start=("?3", "?4") if start is not None else None,
        end=f"?{5 if start is not None else 3}" if end is not None else None,
    )
    return (
        f"SELECT * FROM ({sql}) UNION ALL SELECT * FROM ({hourly}) ORDER BY ts DESC LIMIT ?2",
        params,
    )
