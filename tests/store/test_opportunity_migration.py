"""The migration that keys opportunities by time and event sequence, on both backends.

Rows stored before ``seq`` existed must come out numbered in their lifecycle
order (opened, updates, closed), so that the new key holds them all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

import asyncpg

from engine.store import postgres_migrations
from engine.store.postgres import PostgresStore
from engine.store.sqlite import SqliteStore, to_us
from engine.store.sqlite_migrations import MIGRATIONS
from tests.stubs.builders import T0

# (status, seconds after T0, opened_at seconds): one opportunity opened and
# updated in the same second, updated again and closed; then a second one.
OLD_ROWS = [
    ("updated", 0, 0),
    ("opened", 0, 0),
    ("closed", 120, 0),
    ("updated", 60, 0),
    ("opened", 300, 300),
    ("closed", 360, 300),
]
EXPECTED = [  # (status, seconds, seq), in the store's order
    ("opened", 0, 0),
    ("updated", 0, 1),
    ("updated", 60, 2),
    ("closed", 120, 3),
    ("opened", 300, 0),
    ("closed", 360, 1),
]


def old_rows(time_at: Callable[[int], object]) -> list[tuple[object, ...]]:
    """OLD_ROWS in the column order before ``seq``, times given by ``time_at(seconds)``."""
    prices_and_the_rest = (60.0, 80.0, 20.0, 1.0, 19.0, 0.0, None, None)
    return [
        ("DE", "FR", time_at(opened_s), status, time_at(seconds), *prices_and_the_rest)
        for status, seconds, opened_s in OLD_ROWS
    ]


async def stored(store: SqliteStore | PostgresStore) -> list[tuple[str, int, int]]:
    found = await store.opportunities_since(T0)
    return [(o.status.value, int((o.ts - T0).total_seconds()), o.seq) for o in found]


async def test_sqlite_numbers_the_rows_stored_before_seq(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")
    t0_us = to_us(T0)
    conn.executemany(
        "INSERT INTO opportunities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        old_rows(lambda seconds: t0_us + seconds * 1_000_000),
    )
    conn.close()

    store = SqliteStore(path)
    await store.open()
    try:
        assert await stored(store) == EXPECTED
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "opportunities_ts" not in indexes  # the key, time first, serves range queries


async def test_postgres_numbers_the_rows_stored_before_seq(postgres_schema, monkeypatch):
    dsn, schema = postgres_schema
    with monkeypatch.context() as before:
        before.setattr(postgres_migrations, "MIGRATIONS", postgres_migrations.MIGRATIONS[:3])
        old = PostgresStore(dsn, schema=schema)
        await old.open()
        await old.close()
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        await conn.copy_records_to_table(
            "opportunities",
            records=old_rows(lambda seconds: T0 + timedelta(seconds=seconds)),
        )
    finally:
        await conn.close()

    store = PostgresStore(dsn, schema=schema)
    await store.open()
    try:
        assert await stored(store) == EXPECTED
    finally:
        await store.close()
