"""PostgresStore's part of compaction (:func:`engine.store.compaction.compact`).

Each query and each hour's batch takes a pooled connection of its own, so
the writer's COPYs go on beside it: an hour's DELETEs touch only rows older
than the raw window, which no insert is waiting on. Freed space is reused by
PostgreSQL after autovacuum (the table does not shrink on disk; ``VACUUM
FULL`` would lock it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Final

import asyncpg

HOUR_LOCK_SQL: Final = (
    "SELECT pg_advisory_xact_lock(hashtextextended('gridtui.retention:' || current_schema(), 0))"
)


class PostgresCompactionRunner:
    """The :class:`~engine.store.compaction.CompactionRunner` of one open PostgresStore."""

    def __init__(
        self, connection: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]
    ) -> None:
        self._connection = connection

    @staticmethod
    def mark(i: int) -> str:
        return f"${i}"

    @staticmethod
    def when(ts: datetime) -> datetime:
        return ts

    @staticmethod
    def since(value: Any) -> datetime:
        moment: datetime = value
        return moment

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        async with self._connection() as conn:
            found: list[Sequence[Any]] = await conn.fetch(sql, *params)
            return found

    async def run_batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        counts: list[int] = []
        async with self._connection() as conn, conn.transaction():
            # Several daemons on one schema each run the job: one hour at a time
            # among them all, or two could fold the same raw ticks twice (the
            # second would merge a copy of the first's row into it).
            await conn.execute(HOUR_LOCK_SQL)
            for sql, params in statements:
                status: str = await conn.execute(sql, *params)
                # "DELETE 12", "INSERT 0 1": the rows touched come last.
                counts.append(int(status.rpartition(" ")[2]))
        return counts
