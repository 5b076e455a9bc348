import asyncio
import math
from datetime import datetime, timedelta

from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import ALL_TOPICS, FeedHealth, OpportunityStatus, SpreadOpportunity
from engine.runtime import Runtime
from engine.spreads.engine import SpreadConfig, SpreadEngine
from engine.store.sqlite import SqliteStore
from engine.store.writer import WriterConfig
from tests.stubs.builders import T0, tick
from tests.stubs.scripted_feed import ScriptedFeed


def runtime_for(batches, tmp_path, components=None):
    clock = SimClock(T0 + timedelta(minutes=5))
    return Runtime(
        feed=ScriptedFeed(batches),
        clock=clock,
        bus=MemoryBus(),
        store=SqliteStore(tmp_path / "k.db"),
        components=components if components is not None else [SpreadEngine(SpreadConfig())],
    )


async def test_ticks_flow_to_store_and_bus_and_spreads_open(tmp_path):
    runtime = runtime_for(
        [[tick("DE", 60.0), tick("FR", 80.0)], [tick("NL", 61.0, seconds=1)]], tmp_path
    )
    await runtime.start()
    viewer = await runtime.bus.subscribe(ALL_TOPICS, name="viewer")
    stats = await runtime.run()
    events = await viewer.next_batch(timeout=1)
    await runtime.close()
    assert stats.accepted == 3
    opened = [e for e in events if isinstance(e, SpreadOpportunity)]
    assert {(o.buy_market, o.sell_market) for o in opened} == {("DE", "FR"), ("NL", "FR")}
    assert all(o.status is OpportunityStatus.OPENED for o in opened)
    assert isinstance(events[-1], FeedHealth)

    store = SqliteStore(tmp_path / "k.db")
    await store.open()
    assert await store.count("prices") == 3
    assert await store.count("opportunities") == 2
    await store.close()


async def test_bad_input_is_rejected_counted_never_stored_and_never_stops_the_run(tmp_path):
    bad = [
        tick("DE", math.nan),
        tick("DE", math.inf, seconds=1),
        tick("XX", 50.0, seconds=2),
        tick("DE", 50.0, at=datetime(2024, 3, 1, 12)),
        tick("DE", 50.0, seconds=3600),
    ]
    good = [tick("DE", 50.0, seconds=10), tick("FR", 51.0, seconds=11)]
    runtime = runtime_for([bad, good[:1], bad, good[1:]], tmp_path)
    stats = await runtime.run()
    rejected = dict(runtime.validator.rejected)
    await runtime.close()
    assert stats.events_in == 12 and stats.accepted == 2
    assert sum(rejected.values()) == 10
    assert set(rejected) == {
        "price is not a finite number",
        "unknown market",
        "naive timestamp (need tz-aware UTC)",
        "timestamp in the future",
    }
    store = SqliteStore(tmp_path / "k.db")
    await store.open()
    assert [t.price_eur_mwh for t in await store.price_history("DE")] == [50.0]
    assert await store.count("prices") == 2
    await store.close()


class Exploding:
    name = "exploding"

    def on_events(self, events, now):
        raise RuntimeError("boom")

    def on_timer(self, now):
        return []


async def test_a_failing_component_is_logged_and_the_pipeline_goes_on(tmp_path, caplog):
    runtime = runtime_for(
        [[tick("DE", 50.0)], [tick("FR", 55.0, seconds=1)]], tmp_path, [Exploding()]
    )
    stats = await runtime.run()
    await runtime.close()
    # Both batches, and the feed's health when it changed (ended): alerts see that too.
    assert stats.component_errors == 3 and stats.accepted == 2
    assert "component exploding failed" in caplog.text
    assert runtime.writer.stats.written >= 2


class SlowStore(SqliteStore):
    """A real SQLite store that takes 20 ms per transaction: slower than a full-speed feed."""

    async def write(self, events):
        await asyncio.sleep(0.02)
        await super().write(events)


def flood(rounds: int, per_round: int = 100):
    markets = ("DE", "FR", "NL", "BE")
    return [
        [tick(markets[i % 4], 50.0 + i % 7, seconds=r * per_round + i) for i in range(per_round)]
        for r in range(rounds)
    ]


async def test_a_feed_on_simulated_time_goes_at_the_store_pace_and_loses_nothing(tmp_path):
    config = WriterConfig(batch_size=500, max_age_s=0.01, pace_above=1_000)
    peaks = {}
    for paced in (True, False):
        runtime = Runtime(
            feed=ScriptedFeed(flood(100)),
            clock=SimClock(T0 + timedelta(days=1)),
            bus=MemoryBus(),
            store=SlowStore(tmp_path / f"{paced}.db"),
            writer_config=config,
            paced=paced,
        )
        await runtime.start()
        peak = 0

        async def watch(runtime=runtime):
            nonlocal peak
            while True:
                peak = max(peak, runtime.writer.pending)
                await asyncio.sleep(0.001)

        watcher = asyncio.create_task(watch())
        await runtime.run()
        watcher.cancel()
        await runtime.close()
        peaks[paced] = peak
        store = SqliteStore(tmp_path / f"{paced}.db")
        await store.open()
        assert await store.count("prices") == 10_000  # paced or not, every tick stored
        await store.close()
    # Held: never far past the limit (one batch in hand + one feed batch).
    assert peaks[True] <= 1_000 + 500 + 100
    assert peaks[False] > 5_000  # unheld, the feed runs ahead of the store


def test_only_feeds_on_simulated_time_are_held_by_default(tmp_path):
    from engine.clock import LiveClock

    def kernel_with(clock):
        return Runtime(
            feed=ScriptedFeed([]), clock=clock, bus=MemoryBus(), store=SqliteStore(tmp_path / "x")
        ).kernel

    assert kernel_with(SimClock(T0)).paced
    assert not kernel_with(LiveClock()).paced


async def test_a_held_feed_does_not_wait_for_a_batch_it_would_have_filled(tmp_path):
    # Batches bigger than the pace limit and a long max age: the writer must
    # flush for the waiting feed at once, not after max_age_s.
    config = WriterConfig(batch_size=50_000, max_age_s=30.0, pace_above=1_000)
    runtime = Runtime(
        feed=ScriptedFeed(flood(50)),
        clock=SimClock(T0 + timedelta(days=1)),
        bus=MemoryBus(),
        store=SqliteStore(tmp_path / "held.db"),
        writer_config=config,
        paced=True,
    )
    await runtime.start()
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(runtime.run(), timeout=10)
    elapsed = asyncio.get_running_loop().time() - started
    await runtime.close()
    assert elapsed < 5.0  # would be ≥ 30 s per stall without the flush
    assert runtime.writer.stats.written >= 5_000
