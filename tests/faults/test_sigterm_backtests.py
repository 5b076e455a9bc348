"""SIGTERM while backtests run: they are cancelled and recorded, nothing leaks (issue 14, item 13).

A user started two year-long backtests over the API and stopped the daemon with
SIGTERM: the log filled with "Task exception was never retrieved … BusClosed"
(progress published after the bus had closed), the writer said events were still
pending although SQLite was up, and the runs vanished — never cancelled, never
recorded. A clean stop must cancel each running backtest, record it as
``cancelled`` (so ``/api/v1/backtest/history`` and the TUI show what happened to
it), publish nothing after the bus closes, and flush every event.

The daemon is a real subprocess (mock feed, embedded SQLite in a temp data dir,
the in-memory bus, and once more with the test's own throwaway ``redis-server``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.faults.test_daemon_survival import ThrowawayRedis
from tests.stubs.pg_server import free_port

pytestmark = pytest.mark.slow


def _call(api: str, path: str, token: str = "", body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        api + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _wait(what: str, check: Any, within_s: float, daemon: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert daemon.poll() is None, f"daemon exited while waiting for {what}"
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {within_s} s")


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_sigterm_cancels_and_records_running_backtests_without_a_traceback(
    tmp_path: Path, bus: str
):
    if bus == "redis" and shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    redis = ThrowawayRedis() if bus == "redis" else None
    data_dir = tmp_path / "data"
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env.update(GRIDTUI_DATA_DIR=str(data_dir), GRIDTUI_CONFIG="", GRIDTUI_ALERTS_LOG="false")
    command = [sys.executable, "-m", "gridtui.cli", "daemon", "--port", str(port)]
    command += ["--tick-interval", "0.5", "--seed", "3"]
    if redis is not None:
        redis.start()
        command += ["--bus", redis.url]
    try:
        daemon = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        try:
            _wait("API", lambda: _call(api, "/health")["status"] == "healthy", 30, daemon)
            token = (data_dir / "api-token").read_text().strip()
            runs = [
                _call(
                    api,
                    "/api/v1/backtest/start",
                    token,
                    {
                        "start": "2024-01-01",
                        "end": "2024-12-31",
                        "strategies": ["arbitrage", "battery"],
                        "data": "mock",
                    },
                )["run_id"]
                for _ in range(2)
            ]
            # Both under way, publishing progress.
            _wait(
                "progress",
                lambda: all(
                    _call(api, f"/api/v1/backtest/status/{run}", token).get("percent", 0) > 0
                    for run in runs
                ),
                60,
                daemon,
            )
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=60)
    finally:
        if redis is not None:
            redis.kill()

    assert daemon.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-4000:]
    assert "never retrieved" not in err, err[-4000:]
    assert "BusClosed" not in err, err[-4000:]
    stopped = [line for line in err.splitlines() if "daemon stopped" in line]
    assert stopped and "pending=0" in stopped[0], err[-3000:]
    for run in runs:
        assert f"backtest {run} cancelled" in err, err[-3000:]
    with sqlite3.connect(data_dir / "gridtui.db") as conn:
        states = dict(conn.execute("SELECT run_id, state FROM backtests").fetchall())
    assert states == {run: "cancelled" for run in runs}
    # Every file the daemon made is the owner's alone (issue 14: gridtui.db was 0644).
    modes = {str(p.relative_to(data_dir)): p.stat().st_mode & 0o777 for p in data_dir.rglob("*")}
    modes["."] = data_dir.stat().st_mode & 0o777
    assert modes and all(
        mode == (0o700 if (data_dir / name).is_dir() else 0o600) for name, mode in modes.items()
    ), modes
