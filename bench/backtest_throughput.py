"""Backtest throughput: a year of six markets through the engine, beside a bare replay.

Plays one year of ``../shared/data/prices_real_train.parquet`` (2022: six markets,
hourly day-ahead, ~50,000 prices) — or, when that file is absent, a generated
year of the same shape — and reports, in the same run:

* **bare replay**: the replay feed on a SimClock, PriceTicks built and thrown
  away (the ceiling: nothing consumes them);
* **engine, no strategies**: the backtest runtime (validation, the spread
  engine on day-ahead prices, bus, recorder) with no strategy;
* **backtest, every strategy with inputs**: arbitrage, battery (MPC, as
  shipped), technical and mining (ML has no forecaster in a price file,
  fundamental no fundamentals) — the figure the issue asks for;
* the same with the battery on the rule, and without the battery, to show
  where the time goes.

Engine events/s counts what passes through the kernel: the ticks in plus every
event derived from them (spread opportunities, trades, audit entries, battery
states, strategy statuses, progress), over the kernel's run time. "Whole run"
adds reading the file, building the strategies and the perfect-foresight LP.

Run: ``.venv/bin/python bench/backtest_throughput.py [--repeat 3]``.
Targets (issue 7): a year in ≤ 10 s; ≥ 100,000 engine events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from engine.backtest.config import BacktestConfig  # noqa: E402
from engine.backtest.result import BacktestResult  # noqa: E402
from engine.backtest.run import run_backtest  # noqa: E402
from engine.backtest.window_feed import WindowFeed  # noqa: E402
from engine.clock import SimClock  # noqa: E402
from engine.strategies import registry  # noqa: E402
from feeds.replay import ReplayConfig, ReplayFeed  # noqa: E402

REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"
MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
YEAR_START = datetime(2022, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2023, 1, 1, tzinfo=UTC)
TARGET_EVENTS_S = 100_000
TARGET_YEAR_S = 10.0


def generated_year(directory: Path) -> Path:
    """A year of hourly prices for six markets with a daily shape, long format."""
    hours = 365 * 24
    times = pd.date_range(YEAR_START, periods=hours, freq="h", tz="UTC")
    rng = np.random.default_rng(42)
    shape = 30 * np.sin((np.arange(hours) % 24 - 6) / 24 * 2 * np.pi)
    frames = [
        pd.DataFrame(
            {
                "timestamp": times,
                "market": market,
                "price_eur_mwh": np.round(80 + 8 * i + shape + 25 * rng.standard_normal(hours), 2),
            }
        )
        for i, market in enumerate(MARKETS)
    ]
    path = directory / "generated_year.parquet"
    pd.concat(frames, ignore_index=True).to_parquet(path)
    return path


async def bare_replay(path: Path) -> tuple[float, int]:
    """Ticks per second of the replay feed alone, over the same year."""
    feed = WindowFeed(ReplayFeed(ReplayConfig(path=str(path))), YEAR_START, YEAR_END)
    clock = SimClock(YEAR_START)
    started = time.perf_counter()
    count = 0
    async for batch in feed.stream(clock):
        count += len(batch)
    return count / (time.perf_counter() - started), count


async def backtest(path: Path, kinds: tuple[str, ...], battery: str = "mpc") -> BacktestResult:
    strategies = [
        registry.build(kind, {"controller": battery} if kind == "battery" else None)
        for kind in kinds
    ]
    return await run_backtest(
        BacktestConfig(
            run_id="bench",
            start=YEAR_START,
            end=YEAR_END,
            strategies=kinds,
            data=str(path),
            markets=MARKETS,
        ),
        ReplayFeed(ReplayConfig(path=str(path))),
        strategies,
    )


def summary(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{statistics.median(values):>10,.0f}  (min {low:,.0f}, max {high:,.0f})"


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):>8.2f} s  (min {min(values):.2f}, max {max(values):.2f})"


async def main_async(repeat: int) -> None:
    console = Console(width=120)
    every = ("arbitrage", "battery", "ml", "technical", "fundamental", "mining")
    runs = {
        "engine, no strategies": ((), "mpc"),
        "backtest, every strategy with inputs (battery MPC)": (every, "mpc"),
        "… battery on the rule": (every, "rule"),
        "… without the battery": (tuple(k for k in every if k != "battery"), "mpc"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = REAL_PRICES if REAL_PRICES.exists() else generated_year(Path(tmp))
        await backtest(path, ("technical",))  # warm up: imports, first read of the file
        bare: list[float] = []
        rates: dict[str, list[float]] = {name: [] for name in runs}
        ticks: dict[str, list[float]] = {name: [] for name in runs}
        engine_s: dict[str, list[float]] = {name: [] for name in runs}
        whole_s: dict[str, list[float]] = {name: [] for name in runs}
        # CPU seconds too: on a shared machine the wall clock counts other people's work.
        cpu_s: dict[str, list[float]] = {name: [] for name in runs}
        last: dict[str, BacktestResult] = {}
        count = 0
        for _ in range(repeat):
            rate, count = await bare_replay(path)
            bare.append(rate)
            for name, (kinds, battery) in runs.items():
                started = time.perf_counter()
                cpu_started = time.process_time()
                result = await backtest(path, kinds, battery)
                whole_s[name].append(time.perf_counter() - started)
                cpu_s[name].append(time.process_time() - cpu_started)
                rates[name].append(result.events_per_s)
                ticks[name].append(result.ticks_per_s)
                engine_s[name].append(result.engine_s)
                last[name] = result

    table = Table(
        title=f"backtest throughput: {path.name}, {YEAR_START:%Y}, {count:,} ticks, "
        f"median of {repeat}"
    )
    table.add_column("what")
    table.add_column("engine events/s", justify="right")
    table.add_column("ticks/s", justify="right")
    table.add_column("engine", justify="right")
    table.add_column("whole run", justify="right")
    table.add_column("whole run, CPU", justify="right")
    table.add_row("bare replay feed (nothing consumes the ticks)", summary(bare), summary(bare))
    for name in runs:
        result = last[name]
        label = (
            f"{name}\n  {result.events_in:,} in + {result.events_derived:,} derived, "
            f"{len(result.trades):,} trades"
        )
        table.add_row(
            label,
            summary(rates[name]),
            summary(ticks[name]),
            seconds(engine_s[name]),
            seconds(whole_s[name]),
            seconds(cpu_s[name]),
        )
    console.print(table)
    main = "backtest, every strategy with inputs (battery MPC)"
    rate = statistics.median(rates[main])
    year = statistics.median(whole_s[main])
    console.print(
        f"a year, every strategy with inputs: {year:.2f} s "
        f"({'meets' if year <= TARGET_YEAR_S else 'MISSES'} the {TARGET_YEAR_S:g} s target); "
        f"{rate:,.0f} engine events/s "
        f"({'meets' if rate >= TARGET_EVENTS_S else 'MISSES'} the {TARGET_EVENTS_S:,}/s target); "
        f"bare replay {statistics.median(bare):,.0f} ticks/s"
    )
    result = last[main]
    cpu = statistics.median(cpu_s[main])
    console.print(
        f"per CPU second of the whole run (file, strategies, perfect foresight included): "
        f"{(result.events_in + result.events_derived) / cpu:,.0f} events/s, "
        f"{result.events_in / cpu:,.0f} ticks/s"
    )
    skipped = last[main].skipped
    if skipped:
        console.print("left out: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args.repeat))


if __name__ == "__main__":
    main()
