"""PostgreSQL goes away during ingest: the writer buffers, spills, and loses nothing."""

from __future__ import annotations

import asyncio

import pytest

from engine.clock import LiveClock
from engine.store.writer import BatchedWriter, WriterConfig
from tests.stubs.builders import tick
from tests.stubs.pg_server import ThrowawayPostgres, postgres_binaries

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_binaries() is None, reason="PostgreSQL server binaries not installed"
    ),
]


async def test_outage_is_buffered_spilled_and_replayed(tmp_path):
    from engine.store.postgres import PostgresStore

    spill = tmp_path / "postgresql.spill"
    config = WriterConfig(
        batch_size=500,
        max_age_s=0.05,
        max_buffered=2_000,
        spill_path=str(spill),
        retry_initial_s=0.05,
        retry_max_s=0.5,
    )
    with ThrowawayPostgres() as server:
        server.start()
        store = PostgresStore(server.dsn)
        await store.open()
        writer = BatchedWriter(store, LiveClock(), config)
        await writer.start()
        produced = 0

        async def produce(n: int) -> None:
            nonlocal produced
            for _ in range(n // 100):
                writer.add(
                    [tick("DE", float(i), seconds=i) for i in range(produced, produced + 100)]
                )
                produced += 100
                await asyncio.sleep(0.01)

        await produce(1_000)
        await asyncio.to_thread(server.kill)
        await produce(6_000)  # the database is down for all of these
        assert not writer.stats.store_up
        assert spill.exists() and writer.stats.spilled > 0
        await asyncio.to_thread(server.start)
        await produce(1_000)
        for _ in range(300):
            if writer.pending == 0:
                break
            await asyncio.sleep(0.1)
        await writer.close()
        assert writer.pending == 0
        assert await store.count("prices") == produced == 8_000
        history = await store.price_history("DE", limit=10_000)
        assert [t.price_eur_mwh for t in history] == [float(i) for i in range(8_000)]
        assert not spill.exists()
        await store.close()
