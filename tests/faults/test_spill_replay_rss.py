"""Replaying a 3M-event spill stays under 500 MB of RSS (issue 14, item 4).

``bench/spill_replay.py make`` writes a journal of 3,000,000 price ticks
(~357 MB, the size of the issue's); ``replay`` stores it with the real
BatchedWriter into SQLite in a fresh process, which reports its own peak RSS
(``VmHWM``; ``ru_maxrss`` would report this pytest process's peak, which
Linux carries into the child across fork and exec). Loading the whole file,
as the old writer did, peaked at 1.87 GB.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "spill_replay.py"
EVENTS = 3_000_000


def test_a_3m_event_spill_replays_under_500_mb(tmp_path: Path):
    made = subprocess.run(
        [sys.executable, str(BENCH), "make", str(tmp_path), "--events", str(EVENTS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr
    replayed = subprocess.run(
        [sys.executable, str(BENCH), "replay", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert replayed.returncode == 0, replayed.stderr
    match = re.search(r"stored (\d+) rows, peak RSS (\d+) MB", replayed.stdout)
    assert match, replayed.stdout
    assert int(match.group(1)) == EVENTS
    assert int(match.group(2)) < 500, replayed.stdout
    with sqlite3.connect(tmp_path / "gridtui.db") as conn:
        assert conn.execute("SELECT count(*) FROM prices").fetchone()[0] == EVENTS
    assert not list(tmp_path.glob("sqlite.spill*"))
