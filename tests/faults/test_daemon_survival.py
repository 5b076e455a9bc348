"""The whole daemon (feed → PostgreSQL, Redis bus, API, alert sinks) survives its servers
going away during ingest, and loses no row.

Both servers are the test's own (a throwaway PostgreSQL cluster and a throwaway
``redis-server`` on free ports), never the shared ones. The simulator starts at a
fixed timestamp with a fixed seed and a 2 ms tick, so every market's intraday
series must come out gap-free: one row for every tick slot from the first to the
last, which is what "nothing lost" means here.

The sequence:

1. ingest for a moment, then **stop PostgreSQL for 8 s** (the issue's scenario is
   30 s; 8 s proves the same property — about 140,000 ticks arrive meanwhile, far
   beyond the 20,000 the writer may hold in memory here, so both the memory
   buffer and the spill file are exercised — and keeps the test short).
   Meanwhile ``/health`` says ``degraded`` with the store down, ``/metrics`` shows
   the queue depth, and the daemon raises its own ``store_down`` alert;
2. restart PostgreSQL: the backlog drains (``store_recovered``);
3. **kill Redis** (SIGKILL) for 3 s: publishing fails and is counted, nothing
   crashes, ``bus_down`` goes to the sinks directly; restart it empty on the same
   port: the API's subscription reconnects and events flow again (``bus_recovered``);
4. SIGTERM: a clean flush (exit 0, nothing pending, no spill file left), then the
   rows are counted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.faults.test_kill9_postgres import TICK_INTERVAL_S, assert_consistent
from tests.stubs.pg_server import ThrowawayPostgres, free_port, postgres_binaries

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_binaries() is None, reason="PostgreSQL server binaries not installed"
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

# The issue says 30 s; CI uses 8 s (same property, shorter). GRIDTUI_TEST_PG_OUTAGE_S=30 runs it.
PG_OUTAGE_S = float(os.environ.get("GRIDTUI_TEST_PG_OUTAGE_S", "8"))
REDIS_OUTAGE_S = 3.0


class ThrowawayRedis:
    """A private redis-server without persistence on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def health(api: str) -> dict[str, Any]:
    try:
        return dict(get_json(f"{api}/health"))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))


def metric(api: str, name: str) -> float:
    with urllib.request.urlopen(f"{api}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"no metric {name}")


def wait_for(what: str, check, within_s: float, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert process.poll() is None, f"the daemon died while waiting for {what}"
        assert time.monotonic() < deadline, f"{what}: not within {within_s} s"
        time.sleep(0.1)


def alert_rules(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["rule"] for line in path.read_text().splitlines() if line.strip()]


def test_the_daemon_survives_postgres_and_redis_outages_and_loses_nothing(tmp_path: Path):
    start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    data_dir = tmp_path / "data"
    alerts_file = data_dir / "alerts.jsonl"
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    redis = ThrowawayRedis()
    redis.start()
    try:
        with ThrowawayPostgres() as postgres:
            env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
            env.update(
                GRIDTUI_DATA_DIR=str(data_dir),
                GRIDTUI_CONFIG="",
                GRIDTUI_STORE_MAX_BUFFERED="20000",
                GRIDTUI_ALERTS_JSONL_PATH="alerts.jsonl",
                GRIDTUI_ALERTS_LOG="false",
            )
            command = [
                sys.executable,
                "-m",
                "gridtui.cli",
                "daemon",
                "--store",
                postgres.dsn,
                "--bus",
                redis.url,
                "--port",
                str(port),
                "--tick-interval",
                str(TICK_INTERVAL_S),
                "--start",
                start.isoformat(),
                "--seed",
                "7",
                "--log-format",
                "json",
            ]
            daemon = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
            try:
                wait_for("the API", lambda: _up(api), 30, daemon)
                wait_for("first rows", lambda: health(api)["store"]["written"] > 3000, 30, daemon)

                # 1. PostgreSQL goes away during ingest.
                postgres.stop()
                outage_end = time.monotonic() + PG_OUTAGE_S
                wait_for("store down", lambda: not health(api)["store"]["up"], 10, daemon)
                assert health(api)["status"] == "degraded"
                wait_for(
                    "a backlog", lambda: metric(api, "gridtui_store_queue_depth") > 1000, 10, daemon
                )
                time.sleep(max(0.0, outage_end - time.monotonic()))
                assert metric(api, "gridtui_store_spilled_total") > 0  # beyond the memory bound
                # 2. It comes back: everything buffered and spilled is written.
                postgres.start()
                wait_for(
                    "the backlog to drain",
                    lambda: (h := health(api)["store"])["up"] and h["pending"] < 5000,
                    60,
                    daemon,
                )

                # 3. Redis dies, then comes back empty.
                seen_before = metric(api, "gridtui_bus_events_seen_total")
                redis.kill()
                wait_for("bus down", lambda: not health(api)["bus"]["up"], 10, daemon)
                time.sleep(REDIS_OUTAGE_S)
                assert metric(api, "gridtui_bus_errors_total") > 0
                redis.start()
                wait_for(
                    "events over the bus again",
                    lambda: metric(api, "gridtui_bus_events_seen_total") > seen_before + 1000,
                    30,
                    daemon,
                )
                wait_for("bus up", lambda: health(api)["bus"]["up"], 15, daemon)
                assert health(api)["status"] == "healthy"
            finally:
                # 4. A clean stop flushes everything.
                daemon.send_signal(signal.SIGTERM)
                try:
                    _, err = daemon.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    # The daemon's StopWatch has logged its pending tasks and threads by now.
                    daemon.kill()
                    _, err = daemon.communicate(timeout=10)
                    pytest.fail(f"no exit within 60 s of SIGTERM; it said:\n{err[-12000:]}")
            assert daemon.returncode == 0, err[-3000:]
            stopped = [
                json.loads(line)
                for line in err.splitlines()
                if '"message":"daemon stopped"' in line
            ]
            assert stopped and stopped[0]["pending"] == 0, err[-3000:]
            assert not list(data_dir.rglob("*.spill*"))
            rows = assert_consistent(postgres.dsn, start, gap_free=True)
            assert rows > 20_000
            rules = alert_rules(alerts_file)
            for rule in ("store_down", "store_recovered", "bus_down", "bus_recovered"):
                assert rule in rules, (rule, rules)
    finally:
        redis.kill()


def _up(api: str) -> bool:
    try:
        return health(api)["status"] in ("healthy", "degraded")
    except OSError:
        return False
