"""The bearer token: made once with mode 0600, rotatable, required to mutate, never logged."""

from __future__ import annotations

import logging
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.store.base import BacktestRecord
from gridtui.daemon.app import all_routes
from gridtui.daemon.auth import RedactSecrets, TokenAuth, rotate_token
from gridtui.daemon.keys import API_SETTINGS
from tests.daemon.conftest import Daemon

# A body each mutating route accepts once authenticated (so success is not a 4xx).
GOOD_BODIES: dict[str, object] = {
    "/api/v1/backtest/start": {"start": "2024-01-01", "end": "2024-01-02", "strategies": ["alpha"]},
    "/api/v1/models/train": {"kind": "forecast"},
    "/api/v1/trading/strategies/{name}/toggle": {"on": True},
    "/api/v1/settings": {"alerts": {"cooldown_s": 10}},
    "/api/v1/rerun": {"since": "2024-03-01T12:00:00Z", "strategies": ["alpha"]},
}


def test_the_token_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "api-token"
    auth, created = TokenAuth.load_or_create(path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(auth.token) >= 40
    again, created_again = TokenAuth.load_or_create(path)
    assert not created_again and again.token == auth.token
    os.chmod(path, 0o644)
    TokenAuth.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # repaired


def test_rotation_takes_effect_in_a_running_daemon(tmp_path: Path) -> None:
    path = tmp_path / "api-token"
    auth, _ = TokenAuth.load_or_create(path)
    old = auth.token
    assert auth.check_header(f"Bearer {old}")
    rotate_token(path)
    assert not auth.check_header(f"Bearer {old}")
    assert auth.check_header(f"Bearer {path.read_text().strip()}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.unlink()  # a deleted file never opens the door: the last token stays in force
    assert not auth.check(None) and not auth.check("")
    assert not auth.check_header("Basic abc") and not auth.check_header(None)


async def test_every_mutating_route_needs_the_right_token(daemon: Daemon) -> None:
    mutating = [
        s for s in all_routes(daemon.app, daemon.app[API_SETTINGS].max_page_size) if s.mutating
    ]
    assert {s.path for s in mutating} >= set(GOOD_BODIES) | {"/api/v1/backtest/{run_id}"}
    await daemon.runtime.store.save_backtest(
        BacktestRecord(run_id="bt-x", created_at=daemon.clock.now(), state="finished")
    )

    async def trainer(request, progress) -> str:
        return "m"

    daemon.engine.trainer = trainer
    for spec in mutating:
        path = spec.path.replace("{name}", "alpha").replace("{run_id}", "bt-x")
        body = GOOD_BODIES.get(spec.path)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": daemon.token}):
            refused = await daemon.http.request(spec.method, path, json=body, headers=headers)
            assert refused.status == 401, (spec.path, headers)
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert "token" in (await refused.json())["error"]
        accepted = await daemon.http.request(spec.method, path, json=body, headers=daemon.headers)
        assert accepted.status in (200, 202, 204), (spec.path, await accepted.text())
    metrics = await (await daemon.http.get("/metrics")).text()
    assert f"gridtui_auth_failures_total {3.0 * len(mutating)}" in metrics


def test_redaction_filter_removes_secrets_from_log_lines(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("gridtui.test.redact")
    redactor = RedactSecrets("s3cr3t-token")
    caplog.handler.addFilter(redactor)
    try:
        logger.warning("token is %s", "s3cr3t-token", extra={"header": "Bearer s3cr3t-token"})
    finally:
        caplog.handler.removeFilter(redactor)
    assert "s3cr3t-token" not in caplog.text
    assert "***" in caplog.text
    assert getattr(caplog.records[0], "header") == "Bearer ***"  # noqa: B009


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_a_real_daemon_never_logs_its_token(tmp_path: Path) -> None:
    """Debug logging, access logs on, right and wrong tokens, a rotation: no token in the log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env.update(GRIDTUI_DATA_DIR=str(tmp_path / "data"), GRIDTUI_CONFIG="")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gridtui.cli",
        "daemon",
        "--store",
        f"sqlite:{tmp_path}/d.db",
        "--tick-interval",
        "0.05",
        "--port",
        str(port),
        "--log-level",
        "DEBUG",
    ]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        token_file = tmp_path / "data" / "api-token"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        first = token_file.read_text().strip()

        def post(token: str) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/trading/stop-all",
                method="POST",
                headers={"Authorization": f"Bearer {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        assert post(first) in (200, 503)  # authenticated: 503 while no strategy engine runs
        assert post(first + "x") == 401
        rotated = subprocess.run(
            [*command[:4], "--rotate-token"], env=env, capture_output=True, text=True, timeout=30
        )
        assert rotated.returncode == 0, rotated.stderr
        second = token_file.read_text().strip()
        assert second != first and second not in rotated.stdout + rotated.stderr
        assert post(first) == 401
        assert post(second) in (200, 503)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "API token created in" in err and "new token is in force" in err
    assert re.search(r"POST /api/v1/trading/stop-all", err)  # access log on at DEBUG
    for token in (first, second, first + "x"):
        assert token not in err
