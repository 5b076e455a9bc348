"""Rewind bench: jump to any instant of a month of six markets recorded at the default tick.

The store holds what a month-long run of the engine records (SQLite, the
default backend, in a temporary file): six markets' intraday ticks every 10 s
(the simulator's default tick — 1.6 M rows), their day-ahead prices, one
battery state and three strategy status lines a minute, a forecast per market
every 15 minutes, spread opportunities opening and closing, and alerts.

One **jump** is what the dashboard does when the user goes to an instant:
the recording's span, :func:`engine.store.recording.state_at` (every pane's
stored state at that instant: the chart window of ticks, the day-ahead prices
published by then, each pair's opportunity, each battery and strategy, the
newest forecasts and alerts), folded into a fresh dashboard model and turned
into the snapshot the panes draw. Timed at ``--jumps`` instants drawn
uniformly over the month.

Baseline, measured in the same run at the same instants: one indexed store
query (the newest intraday tick of one market at the instant). The target is a
jump ≤ 200 ms at p99.

Run: ``.venv/bin/python bench/rewind_jump.py [--days 31] [--jumps 200] [--db PATH]``
(``--db`` keeps the filled store for another run).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.events import (  # noqa: E402 — needs the path above
    Alert,
    BatteryState,
    Event,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)
from engine.market.timeline import MarketTimeline  # noqa: E402
from engine.store.recording import recording_span, state_at  # noqa: E402
from engine.store.sqlite import SqliteStore  # noqa: E402
from gridtui.tui.view_model import DashboardModel  # noqa: E402

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
START = datetime(2025, 3, 1, tzinfo=UTC)
TICK_S = 10  # the simulator's default tick
CHART_HOURS = 6.0  # the dashboard's default chart window
STRATEGIES = ("arbitrage", "battery", "day_ahead")
TARGET_P99_MS = 200.0


def recording(days: int, seed: int = 7) -> Iterator[list[Event]]:
    """A month of what the engine records, an hour at a time, oldest first."""
    rng = np.random.default_rng(seed)
    level = dict.fromkeys(MARKETS, 80.0)
    pnl = dict.fromkeys(STRATEGIES, 0.0)
    opened: dict[tuple[str, str], datetime] = {}
    for hour in range(days * 24):
        at = START + timedelta(hours=hour)
        events: list[Event] = []
        if at.hour == 11:  # tomorrow's auction, published at midday (stamped by delivery)
            for market in MARKETS:
                for h in range(24):
                    events.append(
                        PriceTick(ts=at + timedelta(hours=13 + h), market=market,
                                  price_eur_mwh=round(float(rng.normal(80, 25)), 2),
                                  kind=PriceKind.DAY_AHEAD, source="bench")
                    )  # fmt: skip
        for step in range(3600 // TICK_S):
            ts = at + timedelta(seconds=step * TICK_S)
            for market in MARKETS:
                level[market] += float(rng.normal(0, 0.8))
                events.append(
                    PriceTick(ts=ts, market=market, price_eur_mwh=round(level[market], 2),
                              kind=PriceKind.INTRADAY, volume_mwh=5.0, source="bench")
                )  # fmt: skip
            if step % 6 == 0:  # once a minute
                minute = step // 6
                events.append(
                    BatteryState(ts=ts, battery_id="bess-de", market="DE",
                                 soc_mwh=5.0 + 4 * np.sin(hour + minute / 60),
                                 soc_fraction=0.5, power_mw=1.0, mode="charge",
                                 revenue_eur=hour * 3.0 + minute * 0.05)
                )  # fmt: skip
                for name in STRATEGIES:
                    pnl[name] += float(rng.normal(0.1, 1))
                    events.append(
                        StrategyStatus(ts=ts, strategy=name, state="running",
                                       pnl_eur=round(pnl[name], 2), trades=hour)
                    )  # fmt: skip
                if minute % 15 == 0:
                    for market in MARKETS:
                        events.append(
                            Forecast(ts=ts, market=market, target_ts=ts + timedelta(minutes=15),
                                     horizon_steps=1, price_eur_mwh=level[market], model_id="bench")
                        )  # fmt: skip
                buy, sell = rng.choice(len(MARKETS), size=2, replace=False)
                pair = (MARKETS[buy], MARKETS[sell])
                since = opened.pop(pair, None)  # open: this one closes it
                if since is None:
                    opened[pair] = ts
                status = OpportunityStatus.OPENED if since is None else OpportunityStatus.CLOSED
                events.append(
                    SpreadOpportunity(ts=ts, buy_market=pair[0], sell_market=pair[1],
                                      buy_price_eur_mwh=level[pair[0]],
                                      sell_price_eur_mwh=level[pair[0]] + 12.0,
                                      spread_eur_mwh=12.0, transmission_cost_eur_mwh=2.0,
                                      net_spread_eur_mwh=10.0, capacity_mw=100.0,
                                      status=status, opened_at=since or ts,
                                      seq=0 if since is None else 1)
                )  # fmt: skip
        if hour % 5 == 0:
            events.append(
                Alert(ts=at + timedelta(minutes=7), rule="spike", severity=Severity.WARNING,
                      message=f"spike {hour}", key=str(hour))
            )  # fmt: skip
        yield events


async def fill(store: SqliteStore, days: int) -> int:
    rows = 0
    started = time.perf_counter()
    for hour, events in enumerate(recording(days)):
        await store.write(events)
        rows += len(events)
        if hour % 24 == 23:
            print(f"\r  recorded day {(hour + 1) // 24}/{days}: {rows:,} rows", end="", flush=True)
    print(f"\r  recorded {days} days: {rows:,} rows in {time.perf_counter() - started:.0f} s")
    return rows


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def line(name: str, times_s: list[float]) -> str:
    ms = [t * 1000 for t in times_s]
    return f"{name:<34} median {statistics.median(ms):8.2f} ms   p99 {p99(ms):8.2f} ms"


async def bench(db: Path, days: int, jumps: int) -> None:
    store = SqliteStore(db)
    await store.open()
    try:
        if await recording_span(store, MARKETS) is None:
            await fill(store, days)
        span = await recording_span(store, MARKETS)
        assert span is not None
        print(f"  span {span.first:%Y-%m-%d %H:%M} … {span.last:%Y-%m-%d %H:%M} UTC, {db}")
        timeline = MarketTimeline()
        rng = random.Random(11)
        length = (span.last - START).total_seconds()
        instants = [START + timedelta(seconds=rng.uniform(0, length)) for _ in range(jumps)]
        baseline: list[float] = []
        reads: list[float] = []
        whole: list[float] = []
        sizes: list[int] = []
        for index, at in enumerate([*instants[:10], *instants]):  # ten warm-up jumps first
            t0 = time.perf_counter()
            found = await store.recorded(
                PriceTick, until=at, limit=1, match={"market": "DE", "kind": "intraday"}
            )
            t1 = time.perf_counter()
            await recording_span(store, MARKETS)
            events = await state_at(store, at, MARKETS, chart_hours=CHART_HOURS, timeline=timeline)
            t2 = time.perf_counter()
            model = DashboardModel(MARKETS, chart_hours=CHART_HOURS, timeline=timeline)
            model.apply(events)
            model.hold_at(at)
            snapshot = model.snapshot()
            t3 = time.perf_counter()
            assert found and snapshot.now == at and len(snapshot.markets) == len(MARKETS)
            if index >= 10:
                baseline.append(t1 - t0)
                reads.append(t2 - t1)
                whole.append(t3 - t1)
                sizes.append(len(events))
    finally:
        await store.close()
    print(f"  {jumps} jumps, {statistics.median(sizes):,.0f} events each (median)")
    print(line("baseline: one indexed query", baseline))
    print(line("state_at (span + every pane's read)", reads))
    print(line("jump (reads + fold + snapshot)", whole))
    ratio = p99(whole) / p99(baseline)
    verdict = "met" if p99(whole) * 1000 <= TARGET_P99_MS else "MISSED"
    print(
        f"  jump p99 = {ratio:,.0f}× the baseline's p99; target ≤ {TARGET_P99_MS:.0f} ms: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=31, help="days recorded (default a month)")
    parser.add_argument("--jumps", type=int, default=200, help="instants jumped to")
    parser.add_argument("--db", type=Path, help="keep the store here (reused when it exists)")
    args = parser.parse_args()
    if args.db is not None:
        asyncio.run(bench(args.db, args.days, args.jumps))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(Path(tmp) / "month.db", args.days, args.jumps))


if __name__ == "__main__":
    main()
