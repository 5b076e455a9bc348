"""`gridtui serve` without a browser: its help, what it refuses, trade tickets, read-only tabs.

The browser itself is in tests/browser/test_serve.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gridtui.client.remote import RemoteAuthError, RemoteClient
from gridtui.commands.dashboard import READ_ONLY_REFUSAL
from gridtui.serve.session import TOKEN_VARIABLE, DashboardSession, dashboard_command
from gridtui.serve.tickets import TradeTickets

GRIDTUI = [sys.executable, "-m", "gridtui.cli"]


def env_for(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env |= {"GRIDTUI_DATA_DIR": str(tmp_path / "data"), "GRIDTUI_CONFIG": ""}
    return env


def gridtui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GRIDTUI, *args], capture_output=True, text=True, env=env_for(tmp_path), timeout=60
    )


def test_help_teaches(tmp_path):
    done = gridtui(tmp_path, "serve", "--help")
    assert done.returncode == 0
    assert "examples:" in done.stdout and "gridtui serve --connect http://" in done.stdout
    assert "?token=" in done.stdout and "watch only" in done.stdout
    listed = gridtui(tmp_path, "--help")
    assert "serve" in listed.stdout


def test_a_non_local_bind_needs_allow_remote(tmp_path):
    done = gridtui(tmp_path, "serve", "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 2
    assert "--allow-remote" in done.stderr and "'0.0.0.0'" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_connect_url_and_port_name_the_flag(tmp_path):
    done = gridtui(tmp_path, "serve", "--connect", "ftp://nowhere")
    assert done.returncode == 2
    assert "--connect" in done.stderr and "'ftp://nowhere'" in done.stderr
    done = gridtui(tmp_path, "serve", "--port", "70000")
    assert done.returncode == 2 and "--port" in done.stderr and "0–65535" in done.stderr


def test_an_unreachable_daemon_is_a_clear_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    done = gridtui(tmp_path, "serve", "--connect", f"http://127.0.0.1:{port}", "--port", "0")
    assert done.returncode == 1
    assert f"cannot attach to http://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_tickets_stand_for_a_token_until_they_expire():
    clock = [0.0]
    tickets = TradeTickets(ttl_s=60, now=lambda: clock[0])
    first = tickets.issue("secret-token")
    second = tickets.issue("secret-token")
    assert first != second and "secret-token" not in first
    assert tickets.token_for(first) == "secret-token"
    assert tickets.token_for("made-up") is None and tickets.token_for(None) is None
    clock[0] = 61.0
    assert tickets.token_for(first) is None
    tickets.issue("other")
    assert len(tickets) == 1  # the expired one was forgotten


def test_a_watching_tab_gets_no_token_and_a_trading_tab_only_its_own(monkeypatch):
    monkeypatch.setenv(TOKEN_VARIABLE, "inherited-from-serve")

    async def ignore(_: object) -> None: ...

    def environment(token: str | None) -> dict[str, str]:
        session = DashboardSession(
            "true",
            token=token,
            write_bytes=ignore,
            write_str=ignore,
            close=ignore,
            download_manager=None,
        )
        return session._build_environment(80, 24)

    assert TOKEN_VARIABLE not in environment(None)
    assert environment("tab-token")[TOKEN_VARIABLE] == "tab-token"
    watching = dashboard_command("http://127.0.0.1:8765", read_only=True)
    trading = dashboard_command("http://127.0.0.1:8765", read_only=False)
    assert watching.endswith("--read-only") and "--read-only" not in trading
    assert "token" not in watching + trading  # never on a command line


async def test_a_read_only_client_refuses_commands_saying_why():
    client = RemoteClient("http://127.0.0.1:9", no_token_reason=READ_ONLY_REFUSAL)
    try:
        with pytest.raises(RemoteAuthError, match="read-only"):
            await client.toggle_strategy("arbitrage", True)
        with pytest.raises(RemoteAuthError, match=r"\?token="):
            await client.stop_all_strategies()
    finally:
        await client.close()


def test_read_only_needs_a_daemon_to_watch(tmp_path):
    done = gridtui(tmp_path, "--read-only")
    assert done.returncode == 2
    assert "--read-only" in done.stderr and "--connect" in done.stderr
