"""Store write throughput: each backend next to the raw driver doing the same insert.

Prints, from one run, per-batch rows/s (median and p99) for:

- raw SQLite: ``executemany`` of a plain INSERT into a WAL-mode table of the same
  shape and primary key as ``prices``, one transaction per batch;
- ``SqliteStore.write``;
- raw asyncpg COPY: ``copy_records_to_table`` into a plain table LIKE ``prices``
  (same columns, same primary key), one transaction per batch;
- ``PostgresStore.write`` as shipped: new rows COPY straight into the table in a
  savepoint, falling back to staging on a conflict;
- ``PostgresStore.write`` with ``direct_copy`` off: every batch COPYed into the
  TEMP staging table, then ``INSERT … SELECT … ON CONFLICT DO NOTHING``;
- ``PostgresStore.write`` of batches already stored (a replay: every row a conflict);

and the ratio store/raw of each backend (target: PostgresStore ≥ 50 % of raw
COPY). The raw baselines get their rows pre-built; the stores start from
``PriceTick`` events, so the ratios include the event→row conversion. The
contenders take turns batch by batch, so each meets the same machine load.

A second table compares the write paths on small batches, which is what
``engine.store.postgres.COPY_MIN_ROWS`` is set from.

"p99" is the throughput of the 99th-percentile (slow) batch: 99 % of batches
were at least this fast. Ticks: 6 markets, increasing timestamps with
microseconds, random prices. Each repetition starts from empty tables.

Run: ``.venv/bin/python bench/store_throughput.py [--rows 200000] [--batch 5000]``.
Uses temporary schemas in ``--dsn`` (dropped at the end) and temporary SQLite
files; the PostgreSQL part is skipped with a message when the server is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from synthetic_ticks import MARKETS, T0, batches, make_ticks  # noqa: E402

from engine.events import PriceTick  # noqa: E402 — needs the path above
from engine.store import StoreError  # noqa: E402
from engine.store import rows as R  # noqa: E402
from engine.store.postgres import COPY_MIN_ROWS, PostgresStore  # noqa: E402
from engine.store.postgres_migrations import quote_ident  # noqa: E402
from engine.store.sqlite import SqliteStore, to_us  # noqa: E402

SMALL_BATCHES = (1, 8, 16, 32, 64, 250)


class Result:
    """Per-batch seconds of one contender over all repetitions."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[int] = []
        self.seconds: list[float] = []

    def add(self, rows: int, seconds: float) -> None:
        self.rows.append(rows)
        self.seconds.append(seconds)

    @property
    def per_batch(self) -> list[float]:
        return [r / s for r, s in zip(self.rows, self.seconds, strict=True)]

    @property
    def median(self) -> float:
        return statistics.median(self.per_batch)

    @property
    def p99(self) -> float:
        # The slow tail: 99 % of batches ran at least this fast (nearest rank;
        # with fewer than 100 batches that is the slowest one).
        ordered = sorted(self.per_batch)
        return ordered[math.ceil(len(ordered) * 0.01) - 1]

    @property
    def overall(self) -> float:
        return sum(self.rows) / sum(self.seconds)


async def timed(result: Result, rows: int, call: Callable[[], Awaitable[object]]) -> None:
    started = time.perf_counter()
    await call()
    result.add(rows, time.perf_counter() - started)


# -- SQLite ---------------------------------------------------------------------

# The shape of SqliteStore's prices table: integer-microsecond ts, same key.
RAW_SQLITE_TABLE = """
CREATE TABLE raw_prices (
    market TEXT NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL,
    price_eur_mwh REAL NOT NULL, volume_mwh REAL, source TEXT NOT NULL,
    delivery_minutes INTEGER,
    PRIMARY KEY (market, kind, ts)
) WITHOUT ROWID
"""


async def bench_sqlite(ticks: list[PriceTick], size: int, repeat: int) -> tuple[Result, Result]:
    raw, store_result = Result("raw SQLite executemany"), Result("SqliteStore.write")
    tick_batches = batches(ticks, size)
    row_batches = [
        [(*r[:2], to_us(r[2]), *r[3:]) for r in map(R.price_row, batch)] for batch in tick_batches
    ]
    with tempfile.TemporaryDirectory(prefix="gridtui-bench-") as tmp:
        for rep in range(repeat):
            await sqlite_repetition(
                Path(tmp, f"raw-{rep}.db"),
                Path(tmp, f"store-{rep}.db"),
                tick_batches,
                row_batches,
                raw,
                store_result,
            )
    return raw, store_result


async def sqlite_repetition(
    raw_path: Path,
    store_path: Path,
    tick_batches: list[Sequence[PriceTick]],
    row_batches: list[list[R.Row]],
    raw: Result,
    store_result: Result,
) -> None:
    conn = sqlite3.connect(raw_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # what SqliteStore runs with
    conn.execute(RAW_SQLITE_TABLE)
    insert = f"INSERT INTO raw_prices VALUES ({', '.join('?' for _ in R.PRICES.columns)})"

    async def raw_write(rows: list[R.Row]) -> None:
        # Blocking on purpose: the raw baseline is sqlite3 with nothing around it.
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")

    store = SqliteStore(store_path)
    await store.open()
    try:
        # Interleaved batch by batch, so both meet the same machine load.
        for i, (batch, rows) in enumerate(zip(tick_batches, row_batches, strict=True)):
            contenders = [
                (raw, partial(raw_write, rows)),
                (store_result, partial(store.write, batch)),
            ]
            for result, call in contenders[:: 1 if i % 2 == 0 else -1]:
                await timed(result, len(batch), call)
    finally:
        await store.close()
        conn.close()


# -- PostgreSQL -----------------------------------------------------------------


async def bench_postgres(
    dsn: str, ticks: list[PriceTick], size: int, repeat: int
) -> tuple[list[Result], Table]:
    raw = Result("raw asyncpg COPY")
    direct = Result("PostgresStore.write")
    staged = Result("PostgresStore.write, staging path only")
    replay = Result("PostgresStore.write, replayed batch")
    schema, staged_schema = (f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2))
    admin = await asyncpg.connect(dsn, timeout=5)
    store = PostgresStore(dsn, schema=schema, pool_size=2)
    staged_store = PostgresStore(dsn, schema=staged_schema, pool_size=2)
    staged_store.direct_copy = False
    raw_conn = None
    try:
        await store.open()  # creates the schema and the store's tables
        await staged_store.open()
        await admin.execute(
            f"CREATE TABLE {quote_ident(schema)}.raw_prices "
            f"(LIKE {quote_ident(schema)}.prices INCLUDING ALL)"
        )
        raw_conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        tick_batches = batches(ticks, size)
        row_batches = [[R.price_row(t) for t in batch] for batch in tick_batches]
        tables = ", ".join(
            f"{quote_ident(s)}.{t}"
            for s, t in ((schema, "prices"), (schema, "raw_prices"), (staged_schema, "prices"))
        )
        for _ in range(repeat):
            await admin.execute(f"TRUNCATE {tables}")
            # Interleaved batch by batch, rotating who goes first, so every
            # contender meets the same machine load and the same table sizes.
            for i, (batch, rows) in enumerate(zip(tick_batches, row_batches, strict=True)):
                contenders = [
                    (
                        raw,
                        partial(
                            raw_conn.copy_records_to_table,
                            "raw_prices",
                            records=rows,
                            columns=R.PRICES.columns,
                        ),
                    ),
                    (direct, partial(store.write, batch)),
                    (staged, partial(staged_store.write, batch)),
                ]
                shift = i % len(contenders)
                for result, call in contenders[shift:] + contenders[:shift]:
                    await timed(result, len(batch), call)
            for batch in tick_batches[: max(1, len(tick_batches) // 4)]:
                await timed(replay, len(batch), partial(store.write, batch))
        for checked in (store, staged_store):
            assert await checked.count("prices") == len(ticks), "a store lost or duplicated rows"
        crossover = await small_batches(store)
    finally:
        if raw_conn is not None:
            await raw_conn.close()
        await store.close()
        await staged_store.close()
        for name in (schema, staged_schema):
            await admin.execute(f"DROP SCHEMA IF EXISTS {quote_ident(name)} CASCADE")
        await admin.close()
    return [raw, direct, staged, replay], crossover


async def small_batches(store: PostgresStore) -> Table:
    """Rows/s of each write path for small batches (median of 30 writes each)."""
    table = Table(title="PostgresStore.write, small batches: rows/s per write path")
    paths = ("executemany", "COPY", "COPY via staging")
    for column in ("rows per batch", *paths, "fastest"):
        table.add_column(column, justify="right")
    # Ten years after the main run's ticks: every row is new, none a replay.
    fresh = make_ticks(30 * len(paths) * sum(SMALL_BATCHES), start=T0 + timedelta(days=3650))
    offset = 0
    for size in SMALL_BATCHES:
        medians = []
        for path in paths:
            store.copy_min_rows = size + 1 if path == "executemany" else 0
            store.direct_copy = path == "COPY"
            result = Result(path)
            for _ in range(30):
                batch = fresh[offset : offset + size]
                offset += size
                await timed(result, size, partial(store.write, batch))
            medians.append(result.median)
        fastest = paths[medians.index(max(medians))]
        table.add_row(str(size), *(f"{m:,.0f}" for m in medians), fastest)
    store.copy_min_rows, store.direct_copy = COPY_MIN_ROWS, True
    return table


# -- report -----------------------------------------------------------------------


def report(
    console: Console, results: list[Result], ratios: list[tuple[str, Result, Result]]
) -> None:
    table = Table(title="Write throughput per batch (rows/s)")
    for column in ("contender", "median", "p99 (slow batch)", "overall", "batches"):
        table.add_column(column, justify="right" if column != "contender" else "left")
    for result in results:
        table.add_row(
            result.name,
            f"{result.median:,.0f}",
            f"{result.p99:,.0f}",
            f"{result.overall:,.0f}",
            str(len(result.rows)),
        )
    console.print(table)
    ratio_table = Table(title="Store / raw driver (median per-batch rows/s)")
    for column in ("backend", "store", "raw", "ratio"):
        ratio_table.add_column(column, justify="right" if column != "backend" else "left")
    for name, store_result, raw in ratios:
        ratio_table.add_row(
            name,
            f"{store_result.median:,.0f}",
            f"{raw.median:,.0f}",
            f"{store_result.median / raw.median:.0%}",
        )
    console.print(ratio_table)


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200_000, help="ticks per repetition")
    parser.add_argument("--batch", type=int, default=5_000, help="ticks per write()")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (fresh tables each)")
    parser.add_argument(
        "--dsn",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL to measure on (a temporary schema is created and dropped)",
    )
    args = parser.parse_args(argv)
    console = Console()
    ticks = make_ticks(args.rows)
    console.print(
        f"{args.rows:,} ticks × {args.repeat} repetitions, batches of {args.batch:,} "
        f"({len(MARKETS)} markets)"
    )
    raw_sqlite_result, sqlite_store = await bench_sqlite(ticks, args.batch, args.repeat)
    results = [raw_sqlite_result, sqlite_store]
    ratios = [("SQLite", sqlite_store, raw_sqlite_result)]
    crossover = None
    try:
        pg_results, crossover = await bench_postgres(args.dsn, ticks, args.batch, args.repeat)
    except (OSError, asyncpg.PostgresError, StoreError) as exc:
        console.print(f"[yellow]PostgreSQL at {args.dsn} not reachable ({exc}): skipped[/]")
    else:
        raw_pg, pg_store, pg_staged, _ = pg_results
        results += pg_results
        ratios.append(("PostgreSQL", pg_store, raw_pg))
        ratios.append(("PostgreSQL, staging path only", pg_staged, raw_pg))
    report(console, results, ratios)
    if crossover is not None:
        console.print(crossover)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
