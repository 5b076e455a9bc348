"""Disk cost of the recording, before and after recorder retention.

Runs the real engine (``gridtui.wiring.build_runtime`` with the default
settings: six markets, the simulator at its default 10 s tick, the spread
engine, the battery fleet, strategies, forecasts and alerts) on a SimClock
for ``--days`` simulated days into a fresh SQLite file and, unless
``--no-postgres``, a fresh PostgreSQL schema (the same seed and start, so the
same events). Then it measures the bytes the recording takes, compacts all
of it (``Store.compact``), and measures again. The baseline is the raw store
of the same run.

Extrapolated to a year: raw = 365 × the raw bytes per day; with retention =
``raw_days`` (30) × raw per day + the rest × compacted per day.

SQLite bytes are the file after a WAL checkpoint (new files hand freed pages
back through ``incremental_vacuum``); PostgreSQL bytes are
``pg_total_relation_size`` of the schema's tables after ``VACUUM FULL``
(a running server reuses freed space instead of shrinking the files).

Run: ``.venv/bin/python bench/recorder_disk.py [--days 7] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.clock import SimClock
from engine.store import rows as R
from engine.store.base import Store
from engine.store.compaction import CompactionReport
from engine.store.retention import RetentionConfig
from gridtui.settings.loader import load_settings
from gridtui.wiring import build_runtime

START = datetime(2025, 1, 6, tzinfo=UTC)
POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
MB = 1e6


async def record(store_url: str, schema: str, data_dir: str, days: float) -> tuple[Store, float]:
    """The engine for ``days`` of simulated time into the store; the store, still open."""
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": data_dir,
            "store": {"url": store_url, "schema": schema},
            "feed": {"start": START.isoformat()},
            "recorder": {"raw_days": 0},  # no job: the bench compacts by itself
        },
    )
    clock = SimClock(START)
    runtime = build_runtime(settings, clock=clock)
    await runtime.start()
    started = time.perf_counter()
    running = asyncio.create_task(runtime.run())
    end = START + timedelta(days=days)
    # The simulated clock is polled: nothing signals "a day has passed".
    while not running.done():
        if clock.now() >= end:
            break
        await asyncio.sleep(0.1)
    runtime.stop()
    await running
    await runtime.writer.close()  # every event committed
    return runtime.store, time.perf_counter() - started


async def counts(store: Store) -> dict[str, int]:
    return {name: await store.count(name) for name in R.TABLE_NAMES}


def sqlite_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path.stat().st_size


async def postgres_bytes(schema: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        for name in R.TABLE_NAMES:
            await conn.execute(f'VACUUM FULL "{schema}".{name}')
        total = await conn.fetchval(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'r'",
            schema,
        )
        return int(total)  # a numeric: sum() of bigints
    finally:
        await conn.close()


async def drop_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


def show_counts(before: dict[str, int], after: dict[str, int], days: float) -> None:
    print(f"  {'table':<20} {'rows/day raw':>14} {'rows/day kept':>14}")
    for name in R.TABLE_NAMES:
        if before[name] or after[name]:
            print(f"  {name:<20} {before[name] / days:>14,.0f} {after[name] / days:>14,.0f}")


def show_bytes(label: str, raw: int, compacted: int, days: float, raw_days: float) -> None:
    raw_day, compacted_day = raw / days, compacted / days
    year_raw = 365 * raw_day
    year_kept = min(raw_days, 365) * raw_day + max(365 - raw_days, 0) * compacted_day
    print(
        f"  {label}: raw {raw / MB:,.1f} MB = {raw_day / MB:,.2f} MB/day; "
        f"compacted {compacted / MB:,.2f} MB = {compacted_day / MB:,.3f} MB/day "
        f"({raw_day / max(compacted_day, 1):,.0f}x smaller)"
    )
    print(
        f"  a year of six markets at the 10 s tick: {year_raw / 1e9:,.2f} GB raw; "
        f"{year_kept / 1e9:,.3f} GB with retention ({raw_days:g} days raw, then hourly)"
    )


async def compact_all(store: Store, days: float) -> tuple[CompactionReport, float, list[float]]:
    """Compact everything recorded; also how long a store call waited meanwhile.

    A ``ping`` every 10 ms stands in for the writer: on SQLite it queues on the
    store's one thread behind the hour in progress, so its wait is how long a
    write would wait.
    """
    waits: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            await store.ping()
            waits.append(time.perf_counter() - asked)
            await asyncio.sleep(0.01)

    prober = asyncio.create_task(probe())
    started = time.perf_counter()
    report = await store.compact(START + timedelta(days=days))
    elapsed = time.perf_counter() - started
    done.set()
    await prober
    return report, elapsed, waits


def show_report(report: CompactionReport, elapsed_s: float, waits: list[float]) -> None:
    per_hour_ms = 1e3 * elapsed_s / max(report.hours, 1)
    thinned = ", ".join(f"{n:,} {t}" for t, n in sorted(report.thinned.items()))
    print(
        f"  compaction: {report.hours} hours in {elapsed_s:.2f} s ({per_hour_ms:.1f} ms an hour, "
        f"one transaction each); {report.ticks_folded:,} ticks folded into "
        f"{report.hourly_rows:,} hourly rows; thinned {thinned}"
    )
    if waits:
        ordered = sorted(waits)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"  a store call during compaction waited: median "
            f"{1e3 * statistics.median(waits):.1f} ms, p99 {1e3 * p99:.1f} ms, "
            f"max {1e3 * ordered[-1]:.1f} ms ({len(waits)} calls)"
        )


async def bench_sqlite(days: float, raw_days: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recorder.db"
        store, elapsed = await record(f"sqlite:{path}", "public", folder, days)
        print(f"SQLite ({days:g} simulated days recorded in {elapsed:.1f} s)")
        try:
            before, raw = await counts(store), sqlite_bytes(path)
            report, took, waits = await compact_all(store, days)
            after = await counts(store)
        finally:
            await store.close()
        compacted = sqlite_bytes(path)
        show_counts(before, after, days)
        show_report(report, took, waits)
        show_bytes("file", raw, compacted, days, raw_days)


async def bench_postgres(days: float, raw_days: float) -> None:
    schema = f"bench_recorder_{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            store, elapsed = await record(POSTGRES_DSN, schema, folder, days)
            print(f"PostgreSQL ({days:g} simulated days recorded in {elapsed:.1f} s)")
            try:
                before, raw = await counts(store), await postgres_bytes(schema)
                report, took, waits = await compact_all(store, days)
                after = await counts(store)
            finally:
                await store.close()
            compacted = await postgres_bytes(schema)
        show_counts(before, after, days)
        show_report(report, took, waits)
        show_bytes("tables and indexes", raw, compacted, days, raw_days)
    finally:
        await drop_schema(schema)


async def main(args: Any) -> None:
    raw_days = RetentionConfig().raw_days
    await bench_sqlite(args.days, raw_days)
    if not args.no_postgres:
        try:
            await bench_postgres(args.days, raw_days)
        except OSError as exc:
            print(f"PostgreSQL skipped: {exc}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0, help="simulated days to record")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    asyncio.run(main(parser.parse_args()))
