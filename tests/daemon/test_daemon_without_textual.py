"""The daemon runs with no terminal UI: a real `gridtui daemon` loads no Textual module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# Run the real command in a fresh interpreter, then say which UI modules it loaded.
RUN_DAEMON = """
import sys
from gridtui.cli import main
status = main(sys.argv[1:])
ui = ("textual", "gridtui.tui")
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "textual" or m.startswith(ui[1]))
print("status", status)
print("loaded", " ".join(loaded) or "-")
"""


def test_a_running_daemon_imports_neither_textual_nor_the_tui(tmp_path: Path):
    env = {**os.environ, "GRIDTUI_DATA_DIR": str(tmp_path), "COLUMNS": "100"}
    args = ["daemon", "--duration", "3", "--port", "0", "--tick-interval", "0.2"]
    args += ["--store", f"sqlite:{tmp_path / 'events.db'}"]
    done = subprocess.run(
        [sys.executable, "-c", RUN_DAEMON, *args],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines.get("status") == "0", done.stdout + done.stderr[-2000:]
    assert "API listening on http://127.0.0.1:" in done.stderr  # it did serve
    assert lines.get("loaded") == "-"
