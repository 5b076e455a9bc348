"""The retention job on a real runtime: the simulator on a fast SimClock into SQLite.

Raw ticks are kept for an hour and the job runs every ten simulated minutes;
after a little over two simulated hours the first hour must have been folded
into hourly rows, by the job alone, while the feed kept its own pace.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import PriceKind, PriceTick
from engine.runtime import Runtime
from engine.store.retention import RetentionConfig
from engine.store.sqlite import SqliteStore
from feeds.mock.feed import MockFeed, MockFeedConfig

START = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)
MARKETS = ("DE", "FR")
HOUR = timedelta(hours=1)


async def test_the_job_compacts_the_recording_as_simulated_time_passes(tmp_path, caplog):
    clock = SimClock(START, speed=3_600)  # an hour a real second
    store = SqliteStore(tmp_path / "gridtui.db")
    runtime = Runtime(
        feed=MockFeed(MockFeedConfig(markets=MARKETS, tick_interval_s=10.0, start=START)),
        clock=clock,
        bus=MemoryBus(),
        store=store,
        retention=RetentionConfig(raw_days=1 / 24, every_s=600),
    )
    job = runtime.retention
    assert job is not None
    caplog.set_level(logging.INFO, logger="engine.store.retention")
    await runtime.start()
    running = asyncio.create_task(runtime.run())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not (job.last_report and job.last_report.hours and clock.now() > START + 2.2 * HOUR):
            assert loop.time() < deadline, f"no compaction by {clock.now()}, {job.runs} runs"
            await asyncio.sleep(0.1)
    finally:
        runtime.stop()
        await running
        now = clock.now()
        # Read before close: the job's last run may not have been the last word.
        folded = {
            m: await store.hourly_prices(m, PriceKind.INTRADAY, start=START, end=now)
            for m in MARKETS
        }
        raw_first_hour = await store.price_history(
            "DE", start=START, end=START + HOUR, limit=10_000, kind=PriceKind.INTRADAY
        )
        oldest_raw = await store.recorded(
            PriceTick, until=now, limit=1, match={"market": "DE", "kind": "intraday"}, oldest=True
        )
        await runtime.close()

    assert job.runs >= 2 and job.failures == 0
    for market in MARKETS:
        first = folded[market][0]
        # The feed's first hour, 360 ticks at a 10 s tick, in one row.
        assert (first.hour_start, first.ticks) == (START, 360)
    # The first hour reads as its close, stamped at its last tick.
    assert [(t.ts, t.price_eur_mwh) for t in raw_first_hour] == [
        (folded["DE"][0].last_ts, folded["DE"][0].close_eur_mwh)
    ]
    # Nothing raw is older than the watermark, and that is at most an hour behind the clock.
    assert job.last_report is not None and job.last_report.compacted_until is not None
    assert oldest_raw[0].ts >= job.last_report.compacted_until
    assert now - job.last_report.compacted_until <= 2 * HOUR + timedelta(minutes=10)
    assert any("recorder retention: compacted" in r.getMessage() for r in caplog.records)
