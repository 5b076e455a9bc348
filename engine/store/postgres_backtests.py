"""PostgresBacktests: backtest runs and their trades in PostgreSQL.

The part of :class:`~engine.store.postgres.PostgresStore` that keeps what
``gridtui backtest`` produces: one row per run (config, metrics and equity
curve as ``jsonb``) and its trades, COPYed through a temporary staging table.
The store hands it its pooled-connection context and its fetch, so both share
one pool and one error mapping (every driver error leaves as a StoreError).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import asyncpg
import msgspec

from engine.events import Trade
from engine.store import rows as R
from engine.store.base import BacktestRecord
from engine.store.postgres_connection import require_aware

Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]
Fetch = Callable[..., Awaitable[list[asyncpg.Record]]]


class PostgresBacktests:
    """Backtest records on a PostgresStore's connections (module docstring)."""

    def __init__(self, connection: Connect, fetch: Fetch) -> None:
        self._connection = connection
        self._fetch = fetch

    async def save(self, record: BacktestRecord) -> None:
        encode = msgspec.json.encode
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO backtests (run_id, created_at, state, config, metrics, equity_curve) "
                "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb) "
                "ON CONFLICT (run_id) DO UPDATE SET created_at = EXCLUDED.created_at, "
                "state = EXCLUDED.state, config = EXCLUDED.config, "
                "metrics = EXCLUDED.metrics, equity_curve = EXCLUDED.equity_curve",
                record.run_id,
                require_aware("created_at", record.created_at),
                record.state,
                encode(record.config).decode(),
                encode(record.metrics).decode(),
                encode(record.equity_curve).decode(),
            )

    @staticmethod
    def _backtest_from(r: asyncpg.Record) -> BacktestRecord:
        # asyncpg hands jsonb over as text; msgspec parses it (typed where the
        # record's fields are typed, so equity timestamps come back as datetimes).
        return BacktestRecord(
            run_id=r["run_id"],
            created_at=r["created_at"],
            state=r["state"],
            config=msgspec.json.decode(r["config"]),
            metrics=msgspec.json.decode(r["metrics"], type=dict[str, float]),
            equity_curve=msgspec.json.decode(r["equity_curve"], type=list[tuple[datetime, float]]),
        )

    async def newest(self, limit: int = 100) -> list[BacktestRecord]:
        found = await self._fetch(
            "SELECT * FROM backtests ORDER BY created_at DESC, run_id LIMIT $1", limit
        )
        return [self._backtest_from(r) for r in found]

    async def one(self, run_id: str) -> BacktestRecord | None:
        found = await self._fetch("SELECT * FROM backtests WHERE run_id = $1", run_id)
        return self._backtest_from(found[0]) if found else None

    async def delete(self, run_id: str) -> bool:
        async with self._connection() as conn, conn.transaction():
            await conn.execute("DELETE FROM backtest_trades WHERE run_id = $1", run_id)
            found = await conn.fetch("DELETE FROM backtests WHERE run_id = $1 RETURNING 1", run_id)
        return bool(found)

    async def save_trades(self, run_id: str, trades: Sequence[Trade]) -> None:
        if not trades:
            return
        table = R.BACKTEST_TRADES
        rows = [R.backtest_trade_row(run_id, t) for t in trades]
        for t in trades:
            require_aware("trade ts", t.ts)
        columns = ", ".join(table.columns)
        async with self._connection() as conn, conn.transaction():
            # COPY into a session-temporary table, then one idempotent INSERT: a
            # year of trades is ~10⁵ rows, which executemany would take seconds for.
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS gridtui_stage_backtest_trades "
                "(LIKE backtest_trades) ON COMMIT DELETE ROWS"
            )
            await conn.copy_records_to_table(
                "gridtui_stage_backtest_trades", records=rows, columns=table.columns
            )
            await conn.execute(
                f"INSERT INTO backtest_trades ({columns}) SELECT {columns} "
                "FROM gridtui_stage_backtest_trades ON CONFLICT DO NOTHING"
            )

    async def trades(
        self, run_id: str, strategy: str | None = None, limit: int = 100_000
    ) -> list[Trade]:
        if strategy is None:
            found = await self._fetch(
                "SELECT * FROM backtest_trades WHERE run_id = $1 ORDER BY ts, trade_id LIMIT $2",
                run_id,
                limit,
            )
        else:
            found = await self._fetch(
                "SELECT * FROM backtest_trades WHERE run_id = $1 AND strategy = $2 "
                "ORDER BY ts, trade_id LIMIT $3",
                run_id,
                strategy,
                limit,
            )
        return [R.event_from(Trade, r) for r in found]


__all__ = ["PostgresBacktests"]
