"""Retention on PostgreSQL: daemons sharing one schema compact one hour at a time.

A second daemon's compaction that reaches an hour while another is still
folding it must wait, then find the raw ticks gone: folding them again would
merge a second copy into the hourly row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from engine.events import PriceKind, PriceTick
from engine.store import retention_sql as Q
from engine.store.postgres import PostgresStore
from engine.store.postgres_retention import HOUR_LOCK_SQL, PostgresCompactionRunner

T = datetime(2024, 3, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def store(postgres_schema: tuple[str, str]) -> AsyncIterator[PostgresStore]:
    dsn, schema = postgres_schema
    backend = PostgresStore(dsn, schema=schema)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def other_daemon(postgres_schema: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    dsn, schema = postgres_schema
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        yield conn
    finally:
        await conn.close()


async def test_an_hour_being_folded_elsewhere_is_waited_for_and_not_folded_twice(
    store, other_daemon
):
    ticks = [
        PriceTick(ts=T + timedelta(seconds=10 * i), market="DE", price_eur_mwh=float(i % 40))
        for i in range(360)
    ]
    await store.write(ticks)
    mark = PostgresCompactionRunner.mark
    hour = ("DE", PriceKind.INTRADAY.value, T, T + HOUR)
    folding = other_daemon.transaction()
    await folding.start()
    await other_daemon.execute(HOUR_LOCK_SQL)
    await other_daemon.execute(Q.fold_ticks_sql(mark), *hour)
    await other_daemon.execute(Q.delete_ticks_sql(mark), *hour)

    ours = asyncio.create_task(store.compact(T + 2 * HOUR))
    await asyncio.sleep(0.5)
    assert not ours.done()  # waiting for the other daemon's hour
    await folding.commit()
    report = await asyncio.wait_for(ours, timeout=10)

    assert report.ticks_folded == 0
    (row,) = await store.hourly_prices("DE", PriceKind.INTRADAY, start=T, end=T + HOUR)
    assert row.ticks == 360
    assert row.mean_eur_mwh == pytest.approx(sum(t.price_eur_mwh for t in ticks) / 360)
