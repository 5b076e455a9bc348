"""A real terminal: tmux starts `gridtui`, we read the screen, press q, check the exit status.

This is the closest a test gets to an operator on SSH: the installed entry point,
a fresh pseudo-terminal, no mouse. It uses its own tmux server socket, a
temporary data dir and config home (the user's data and config are never
touched), and a fast mock feed. Skipped when tmux is not installed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

TMUX = shutil.which("tmux")
GRIDTUI = Path(sys.executable).parent / "gridtui"
MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
PRICE = r"-?[\d,]+\.\d\d"

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def tmux(socket: str, *args: str) -> str:
    assert TMUX is not None
    done = subprocess.run(
        [TMUX, "-L", socket, "-f", os.devnull, *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout


def prices_and_spreads_shown(screen: str) -> bool:
    rows = [re.search(rf"^\W*{m}\s+{PRICE}", screen, re.MULTILINE) for m in MARKETS]
    # A pair and a price on its row: which columns show between them depends on the
    # pane's width (narrow panes drop whole columns, issue 15).
    pairs = re.findall(rf"\b[A-Z]{{2}}→[A-Z]{{2}}\b[^\n]*?\s{PRICE}", screen)
    return all(rows) and "Spreads" in screen and len(pairs) >= 3


def test_gridtui_shows_prices_and_spreads_within_5s_and_q_exits_0(tmp_path: Path) -> None:
    if not GRIDTUI.exists():
        pytest.skip(f"{GRIDTUI} is not installed (pip install -e .)")
    socket = f"gridtui-test-{os.getpid()}"
    exit_file = tmp_path / "exit-status"
    env = {
        "GRIDTUI_DATA_DIR": str(tmp_path / "data"),
        "GRIDTUI_FEED_TICK_INTERVAL_S": "0.2",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    # COLUMNS/LINES from the test runner would override the real terminal size.
    script = tmp_path / "run.sh"
    script.write_text(
        f"unset GRIDTUI_CONFIG COLUMNS LINES\nexport {exports}\n{shlex.quote(str(GRIDTUI))}\n"
        f"echo $? > {shlex.quote(str(exit_file))}\n"
    )
    started = time.monotonic()
    tmux(socket, "new-session", "-d", "-x", "140", "-y", "40", "-s", "gridtui", f"sh {script}")
    try:
        screen = ""
        while time.monotonic() - started < 5.0:
            screen = tmux(socket, "capture-pane", "-p", "-t", "gridtui")
            if prices_and_spreads_shown(screen):
                break
            time.sleep(0.1)
        assert prices_and_spreads_shown(screen), f"after 5 s the screen shows:\n{screen}"

        tmux(socket, "send-keys", "-t", "gridtui", "q")
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists(), "gridtui did not exit after q"
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([str(TMUX), "-L", socket, "kill-server"], capture_output=True, timeout=10)

    # q flushed the store: the ticks it showed are on disk.
    with sqlite3.connect(tmp_path / "data" / "gridtui.db") as db:
        (stored,) = db.execute("SELECT count(*) FROM prices WHERE kind = 'intraday'").fetchone()
    assert stored >= len(MARKETS)


def wait_for(socket: str, seen: Callable[[str], bool], timeout_s: float, what: str) -> str:
    """Poll the tmux pane until ``seen(screen)``; fail with the screen if it never is."""
    deadline = time.monotonic() + timeout_s
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux(socket, "capture-pane", "-p", "-t", "gridtui")
        if seen(screen):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"after {timeout_s:g} s, no {what}; the screen shows:\n{screen}")


MARKET_CLOCK = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d) (?P<local>\d\d:\d\d) (?P<zone>CES?T) · (?:\d\d-\d\d )?"
    r"(?P<utc>\d\d:\d\d) UTC"
)


def test_at_80x24_palette_help_and_market_clock_work_and_q_exits_0(tmp_path: Path) -> None:
    """Issue 15 on a real terminal: Ctrl+P runs an action, ? opens help, the clock shows."""
    if not GRIDTUI.exists():
        pytest.skip(f"{GRIDTUI} is not installed (pip install -e .)")
    socket = f"gridtui-test-80x24-{os.getpid()}"
    exit_file = tmp_path / "exit-status"
    env = {
        "GRIDTUI_DATA_DIR": str(tmp_path / "data"),
        "GRIDTUI_FEED_TICK_INTERVAL_S": "0.2",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    script = tmp_path / "run.sh"
    script.write_text(
        f"unset GRIDTUI_CONFIG COLUMNS LINES\nexport {exports}\n{shlex.quote(str(GRIDTUI))}\n"
        f"echo $? > {shlex.quote(str(exit_file))}\n"
    )
    tmux(socket, "new-session", "-d", "-x", "80", "-y", "24", "-s", "gridtui", f"sh {script}")
    try:
        # Generous: on a loaded 2-core CI box the first frame took 8 s (issue 15 is not latency).
        screen = wait_for(socket, lambda s: MARKET_CLOCK.search(s) is not None, 30, "clock")
        status = screen.splitlines()[0]
        found = MARKET_CLOCK.search(status)
        assert found, f"the clock is not on the status line: {status!r}"
        # The simulator runs on the wall clock here: the bar shows now, in Brussels.
        brussels = ZoneInfo("Europe/Brussels")
        when = f"{found['date']} {found['local']}"
        shown = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=brussels)
        assert abs((datetime.now(UTC) - shown).total_seconds()) < 180, status
        assert found["zone"] == shown.tzname(), status
        assert found["utc"] == f"{shown.astimezone(UTC):%H:%M}", status
        assert "sim 1×" in status and "▶ SIM" in status, status

        tmux(socket, "send-keys", "-t", "gridtui", "?")
        wait_for(socket, lambda s: "gridtui keys" in s and "List every key" in s, 5, "help")
        tmux(socket, "send-keys", "-t", "gridtui", "End")  # 24 rows: the list scrolls
        wait_for(socket, lambda s: "gridtui keys" in s and "Command palette" in s, 5, "help's end")
        tmux(socket, "send-keys", "-t", "gridtui", "Escape")
        wait_for(socket, lambda s: "gridtui keys" not in s, 5, "help closing")

        tmux(socket, "send-keys", "-t", "gridtui", "C-p")
        wait_for(socket, lambda s: "🔎" in s or "Search for commands" in s, 5, "command palette")
        tmux(socket, "send-keys", "-t", "gridtui", "-l", "Pause")
        wait_for(socket, lambda s: "Pause / resume rendering" in s, 5, "Pause in the palette")
        tmux(socket, "send-keys", "-t", "gridtui", "Enter")
        wait_for(socket, lambda s: "⏸ PAUSED" in s.splitlines()[0], 5, "the pause it ran")

        tmux(socket, "send-keys", "-t", "gridtui", "q")
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists(), "gridtui did not exit after q"
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([str(TMUX), "-L", socket, "kill-server"], capture_output=True, timeout=10)
