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
from pathlib import Path

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
    pairs = re.findall(rf"\b[A-Z]{{2}}→[A-Z]{{2}}\s+{PRICE}", screen)
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
