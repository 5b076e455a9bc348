"""Re-run throughput: strategies re-run over a stored recording, against the same run from memory.

Writes a recording into a SQLite file — intraday ticks of six markets every
``--step`` seconds for ``--days`` days plus each day's hourly day-ahead curve —
then runs the technical strategy over it twice through
:func:`engine.backtest.run.run_backtest`:

* baseline: the same batches from memory (what the recording feed would
  yield, already built): the engine's own cost;
* re-run: :class:`engine.backtest.recording_feed.RecordingFeed` reading the
  store window by window, as the dashboard's ``R`` key and ``POST
  /api/v1/rerun`` do.

Both must make the same trades (checked). Prints ticks per second of each.
Run: ``.venv/bin/python bench/rerun_throughput.py [--days 7 --step 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # run as a script from anywhere

from engine.backtest.config import BacktestConfig  # noqa: E402 — needs the path above
from engine.backtest.recording_feed import RecordingFeed  # noqa: E402
from engine.backtest.run import run_backtest  # noqa: E402
from engine.clock import Clock, SimClock  # noqa: E402
from engine.events import Event, PriceKind, PriceTick, Trade  # noqa: E402
from engine.market.timeline import MarketTimeline  # noqa: E402
from engine.store.sqlite import SqliteStore  # noqa: E402
from engine.strategies import registry  # noqa: E402
from engine.strategies.base import Strategy  # noqa: E402
from engine.strategies.technical import TechnicalConfig  # noqa: E402

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
START = datetime(2025, 1, 6, tzinfo=UTC)


def recording(days: int, step_s: int) -> list[Event]:
    events: list[Event] = []
    steps = days * 86_400 // step_s
    for i in range(steps):
        at = START + timedelta(seconds=i * step_s)
        events += [
            PriceTick(
                ts=at,
                market=m,
                price_eur_mwh=round(70 + 30 * math.sin(i / 40 + j) + 5 * math.sin(i / 7), 2),
                kind=PriceKind.INTRADAY,
                source="bench",
            )
            for j, m in enumerate(MARKETS)
        ]
    for h in range(-1, days * 24 + 23):
        events += [
            PriceTick(
                ts=START + timedelta(hours=h),
                market=m,
                price_eur_mwh=round(70 + 20 * math.sin(h / 4 + j), 2),
                kind=PriceKind.DAY_AHEAD,
                source="bench",
                delivery_minutes=60,
            )
            for j, m in enumerate(MARKETS)
        ]
    return events


class MemoryFeed:
    name = "memory"

    def __init__(self, batches: list[tuple[datetime, list[Event]]]) -> None:
        self.batches = batches

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        for at, batch in self.batches:
            clock.advance_to(at)  # type: ignore[attr-defined]
            yield batch


def config(run_id: str, days: int) -> BacktestConfig:
    return BacktestConfig(
        run_id=run_id,
        start=START + timedelta(hours=1),
        end=START + timedelta(days=days),
        strategies=("technical",),
        markets=MARKETS,
        price_kind=PriceKind.INTRADAY,
    )


def strategies() -> list[Strategy]:
    return [registry.build("technical", TechnicalConfig(indicator="ma_cross"))]


async def main(days: int, step_s: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db")
        await store.open()
        events = recording(days, step_s)
        for i in range(0, len(events), 50_000):
            await store.write(events[i : i + 50_000])
        first = config("bench-memory", days)
        feed = RecordingFeed(store, MARKETS, first.start, first.end, MarketTimeline())
        read_started = time.perf_counter()
        probe = SimClock(first.start)  # where the feed moves the clock, batch by batch
        batches = [(probe.now(), list(b)) async for b in feed.stream(probe)]
        read_s = time.perf_counter() - read_started
        ticks = sum(len(b) for _, b in batches)

        started = time.perf_counter()
        baseline = await run_backtest(first, MemoryFeed(batches), strategies())
        baseline_s = time.perf_counter() - started
        second = config("bench-rerun", days)
        started = time.perf_counter()
        rerun = await run_backtest(
            second,
            RecordingFeed(store, MARKETS, second.start, second.end, MarketTimeline()),
            strategies(),
        )
        rerun_s = time.perf_counter() - started
        await store.close()

    def key(t: Trade) -> tuple[object, ...]:
        return (t.ts, t.market, t.side, t.volume_mwh, t.price_eur_mwh)

    same = [key(t) for t in baseline.trades] == [key(t) for t in rerun.trades]
    print(f"recording: {days} days, {len(events):,} ticks stored; {ticks:,} replayed")
    print(f"reading the recording alone:   {read_s:7.2f} s  {ticks / read_s:12,.0f} ticks/s")
    print(
        f"baseline (batches from memory): {baseline_s:6.2f} s  {ticks / baseline_s:12,.0f} ticks/s"
    )
    print(f"re-run (RecordingFeed on SQLite): {rerun_s:4.2f} s  {ticks / rerun_s:12,.0f} ticks/s")
    print(f"trades: {len(rerun.trades):,}; same as the baseline: {same}")
    if not same:
        raise SystemExit("the re-run's trades differ from the baseline's")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--step", type=int, default=60, help="seconds between intraday ticks")
    args = parser.parse_args()
    asyncio.run(main(args.days, args.step))
