"""MemoryBus beyond the contract: its buffers, drop accounting and sync publishing."""

from __future__ import annotations

import pytest

from engine.bus import BusClosed
from engine.bus.memory import MemoryBus
from engine.events import PRICES, Event
from tests.stubs.builders import tick


def ticks(count: int) -> list[Event]:
    return [tick(price=float(i), seconds=i) for i in range(count)]


async def test_a_lossy_buffer_keeps_the_newest_and_counts_each_drop() -> None:
    bus = MemoryBus()
    viewer = await bus.subscribe([PRICES], name="viewer", maxsize=3)
    sent = ticks(10)
    for event in sent:
        await bus.publish([event])
    assert viewer.dropped == 7
    assert await viewer.next_batch(timeout=0) == sent[-3:]
    # Draining resets nothing: the count is a running total.
    await bus.publish(ticks(5))
    assert viewer.dropped == 9


async def test_a_lossless_buffer_grows_past_maxsize() -> None:
    bus = MemoryBus()
    strategy = await bus.subscribe([PRICES], name="strategy", lossless=True, maxsize=3)
    sent = ticks(1_000)
    await bus.publish(sent)
    assert strategy.dropped == 0
    assert await strategy.next_batch(timeout=0) == sent


async def test_closing_discards_what_is_still_buffered() -> None:
    bus = MemoryBus()
    viewer = await bus.subscribe([PRICES], name="viewer")
    await bus.publish(ticks(3))
    await viewer.close()
    with pytest.raises(BusClosed):
        await viewer.next_batch(timeout=0)


async def test_a_closed_subscription_leaves_the_fan_out() -> None:
    bus = MemoryBus()
    leaving = await bus.subscribe([PRICES], name="leaving", maxsize=2)
    staying = await bus.subscribe([PRICES], name="staying")
    await leaving.close()
    await bus.publish(ticks(5))
    assert leaving.dropped == 0  # it no longer receives, so it never overflows
    assert await staying.next_batch(timeout=0) == ticks(5)
    assert bus.published == 5


async def test_publish_nowait_serves_synchronous_callers() -> None:
    bus = MemoryBus()
    strategy = await bus.subscribe([PRICES], name="strategy", lossless=True)
    bus.publish_nowait(ticks(4))
    assert await strategy.next_batch(timeout=0) == ticks(4)
    await bus.close()
    with pytest.raises(BusClosed):
        bus.publish_nowait(ticks(1))
