"""Retention on the SQLite file itself: freed pages go back to the file system on new files,
an older file is upgraded and compacted in place, and the hourly reads stay index probes.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.events import Event, PriceKind, PriceTick
from engine.store.sqlite import SqliteStore
from engine.store.sqlite_migrations import MIGRATIONS
from engine.store.sqlite_retention import price_history_query

T = datetime(2024, 3, 5, tzinfo=UTC)


def day_of_ticks(markets: tuple[str, ...] = ("DE", "FR", "NL")) -> list[Event]:
    return [
        PriceTick(
            ts=T + timedelta(seconds=10 * i),
            market=market,
            price_eur_mwh=40.0 + (i * 7 + n) % 50,
            source="mock",
        )
        for i in range(8_640)
        for n, market in enumerate(markets)
    ]


def on_disk(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path.stat().st_size


async def test_a_new_file_shrinks_after_compaction(tmp_path):
    path = tmp_path / "gridtui.db"
    store = SqliteStore(path)
    await store.open()
    await store.write(day_of_ticks())
    full = on_disk(path)

    report = await store.compact(T + timedelta(days=1))

    assert report.hours == 24 and report.ticks_folded == 3 * 8_640
    assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    await store.close()
    # 72 hourly rows are all that is left of 25,920 ticks.
    assert on_disk(path) < full / 5


async def test_a_file_from_before_retention_is_upgraded_and_compacted(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for number, script in enumerate(MIGRATIONS[:4], start=1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
    conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5
        # Too late for auto_vacuum on a file with tables: freed pages are reused instead.
        assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
        await store.write(day_of_ticks(("DE",)))

        await store.compact(T + timedelta(hours=12))

        assert await store.count("price_ticks_hourly") == 12
        assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] > 0
        history = await store.price_history("DE", limit=10_000, kind=PriceKind.INTRADAY)
        assert len(history) == 12 + 8_640 // 2
    finally:
        await store.close()


async def test_history_across_the_cut_reads_two_key_ranges_never_a_scan(tmp_path):
    store = SqliteStore(tmp_path / "gridtui.db")
    await store.open()
    try:
        sql, params = price_history_query(
            "DE", start=T, end=T + timedelta(hours=6), limit=100, kind=PriceKind.INTRADAY
        )
        plan = [row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        # The SCANs left are of the two arms' own few rows (subquery-N), merged.
        searches = [
            step for step in plan if step.startswith(("SEARCH", "SCAN ")) and "subquery" not in step
        ]
        assert searches == [
            "SEARCH prices USING PRIMARY KEY (market=? AND kind=? AND ts>? AND ts<?)",
            "SEARCH price_ticks_hourly USING PRIMARY KEY "
            "(market=? AND kind=? AND hour_start>? AND hour_start<?)",
        ]
    finally:
        await store.close()
