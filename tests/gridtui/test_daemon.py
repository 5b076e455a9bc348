"""The real `gridtui daemon` process: starts, ingests, logs opportunities, stops cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

GRIDTUI = [sys.executable, "-m", "gridtui.cli"]


def daemon_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env["GRIDTUI_DATA_DIR"] = str(tmp_path / "data")
    env["GRIDTUI_CONFIG"] = ""
    return env


def test_help_teaches():
    out = subprocess.run([*GRIDTUI, "daemon", "--help"], capture_output=True, text=True, check=True)
    assert "examples:" in out.stdout
    assert "postgresql://" in out.stdout and "redis://" in out.stdout


def test_daemon_runs_for_a_duration_and_stores_ticks(tmp_path):
    db = tmp_path / "d.db"
    done = subprocess.run(
        [
            *GRIDTUI,
            "daemon",
            "--store",
            f"sqlite:{db}",
            "--tick-interval",
            "0.02",
            "--duration",
            "2",
        ],
        capture_output=True,
        text=True,
        env=daemon_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "daemon started" in done.stderr and "daemon stopped" in done.stderr
    assert "store=sqlite" in done.stderr and "bus=memory" in done.stderr
    with sqlite3.connect(db) as conn:
        intraday = conn.execute("SELECT count(*) FROM prices WHERE kind='intraday'").fetchone()[0]
        markets = {r[0] for r in conn.execute("SELECT DISTINCT market FROM prices")}
        day_ahead = conn.execute("SELECT count(*) FROM prices WHERE kind='day_ahead'").fetchone()[0]
    assert intraday >= 6 * 20
    assert markets == {"DE", "FR", "NL", "BE", "AT", "GB"}
    assert day_ahead >= 6 * 96


def test_sigterm_flushes_everything_and_exits_zero(tmp_path):
    db = tmp_path / "t.db"
    process = subprocess.Popen(
        [
            *GRIDTUI,
            "daemon",
            "--store",
            f"sqlite:{db}",
            "--tick-interval",
            "0.01",
            "--log-format",
            "json",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=daemon_env(tmp_path),
    )
    # Wait for the signal handlers (installed before "daemon started" is logged),
    # however slow start-up is on a busy machine, then let it ingest a while.
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if "daemon started" in line or not line:
            break
    assert "daemon started" in seen[-1], "".join(seen)
    time.sleep(2)
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=30)
    err = "".join(seen) + rest
    assert process.returncode == 0, err
    assert '"message":"daemon stopped"' in err
    assert "0 pending" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM prices").fetchone()[0] > 0
    assert not list((tmp_path / "data").rglob("*.spill"))


def test_unknown_store_is_a_clear_error(tmp_path):
    done = subprocess.run(
        [*GRIDTUI, "daemon", "--store", "mysql://x", "--duration", "1"],
        capture_output=True,
        text=True,
        env=daemon_env(tmp_path),
        timeout=30,
    )
    assert done.returncode != 0
    assert "unknown store 'mysql://x'" in done.stderr


def test_daemon_on_postgres_and_redis(tmp_path, postgres_schema, redis_prefix):
    import asyncio

    import asyncpg
    import redis

    dsn, schema = postgres_schema
    redis_url, prefix = redis_prefix
    env = daemon_env(tmp_path) | {"GRIDTUI_STORE_SCHEMA": schema, "GRIDTUI_BUS_PREFIX": prefix}
    done = subprocess.run(
        [
            *GRIDTUI,
            "daemon",
            "--store",
            dsn,
            "--bus",
            redis_url,
            "--tick-interval",
            "0.02",
            "--duration",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "store=postgresql" in done.stderr and "bus=redis" in done.stderr

    async def count() -> int:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            return int(await conn.fetchval("SELECT count(*) FROM prices WHERE kind = 'intraday'"))
        finally:
            await conn.close()

    assert asyncio.run(count()) >= 6 * 20
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.xlen(f"{prefix}:prices") > 0
    finally:
        client.close()
