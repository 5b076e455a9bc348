"""Tick-to-opportunity latency through the whole pipeline at a steady tick rate.

A paced feed emits one tick at a time at ``--rate`` ticks/s (default 1,000) over
six markets whose prices random-walk around each other, so opportunities open,
update and close all the time. The time from a tick's creation to the moment a
bus subscriber holds the opportunity event it caused is measured for every
opportunity event, and printed as p50/p99/max. The baseline in the same run is
the bare bus hop: the time from a tick's creation to a subscriber holding that
tick itself.

Run: ``.venv/bin/python bench/spread_latency.py [--rate 1000] [--seconds 10]``.
Target (issue 2): p99 tick-to-opportunity ≤ 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from engine.bus.base import Subscription
from engine.bus.memory import MemoryBus
from engine.clock import Clock, LiveClock
from engine.events import PRICES, SPREADS, Event, PriceTick, SpreadOpportunity
from engine.runtime import Runtime
from engine.spreads.engine import SpreadConfig, SpreadEngine
from engine.store.sqlite import SqliteStore

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


class PacedFeed:
    """One tick every 1/rate seconds; remembers when each tick was created."""

    name = "paced"

    def __init__(self, rate: float, seconds: float, seed: int = 7) -> None:
        self.rate = rate
        self.total = int(rate * seconds)
        self.created: dict[datetime, float] = {}
        self._random = random.Random(seed)

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        prices = dict.fromkeys(MARKETS, 60.0)
        start = time.perf_counter()
        for i in range(self.total):
            due = start + i / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            market = MARKETS[i % len(MARKETS)]
            # Mean-reverting walk with a wide spread so pairs cross the threshold often.
            prices[market] += 0.2 * (60.0 - prices[market]) + self._random.gauss(0, 6.0)
            ts = clock.now()
            self.created[ts] = time.perf_counter()
            yield [PriceTick(ts=ts, market=market, price_eur_mwh=round(prices[market], 2))]


async def measure(rate: float, seconds: float) -> tuple[list[float], list[float], int]:
    feed = PacedFeed(rate, seconds)
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(
            feed=feed,
            clock=LiveClock(),
            bus=MemoryBus(),
            store=SqliteStore(Path(tmp) / "latency.db"),
            components=[SpreadEngine(SpreadConfig(update_step_eur_mwh=0.5))],
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="ticks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to run")
    args = parser.parse_args()
    opportunity_ms, hop_ms, stored = asyncio.run(measure(args.rate, args.seconds))
    table = Table(
        title=f"tick → subscriber latency at {args.rate:,.0f} ticks/s, {args.seconds:g} s (ms)"
    )
    for column in ("path", "events", "p50", "p99", "max"):
        table.add_column(column, justify="right" if column != "path" else "left")
    table.add_row(*row("baseline: tick → bus subscriber", hop_ms))
    table.add_row(*row("tick → spread opportunity", opportunity_ms))
    console = Console()
    console.print(table)
    p99 = float(np.percentile(opportunity_ms, 99)) if opportunity_ms else float("nan")
    verdict = "meets" if p99 <= 10.0 else "MISSES"
    console.print(
        f"p99 tick-to-opportunity {p99:.3f} ms {verdict} the 10 ms target; {stored:,} events stored"
    )


if __name__ == "__main__":
    main()
