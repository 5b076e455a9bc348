"""An analytics node's kernel (``forward_input=False``) sends out only what it derives.

The ticks it gets came over the bus from the ingest node, which already stored
and published them; storing or publishing them again would double every row and
every bus entry, and a second publisher of the feed's health would flap it.
"""

from __future__ import annotations

from datetime import timedelta

from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import ALL_TOPICS, Event, FeedHealth, PriceTick, SpreadOpportunity
from engine.runtime import Runtime
from engine.spreads.engine import SpreadConfig, SpreadEngine
from engine.store.sqlite import SqliteStore
from tests.stubs.builders import T0, tick
from tests.stubs.scripted_feed import ScriptedFeed


async def run_kernel(tmp_path, *, forward_input: bool) -> tuple[list[Event], int, int]:
    runtime = Runtime(
        feed=ScriptedFeed([[tick("DE", 60.0), tick("FR", 80.0)], [tick("NL", 61.0, seconds=1)]]),
        clock=SimClock(T0 + timedelta(minutes=5)),
        bus=MemoryBus(),
        store=SqliteStore(tmp_path / f"k-{forward_input}.db"),
        components=[SpreadEngine(SpreadConfig())],
        forward_input=forward_input,
    )
    await runtime.start()
    viewer = await runtime.bus.subscribe(ALL_TOPICS, name="viewer")
    await runtime.run()
    published = await viewer.next_batch(timeout=1)
    await runtime.close()  # flushes the writer
    store = SqliteStore(tmp_path / f"k-{forward_input}.db")
    await store.open()
    prices, opportunities = await store.count("prices"), await store.count("opportunities")
    await store.close()
    return published, prices, opportunities


async def test_only_derived_events_go_out_when_the_input_came_from_the_bus(tmp_path):
    published, prices, opportunities = await run_kernel(tmp_path, forward_input=False)
    assert prices == 0  # the ingest node stored them
    assert opportunities == 2
    assert [type(event) for event in published] == [SpreadOpportunity, SpreadOpportunity]
    assert not any(isinstance(event, (PriceTick, FeedHealth)) for event in published)


async def test_the_single_process_kernel_still_forwards_everything(tmp_path):
    published, prices, opportunities = await run_kernel(tmp_path, forward_input=True)
    assert (prices, opportunities) == (3, 2)
    kinds = {type(event) for event in published}
    assert {PriceTick, SpreadOpportunity, FeedHealth} <= kinds
