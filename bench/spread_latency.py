"""Spread latency: the engine's own cost per tick, and tick-to-opportunity through the pipeline.

For each zone count of ``--zones`` (default ``6,40``: today's six markets, the
baseline, and the first 40 zones of :data:`engine.market.zones.ZONES`, 780 pairs):

1. **spread update per tick**: ``--ticks`` synthetic ticks (round-robin over the
   markets, prices random-walking around each other so opportunities open,
   update and close all the time) go straight into one :class:`SpreadEngine`;
   each ``on_tick`` call is timed. Target (issue 17): p99 ≤ 1 ms at 40 zones.
2. **pipeline**: a paced feed emits one tick at a time at ``--rate`` ticks/s
   through the runtime (bus, store, spread engine); the time from a tick's
   creation to a bus subscriber holding the opportunity event it caused is
   measured, beside the bare bus hop of the tick itself. Target (issue 2):
   p99 tick-to-opportunity ≤ 10 ms.

Run: ``.venv/bin/python bench/spread_latency.py [--zones 6,40] [--rate 1000] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from engine.bus.base import Subscription
from engine.bus.memory import MemoryBus
from engine.clock import Clock, LiveClock
from engine.events import PRICES, SPREADS, Event, PriceTick, SpreadOpportunity
from engine.market.zones import ZONES
from engine.runtime import Runtime
from engine.spreads.engine import SpreadConfig, SpreadEngine
from engine.store.sqlite import SqliteStore
from engine.validation import ValidationConfig

# LU is a control area inside DE-LU, not a zone with its own price: left out.
ZONE_ORDER = tuple(code for code in ZONES if code != "LU")


def markets_for(count: int) -> tuple[str, ...]:
    """The first ``count`` zones of the table; 6 = today's default markets."""
    if not 2 <= count <= len(ZONE_ORDER):
        raise SystemExit(f"--zones: each count must be 2..{len(ZONE_ORDER)}, got {count}")
    return ZONE_ORDER[:count]


def walk(markets: Sequence[str], count: int, seed: int = 7) -> list[tuple[str, float]]:
    """``count`` (market, price) steps of a mean-reverting walk with a wide spread,
    so pairs cross the opportunity threshold often."""
    rng = random.Random(seed)
    prices = dict.fromkeys(markets, 60.0)
    steps = []
    for i in range(count):
        market = markets[i % len(markets)]
        prices[market] += 0.2 * (60.0 - prices[market]) + rng.gauss(0, 6.0)
        steps.append((market, round(prices[market], 2)))
    return steps


def per_tick_us(markets: tuple[str, ...], ticks: int) -> tuple[list[float], int, int]:
    """Microseconds per ``SpreadEngine.on_tick`` call; the events and pairs it had."""
    engine = SpreadEngine(SpreadConfig(markets=markets, update_step_eur_mwh=0.5))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    events = [
        PriceTick(ts=start + timedelta(milliseconds=i), market=market, price_eur_mwh=price)
        for i, (market, price) in enumerate(walk(markets, ticks))
    ]
    durations_us: list[float] = []
    emitted = 0
    clock_ns = time.perf_counter_ns
    for tick in events:
        began = clock_ns()
        emitted += len(engine.on_tick(tick))
        durations_us.append((clock_ns() - began) / 1000)
    return durations_us, emitted, engine.pair_count()


class PacedFeed:
    """One tick every 1/rate seconds; remembers when each tick was created."""

    name = "paced"

    def __init__(self, markets: tuple[str, ...], rate: float, seconds: float) -> None:
        self.rate = rate
        self.steps = walk(markets, int(rate * seconds))
        self.created: dict[datetime, float] = {}

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        start = time.perf_counter()
        for i, (market, price) in enumerate(self.steps):
            due = start + i / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            ts = clock.now()
            self.created[ts] = time.perf_counter()
            yield [PriceTick(ts=ts, market=market, price_eur_mwh=price)]


async def measure(
    markets: tuple[str, ...], rate: float, seconds: float
) -> tuple[list[float], list[float], int]:
    feed = PacedFeed(markets, rate, seconds)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(
            feed=feed,
            clock=LiveClock(),
            bus=MemoryBus(),
            store=SqliteStore(Path(tmp) / "latency.db"),
            components=[SpreadEngine(SpreadConfig(markets=markets, update_step_eur_mwh=0.5))],
            validation=ValidationConfig(markets=markets),
        )
        await runtime.start()
        opportunities = await runtime.bus.subscribe([SPREADS], name="latency", lossless=True)
        ticks = await runtime.bus.subscribe([PRICES], name="hop", lossless=True)
        opportunity_ms: list[float] = []
        hop_ms: list[float] = []

        async def collect(subscription: Subscription, into: list[float], kind: type) -> None:
            while True:
                batch = await subscription.next_batch()
                now = time.perf_counter()
                for event in batch:
                    if isinstance(event, kind) and event.ts in feed.created:
                        into.append((now - feed.created[event.ts]) * 1000)

        tasks = [
            asyncio.create_task(collect(opportunities, opportunity_ms, SpreadOpportunity)),
            asyncio.create_task(collect(ticks, hop_ms, PriceTick)),
        ]
        await runtime.run()
        await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        stored = runtime.writer.stats.written
        await runtime.close()
    return opportunity_ms, hop_ms, stored


def row(name: str, values: list[float]) -> list[str]:
    if not values:
        return [name, "0", "-", "-", "-"]
    array = np.asarray(values)
    p50, p99 = np.percentile(array, [50, 99])
    return [name, f"{len(values):,}", f"{p50:.3f}", f"{p99:.3f}", f"{array.max():.3f}"]


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--zones", default="6,40", help="zone counts to run, e.g. 6,40")
    parser.add_argument("--ticks", type=int, default=100_000, help="ticks for the per-tick part")
    parser.add_argument("--rate", type=float, default=1000.0, help="pipeline: ticks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="pipeline: how long to run")
    parser.add_argument("--no-pipeline", action="store_true", help="the per-tick part only")
    args = parser.parse_args()
    counts = [int(part) for part in args.zones.split(",") if part.strip()]
    console = Console()

    engine_table = Table(
        title=f"spread update per tick: SpreadEngine.on_tick, {args.ticks:,} ticks (µs)"
    )
    for column in ("zones", "pairs", "events", "p50", "p99", "max"):
        engine_table.add_column(column, justify="right")
    pipeline_table = Table(
        title=f"tick → subscriber latency at {args.rate:,.0f} ticks/s, {args.seconds:g} s (ms)"
    )
    for column in ("zones", "path", "events", "p50", "p99", "max"):
        pipeline_table.add_column(column, justify="left" if column == "path" else "right")
    verdicts = []
    for count in counts:
        markets = markets_for(count)
        durations_us, emitted, pairs = per_tick_us(markets, args.ticks)
        _name, _count, p50_text, p99_text, max_text = row("", durations_us)
        engine_table.add_row(str(count), f"{pairs:,}", f"{emitted:,}", p50_text, p99_text, max_text)
        tick_p99_ms = p99(durations_us) / 1000
        verdicts.append(
            f"{count} zones: spread update p99 {tick_p99_ms:.3f} ms per tick "
            f"{'meets' if tick_p99_ms <= 1.0 else 'MISSES'} the 1 ms target"
        )
        if args.no_pipeline:
            continue
        opportunity_ms, hop_ms, stored = asyncio.run(measure(markets, args.rate, args.seconds))
        pipeline_table.add_row(str(count), *row("baseline: tick → bus subscriber", hop_ms))
        pipeline_table.add_row(str(count), *row("tick → spread opportunity", opportunity_ms))
        verdicts.append(
            f"{count} zones: p99 tick-to-opportunity {p99(opportunity_ms):.3f} ms "
            f"{'meets' if p99(opportunity_ms) <= 10.0 else 'MISSES'} the 10 ms target; "
            f"{stored:,} events stored"
        )
    console.print(engine_table)
    if not args.no_pipeline:
        console.print(pipeline_table)
    for line in verdicts:
        console.print(line)


if __name__ == "__main__":
    main()
