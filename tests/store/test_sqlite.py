"""SqliteStore beyond the contract suite: its reads stay index probes as tables grow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.store.sqlite import LATEST_PRICE_SQL, OPPORTUNITIES_SINCE_SQL, SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    backend = SqliteStore(tmp_path / "gridtui.db")
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


def plan(store: SqliteStore, sql: str) -> list[str]:
    rows = store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", (0,) * sql.count("?")).fetchall()
    return [row["detail"] for row in rows]


def test_latest_price_is_one_probe_of_the_key(store):
    # A search of the key, in key order: no scan, no sort (no "TEMP B-TREE").
    assert plan(store, LATEST_PRICE_SQL) == [
        "SEARCH prices USING PRIMARY KEY (market=? AND kind=?)"
    ]


def test_recent_opportunities_are_a_range_of_the_time_first_key(store):
    assert plan(store, OPPORTUNITIES_SINCE_SQL) == ["SEARCH opportunities USING PRIMARY KEY (ts>?)"]
