"""Spill replay: peak memory and speed of replaying a large spill journal.

A long store outage leaves millions of events in the writer's spill journal
(:mod:`engine.store.spill`); the next start replays them. This bench writes a
journal of ``--events`` price ticks, then replays it in a fresh process with
the real :class:`~engine.store.writer.BatchedWriter` into a SQLite store, and
prints the journal's size, the rows stored, the replay time and the replay
process's peak RSS (``VmHWM``; the target is under 500 MB for 3M events,
where loading the whole file used to peak at 1.87 GB).

Run: ``.venv/bin/python bench/spill_replay.py [--events 3000000]``.

The fault tests (``tests/faults/test_spill_*.py``) use the two steps on their
own: ``make DIR --events N`` writes the journal ``DIR/sqlite.spill``;
``replay DIR`` replays it into ``DIR/gridtui.db``, printing ``replaying N`` when
it starts and ``stored N rows, peak RSS M MB`` at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from engine.clock import LiveClock  # noqa: E402 — needs the path above
from engine.events import PriceKind, PriceTick  # noqa: E402
from engine.store.spill import RECORD_EVENTS, SpillJournal  # noqa: E402
from engine.store.sqlite import SqliteStore  # noqa: E402
from engine.store.writer import BatchedWriter, WriterConfig  # noqa: E402

T0 = datetime(2024, 3, 1, tzinfo=UTC)
MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


def ticks(start: int, count: int) -> list[PriceTick]:
    """Ticks ``start`` .. ``start + count - 1``: one row each, keyed by market and time."""
    return [
        PriceTick(
            ts=T0 + timedelta(milliseconds=i // len(MARKETS)),
            market=MARKETS[i % len(MARKETS)],
            price_eur_mwh=float(i % 997),
            kind=PriceKind.INTRADAY,
            source="bench",
        )
        for i in range(start, start + count)
    ]


def make(directory: Path, events: int) -> None:
    journal = SpillJournal(directory / "sqlite.spill")
    journal.open()
    for start in range(0, events, RECORD_EVENTS):
        journal.append(ticks(start, min(RECORD_EVENTS, events - start)))
    journal.close()
    size = (directory / "sqlite.spill").stat().st_size
    print(f"spilled {events} events, {size / 1e6:.0f} MB", flush=True)


async def replay(directory: Path, batch_size: int) -> None:
    store = SqliteStore(directory / "gridtui.db")
    await store.open()
    config = WriterConfig(batch_size=batch_size, spill_path=str(directory / "sqlite.spill"))
    writer = BatchedWriter(store, LiveClock(), config)
    began = time.perf_counter()
    await writer.start()
    print(f"replaying {writer.pending}", flush=True)
    while writer.pending:  # noqa: ASYNC110 — the writer has no "all stored" event to wait on
        await asyncio.sleep(0.05)
    await writer.close()
    elapsed = time.perf_counter() - began
    rows = await store.count("prices")
    await store.close()
    peak_mb = peak_rss_kib() / 1024
    print(
        f"stored {rows} rows, peak RSS {peak_mb:.0f} MB, {elapsed:.1f} s "
        f"({rows / max(elapsed, 1e-9):,.0f} rows/s)",
        flush=True,
    )


def peak_rss_kib() -> int:
    """This process's own peak RSS: ``VmHWM`` of its address space.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries that across fork and
    exec, so a replay started from a large parent (a pytest run at ~800 MB)
    reported the parent's peak instead of its own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: peak RSS needs Linux")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=("make", "replay"))
    parser.add_argument("dir", nargs="?", type=Path)
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--batch", type=int, default=WriterConfig().batch_size)
    args = parser.parse_args()
    if args.step == "make":
        make(args.dir, args.events)
    elif args.step == "replay":
        asyncio.run(replay(args.dir, args.batch))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            make(Path(tmp), args.events)
            # A fresh process, so that its peak RSS is the replay's alone.
            command = [sys.executable, __file__, "replay", tmp, "--batch", str(args.batch)]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
