"""`kill -9` of a daemon while it ingests into PostgreSQL, then a restart.

The daemon runs on its own throwaway PostgreSQL (never the shared server). The
simulator is started at a fixed timestamp with a fixed seed, so the restarted
daemon re-emits exactly the events the killed one produced: the idempotent
writes must keep one row each, and once the restarted daemon has caught up the
intraday ticks must be a gap-free series from the first one — nothing lost,
nothing half-written. (Right after the kill a gap is allowed: the writer keeps
two transactions in flight, so a later batch may have committed before an
earlier one that died with the process.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.stubs.pg_server import ThrowawayPostgres, postgres_binaries

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_binaries() is None, reason="PostgreSQL server binaries not installed"
    ),
]

TICK_INTERVAL_S = 0.002
TICK_US = int(TICK_INTERVAL_S * 1_000_000)


def daemon(dsn: str, start: datetime, data_dir: str, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env.update(GRIDTUI_DATA_DIR=data_dir, GRIDTUI_CONFIG="")
    command = [
        sys.executable,
        "-m",
        "gridtui.cli",
        "daemon",
        "--store",
        dsn,
        "--tick-interval",
        str(TICK_INTERVAL_S),
        "--start",
        start.isoformat(),
        "--seed",
        "7",
        *extra,
    ]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


async def query(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def fetch(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    return asyncio.run(query(dsn, sql))


def stored_intraday(dsn: str) -> int:
    try:
        return int(fetch(dsn, "SELECT count(*) FROM prices WHERE kind = 'intraday'")[0][0])
    except Exception:  # the table does not exist before the first migration
        return 0


def assert_consistent(dsn: str, start: datetime, *, gap_free: bool) -> int:
    """No duplicate keys anywhere; with ``gap_free``, intraday ticks have no hole."""
    for table, key in [
        ("prices", "market, kind, ts"),
        ("opportunities", "buy_market, sell_market, opened_at, status, ts"),
    ]:
        duplicates = fetch(dsn, f"SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1")
        assert duplicates == [], f"duplicate rows in {table}: {duplicates[:5]}"
    per_market = fetch(
        dsn,
        "SELECT market, count(*), min(ts), max(ts) FROM prices"
        " WHERE kind = 'intraday' GROUP BY market ORDER BY market",
    )
    assert {row[0] for row in per_market} == {"DE", "FR", "NL", "BE", "AT", "GB"}
    total = 0
    for market, count, first, last in per_market:
        assert first == start, f"{market} does not start at the first tick"
        expected = (last - first) // timedelta(microseconds=TICK_US) + 1
        assert count <= expected
        if gap_free:
            assert count == expected, f"{market}: {count} ticks but {expected} slots: a gap"
        total += int(count)
    versions = fetch(dsn, "SELECT version, count(*) FROM schema_migrations GROUP BY version")
    assert all(n == 1 for _, n in versions)
    return total


def test_kill_dash_nine_during_ingest_then_restart(tmp_path):
    start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    with ThrowawayPostgres() as server:
        server.start()
        first = daemon(server.dsn, start, str(tmp_path / "data"))
        deadline = time.monotonic() + 60
        while stored_intraday(server.dsn) < 3_000:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            assert time.monotonic() < deadline, "the daemon stored too little in 60 s"
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        survived = assert_consistent(server.dsn, start, gap_free=False)
        assert survived >= 3_000

        second = daemon(server.dsn, start, str(tmp_path / "data"), "--duration", "6")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err
        after_restart = assert_consistent(server.dsn, start, gap_free=True)
        assert after_restart > survived
