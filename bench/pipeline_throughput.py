"""Full-pipeline throughput: mock feed → validation → spreads → bus → store.

For each store backend it runs the real runtime (MockFeed as fast as possible on
a SimClock, the spread engine, a MemoryBus with one viewer subscribed, the
batched writer) over ``--ticks`` intraday ticks and reports ticks/s from the
first batch until the last event is committed. Baselines measured in the same
run, on the same ticks:

* the bare feed (generation only),
* raw SQLite ``executemany`` into a table of the same shape (WAL),
* raw asyncpg ``COPY`` into a table of the same shape and key.

Run: ``.venv/bin/python bench/pipeline_throughput.py [--ticks 300000] [--repeat 3]``.
Targets (issue 2): ≥ 50,000 ticks/s on SQLite; PostgreSQL ≥ 50 % of raw COPY.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.bus.memory import MemoryBus
from engine.clock import Clock, SimClock
from engine.events import ALL_TOPICS, Event, PriceTick
from engine.runtime import Runtime
from engine.spreads.engine import SpreadConfig, SpreadEngine
from engine.store.base import Store
from engine.store.rows import PRICES, price_row
from engine.store.sqlite import SqliteStore, to_us
from engine.store.writer import WriterConfig
from feeds.mock.feed import MockFeed, MockFeedConfig

START = datetime(2025, 1, 6, tzinfo=UTC)
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


class LimitedFeed:
    """The mock feed, cut after ``limit`` intraday ticks (day-ahead/fundamentals ride along)."""

    name = "mock"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inner = MockFeed(MockFeedConfig(tick_interval_s=0, start=START, seed=42))

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        seen = 0
        async for batch in self.inner.stream(clock):
            seen += sum(1 for e in batch if isinstance(e, PriceTick))
            yield batch
            if seen >= self.limit:
                return


async def generate(limit: int) -> list[list[Event]]:
    feed, clock = LimitedFeed(limit), SimClock(START)
    return [list(batch) async for batch in feed.stream(clock)]


async def bare_feed(limit: int) -> float:
    started = time.perf_counter()
    batches = await generate(limit)
    elapsed = time.perf_counter() - started
    return sum(len(b) for b in batches) / elapsed


async def pipeline(store: Store, limit: int) -> tuple[float, int]:
    runtime = Runtime(
        feed=LimitedFeed(limit),
        clock=SimClock(START),
        bus=MemoryBus(),
        store=store,
        components=[SpreadEngine(SpreadConfig())],
        writer_config=WriterConfig(batch_size=10_000, max_age_s=0.2),
    )
    await runtime.start()
    viewer = await runtime.bus.subscribe(ALL_TOPICS, name="viewer", maxsize=10_000)
    started = time.perf_counter()
    stats = await runtime.run()
    await runtime.writer.close()  # the last event committed
    elapsed = time.perf_counter() - started
    stored = runtime.writer.stats.written
    _ = viewer.dropped
    await runtime.close()
    return stats.events_in / elapsed, stored


def raw_sqlite(rows: list[tuple[object, ...]], path: Path) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE prices (market TEXT, kind TEXT, ts INTEGER, price_eur_mwh REAL,"
        " volume_mwh REAL, source TEXT, delivery_minutes INTEGER,"
        " PRIMARY KEY (market, kind, ts)) WITHOUT ROWID"
    )
    started = time.perf_counter()
    for i in range(0, len(rows), 10_000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO prices VALUES (?, ?, ?, ?, ?, ?, ?)", rows[i : i + 10_000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


async def raw_copy(rows: list[tuple[object, ...]]) -> float:
    import asyncpg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(
            f"CREATE TABLE {schema}.prices (market text, kind text, ts timestamptz,"
            " price_eur_mwh float8, volume_mwh float8, source text, delivery_minutes int,"
            " PRIMARY KEY (market, kind, ts))"
        )
        started = time.perf_counter()
        for i in range(0, len(rows), 10_000):
            await conn.copy_records_to_table(
                "prices", schema_name=schema, records=rows[i : i + 10_000], columns=PRICES.columns
            )
        return len(rows) / (time.perf_counter() - started)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def postgres_store(limit: int) -> tuple[float, int] | None:
    try:
        import asyncpg

        from engine.store.postgres import PostgresStore
    except ImportError:
        return None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_DSN)
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        return await pipeline(PostgresStore(POSTGRES_DSN, schema=schema), limit)
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):>10,.0f}  (min {min(values):,.0f}, max {max(values):,.0f})"


async def main_async(limit: int, repeat: int, with_postgres: bool) -> None:
    console = Console()
    batches = await generate(limit)
    ticks = [e for b in batches for e in b if isinstance(e, PriceTick)]
    sqlite_rows = [price_row(t, to_us) for t in ticks]
    pg_rows = [price_row(t) for t in ticks]
    results: dict[str, list[float]] = {}
    for _ in range(repeat):
        results.setdefault("bare feed (events/s)", []).append(await bare_feed(limit))
        with tempfile.TemporaryDirectory() as tmp:
            results.setdefault("raw SQLite executemany (rows/s)", []).append(
                raw_sqlite(sqlite_rows, Path(tmp) / "raw.db")
            )
            rate, _ = await pipeline(SqliteStore(Path(tmp) / "pipeline.db"), limit)
            results.setdefault("pipeline → SQLite (events/s)", []).append(rate)
        if with_postgres:
            results.setdefault("raw asyncpg COPY (rows/s)", []).append(await raw_copy(pg_rows))
            measured = await postgres_store(limit)
            if measured is not None:
                results.setdefault("pipeline → PostgreSQL (events/s)", []).append(measured[0])

    table = Table(title=f"pipeline throughput: {len(ticks):,} intraday ticks, median of {repeat}")
    table.add_column("what")
    table.add_column("rate", justify="right")
    for name, values in results.items():
        table.add_row(name, summary(values))
    console.print(table)
    median = {name: statistics.median(values) for name, values in results.items()}
    sqlite_rate = median["pipeline → SQLite (events/s)"]
    console.print(
        f"SQLite pipeline: {sqlite_rate:,.0f} events/s "
        f"({'meets' if sqlite_rate >= 50_000 else 'MISSES'} the 50,000/s target), "
        f"{sqlite_rate / median['raw SQLite executemany (rows/s)']:.0%} of raw executemany"
    )
    if "pipeline → PostgreSQL (events/s)" in median:
        ratio = median["pipeline → PostgreSQL (events/s)"] / median["raw asyncpg COPY (rows/s)"]
        console.print(
            f"PostgreSQL pipeline: {median['pipeline → PostgreSQL (events/s)']:,.0f} events/s = "
            f"{ratio:.0%} of raw COPY ({'meets' if ratio >= 0.5 else 'MISSES'} the 50 % target)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ticks", type=int, default=300_000, help="intraday ticks per run")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median is reported)")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL runs")
    args = parser.parse_args()
    asyncio.run(main_async(args.ticks, args.repeat, not args.no_postgres))


if __name__ == "__main__":
    main()
