"""Replay throughput: a price file played as fast as possible into the engine.

Plays ``../shared/data/prices_real_train.parquet`` (147,871 hourly prices of six
markets) or, when that is absent, a generated file of the same shape, through
:class:`feeds.replay.ReplayFeed` on a SimClock at infinite speed, and reports
ticks per second for:

* baseline: reading the file into time order (``load_prices``), no ticks;
* the bare feed: PriceTicks built and yielded, nothing consuming them;
* the engine as ``gridtui daemon --replay`` runs it: validation, the spread
  engine with its default config (it watches intraday prices, so replayed
  day-ahead prices pass it by), a MemoryBus with a viewer and the batched
  writer into a SQLite file, from the first batch until the last row is
  committed; the same into SQLite ``:memory:``, to show what the disk costs;
* the engine with the spread engine set to day-ahead prices, which then
  derives and stores about two opportunity events per tick: a backtest's load.

Run: ``.venv/bin/python bench/replay_throughput.py [--repeat 3]``.
Target (issue 4): ≥ 100,000 ticks/s into the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from engine.bus.memory import MemoryBus  # noqa: E402 — needs the path above
from engine.clock import SimClock  # noqa: E402
from engine.events import ALL_TOPICS, PriceKind  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.spreads.engine import SpreadConfig, SpreadEngine  # noqa: E402
from engine.store.sqlite import SqliteStore  # noqa: E402
from engine.store.writer import WriterConfig  # noqa: E402
from feeds.price_file import load_prices, peek_start  # noqa: E402
from feeds.replay import ReplayConfig, ReplayFeed  # noqa: E402

REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"
MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
TARGET_TICKS_S = 100_000


def generated_file(directory: Path) -> Path:
    """Three years of hourly prices for six markets, long format, like the real file."""
    hours = 3 * 8760
    start = datetime(2020, 1, 1, tzinfo=UTC)
    times = pd.DatetimeIndex([start + timedelta(hours=h) for h in range(hours)])
    rng = np.random.default_rng(42)
    frames = [
        pd.DataFrame(
            {
                "timestamp": times,
                "market": market,
                "price_eur_mwh": np.round(60 + 20 * rng.standard_normal(hours), 2),
            }
        )
        for market in MARKETS
    ]
    path = directory / "generated_prices.parquet"
    pd.concat(frames, ignore_index=True).to_parquet(path)
    return path


async def bare_feed(path: Path) -> tuple[float, int]:
    feed = ReplayFeed(ReplayConfig(path=str(path)))
    clock = SimClock(peek_start(path))
    started = time.perf_counter()
    count = 0
    async for batch in feed.stream(clock):
        count += len(batch)
    return count / (time.perf_counter() - started), count


async def engine(
    path: Path, store: SqliteStore, spreads_on: PriceKind = PriceKind.INTRADAY
) -> tuple[float, int, int]:
    runtime = Runtime(
        feed=ReplayFeed(ReplayConfig(path=str(path))),
        clock=SimClock(peek_start(path)),
        bus=MemoryBus(),
        store=store,
        components=[SpreadEngine(SpreadConfig(price_kind=spreads_on))],
        writer_config=WriterConfig(batch_size=10_000, max_age_s=0.2),
    )
    await runtime.start()
    viewer = await runtime.bus.subscribe(ALL_TOPICS, name="viewer", maxsize=10_000)
    started = time.perf_counter()
    stats = await runtime.run()
    await runtime.writer.close()  # the last row committed
    elapsed = time.perf_counter() - started
    stored = runtime.writer.stats.written
    rejected = runtime.validator.rejected_total
    _ = viewer.dropped
    await runtime.close()
    return stats.events_in / elapsed, stored, rejected


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):>10,.0f}  (min {min(values):,.0f}, max {max(values):,.0f})"


async def main_async(repeat: int) -> None:
    console = Console(width=110)
    with tempfile.TemporaryDirectory() as tmp:
        path = REAL_PRICES if REAL_PRICES.exists() else generated_file(Path(tmp))
        results: dict[str, list[float]] = {}
        count = stored = rejected = derived_total = 0
        for _ in range(repeat):
            started = time.perf_counter()
            rows = len(load_prices(path))
            results.setdefault("baseline: read the file (rows/s)", []).append(
                rows / (time.perf_counter() - started)
            )
            rate, count = await bare_feed(path)
            results.setdefault("bare replay feed (ticks/s)", []).append(rate)
            rate, stored, rejected = await engine(path, SqliteStore(Path(tmp) / "replay.db"))
            (Path(tmp) / "replay.db").unlink()
            results.setdefault("replay → engine → SQLite file (ticks/s)", []).append(rate)
            rate, _, _ = await engine(path, SqliteStore(":memory:"))
            results.setdefault("replay → engine → SQLite :memory: (ticks/s)", []).append(rate)
            rate, derived_total, _ = await engine(
                path, SqliteStore(":memory:"), spreads_on=PriceKind.DAY_AHEAD
            )
            results.setdefault("… with spreads on day-ahead → :memory: (ticks/s)", []).append(rate)

    title = f"replay throughput: {path.name}, {count:,} ticks, median of {repeat}"
    table = Table(title=title)
    table.add_column("what")
    table.add_column("rate", justify="right")
    for name, values in results.items():
        table.add_row(name, summary(values))
    console.print(table)
    into_engine = statistics.median(results["replay → engine → SQLite file (ticks/s)"])
    verdict = "meets" if into_engine >= TARGET_TICKS_S else "MISSES"
    console.print(
        f"into the engine (daemon path, SQLite file): {into_engine:,.0f} ticks/s "
        f"({verdict} the {TARGET_TICKS_S:,}/s target); stored {stored:,} of {count:,}, "
        f"rejected {rejected}"
    )
    console.print(
        f"with spreads on day-ahead prices the engine stores {derived_total:,} events "
        f"(ticks + opportunities) for {count:,} ticks"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args.repeat))


if __name__ == "__main__":
    main()
