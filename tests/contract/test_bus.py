"""One contract suite for every Bus backend: MemoryBus and RedisBus behave alike.

Each test gets a started bus of each kind; the Redis one lives under a unique key
prefix on the shared server (``redis_prefix`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest

from engine.bus import Bus, BusClosed, Subscription
from engine.events import (
    ALERTS,
    ALL_TOPICS,
    PRICES,
    TOPIC_OF,
    TRADES,
    Alert,
    AuditEntry,
    BacktestProgress,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    Fundamentals,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
    Trade,
)
from tests.stubs.builders import T0, tick


@pytest.fixture(params=["memory", "redis"])
def redis_location(request) -> tuple[str, str] | None:
    """``(url, prefix)`` for the Redis run, ``None`` for the memory run.

    A plain fixture, because pytest-asyncio cannot resolve the async
    ``redis_prefix`` fixture from inside an async one (the loop is running).
    """
    if request.param == "memory":
        return None
    url, prefix = request.getfixturevalue("redis_prefix")
    return url, prefix


@pytest.fixture
async def bus(redis_location: tuple[str, str] | None) -> AsyncIterator[Bus]:
    if redis_location is None:
        from engine.bus.memory import MemoryBus

        backend: Bus = MemoryBus()
    else:
        from engine.bus.redis_streams import RedisBus

        url, prefix = redis_location
        backend = RedisBus(url, prefix=prefix)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()


def alert(n: int) -> Alert:
    return Alert(
        ts=T0 + timedelta(seconds=n),
        rule="price_spike",
        severity=Severity.WARNING,
        message=f"spike {n}",
        key=f"DE-{n}",
        market="DE",
    )


def trade(n: int) -> Trade:
    return Trade(
        ts=T0 + timedelta(seconds=n),
        trade_id=f"t{n}",
        strategy="spread",
        market="FR",
        side="buy",
        volume_mwh=1.5,
        price_eur_mwh=42.0,
    )


def one_of_each() -> list[Event]:
    """Every event type, with optional fields set so nothing round-trips by default."""
    return [
        PriceTick(
            ts=T0,
            market="NL",
            price_eur_mwh=-12.25,
            kind=PriceKind.DAY_AHEAD,
            volume_mwh=3.5,
            source="entsoe",
            delivery_minutes=15,
        ),
        Fundamentals(ts=T0, market="DE", load_mw=61_000.0, wind_mw=22_000.5, solar_mw=0.0),
        SpreadOpportunity(
            ts=T0,
            buy_market="DE",
            sell_market="FR",
            buy_price_eur_mwh=60.0,
            sell_price_eur_mwh=80.0,
            spread_eur_mwh=20.0,
            transmission_cost_eur_mwh=1.0,
            net_spread_eur_mwh=19.0,
            status=OpportunityStatus.OPENED,
            opened_at=T0 - timedelta(minutes=5),
            duration_s=300.0,
            capacity_mw=1000.0,
            profit_eur_h=19_000.0,
        ),
        BatteryState(
            ts=T0,
            battery_id="b1",
            market="BE",
            soc_mwh=40.0,
            soc_fraction=0.4,
            power_mw=-25.0,
            mode="charging",
            revenue_eur=-1234.5,
        ),
        trade(1),
        alert(1),
        StrategyStatus(ts=T0, strategy="spread", state="running", pnl_eur=10.5, trades=3),
        BacktestProgress(
            ts=T0, run_id="r1", state="running", percent=42.0, events_done=42, events_total=100
        ),
        Forecast(
            ts=T0,
            market="AT",
            target_ts=T0 + timedelta(hours=1),
            horizon_steps=4,
            price_eur_mwh=55.5,
            lower_eur_mwh=50.0,
            upper_eur_mwh=61.0,
            model_id="xgb-1",
        ),
        FeedHealth(ts=T0, source="mock", state="up", last_success=T0, events_total=7),
        AuditEntry(
            ts=T0,
            entry_id="start:spread:1",
            actor="user:tui",
            action="start",
            strategy="spread",
            reason="confirmed on the dashboard",
            ref="t-1",
        ),
    ]


async def drain(subscription: Subscription, count: int, within_s: float = 5.0) -> list[Event]:
    """Read until ``count`` events arrived; fail if they don't within ``within_s``."""
    received: list[Event] = []
    async with asyncio.timeout(within_s):
        while len(received) < count:
            received.extend(await subscription.next_batch(timeout=1.0))
    return received


async def publish_in_batches(bus: Bus, events: Sequence[Event], size: int) -> None:
    for start in range(0, len(events), size):
        await bus.publish(events[start : start + size])


async def test_every_event_type_round_trips_equal(bus: Bus) -> None:
    sent = one_of_each()
    assert {type(event) for event in sent} == set(TOPIC_OF)  # the list covers every type
    subscription = await bus.subscribe(ALL_TOPICS, name="everything", lossless=True)
    await bus.publish(sent)
    received = await drain(subscription, len(sent))
    assert len(received) == len(sent)
    # Order across topics is not promised; equality of each event (type included) is.
    by_type = {type(event): event for event in received}
    assert by_type == {type(event): event for event in sent}


async def test_subscribers_get_only_their_topics(bus: Bus) -> None:
    subscription = await bus.subscribe([PRICES, ALERTS], name="viewer")
    await bus.publish([tick(seconds=0), trade(0), alert(0), trade(1), tick(seconds=1)])
    await bus.publish([trade(2)])
    received = await drain(subscription, 3)
    assert sorted(type(e).__name__ for e in received) == ["Alert", "PriceTick", "PriceTick"]
    # Nothing else is on its way: trades never reach this subscriber.
    assert await subscription.next_batch(timeout=0.1) == []


async def test_order_is_preserved_within_a_topic(bus: Bus) -> None:
    subscription = await bus.subscribe([PRICES, ALERTS], name="ordered", lossless=True)
    ticks = [tick(price=float(i), seconds=i) for i in range(1_200)]
    alerts = [alert(i) for i in range(300)]
    interleaved: list[Event] = []
    for i, t in enumerate(ticks):
        interleaved.append(t)
        if i % 4 == 0:
            interleaved.append(alerts[i // 4])
    await publish_in_batches(bus, interleaved, 250)
    received = await drain(subscription, len(interleaved))
    assert [e for e in received if isinstance(e, PriceTick)] == ticks
    assert [e for e in received if isinstance(e, Alert)] == alerts


async def test_every_subscriber_gets_every_event(bus: Bus) -> None:
    subscriptions = [
        await bus.subscribe([PRICES], name="strategy-a", lossless=True),
        await bus.subscribe([PRICES], name="strategy-b", lossless=True),
        await bus.subscribe([PRICES], name="viewer"),
    ]
    sent = [tick(price=float(i), seconds=i) for i in range(500)]
    await publish_in_batches(bus, sent, 100)
    for subscription in subscriptions:
        assert await drain(subscription, len(sent)) == sent


async def test_a_subscriber_sees_only_what_is_published_after_it_subscribed(bus: Bus) -> None:
    await bus.publish([tick(price=1.0)])
    lossless = await bus.subscribe([PRICES], name="late-strategy", lossless=True)
    lossy = await bus.subscribe([PRICES], name="late-viewer")
    await bus.publish([tick(price=2.0)])
    assert await drain(lossless, 1) == [tick(price=2.0)]
    assert await drain(lossy, 1) == [tick(price=2.0)]


async def test_a_lossy_subscriber_that_never_reads_does_not_block_publishing(bus: Bus) -> None:
    viewer = await bus.subscribe([PRICES], name="frozen-viewer", maxsize=100)
    sent = [tick(price=float(i), seconds=i) for i in range(50_000)]
    async with asyncio.timeout(8):
        await publish_in_batches(bus, sent, 1_000)
    if bus.backend == "memory":
        # The buffer kept the newest 100 and counted the rest.
        assert viewer.dropped == 50_000 - 100
        assert await viewer.next_batch(timeout=1) == sent[-100:]
    else:
        # The stream is the buffer: nothing lost yet, and reading still works.
        assert viewer.dropped == 0
        assert (await viewer.next_batch(timeout=1))[0] == sent[0]


async def test_a_lossless_subscriber_receives_every_event_across_many_batches(bus: Bus) -> None:
    subscription = await bus.subscribe([PRICES], name="strategy", lossless=True)
    sent = [tick(price=float(i), seconds=i) for i in range(20_000)]
    batches: list[list[Event]] = []

    async def read_all() -> None:
        total = 0
        while total < len(sent):
            batch = await subscription.next_batch(timeout=2.0)
            assert batch, "a lossless subscriber timed out with events outstanding"
            batches.append(batch)
            total += len(batch)

    reader = asyncio.create_task(read_all())
    for start in range(0, len(sent), 500):
        await bus.publish(sent[start : start + 500])
        await asyncio.sleep(0)  # let the reader interleave, as a live feed would
    async with asyncio.timeout(8):
        await reader
    assert [e for batch in batches for e in batch] == sent
    assert len(batches) > 1
    assert subscription.dropped == 0


async def test_next_batch_times_out_with_an_empty_list(bus: Bus) -> None:
    for lossless in (False, True):
        subscription = await bus.subscribe([PRICES], name=f"idle-{lossless}", lossless=lossless)
        started = time.perf_counter()
        assert await subscription.next_batch(timeout=0.1) == []
        assert 0.05 <= time.perf_counter() - started < 1.5
        assert await subscription.next_batch(timeout=0) == []


async def test_iterating_a_subscription_yields_events_until_closed(bus: Bus) -> None:
    subscription = await bus.subscribe([TRADES], name="iterator", lossless=True)
    sent = [trade(i) for i in range(5)]
    await bus.publish(sent)
    received: list[Event] = []

    async def consume() -> None:
        async for event in subscription:
            received.append(event)
            if len(received) == len(sent):
                await subscription.close()

    async with asyncio.timeout(5):
        await consume()  # returns because close() ends the iteration
    assert received == sent


async def test_a_closed_subscription_raises_bus_closed(bus: Bus) -> None:
    subscription = await bus.subscribe([PRICES], name="closing", lossless=True)
    await bus.publish([tick()])
    await asyncio.sleep(0.05)  # let the event reach (or wait in) the subscription
    await subscription.close()
    with pytest.raises(BusClosed):
        await subscription.next_batch(timeout=0.1)


async def test_close_wakes_a_waiting_reader(bus: Bus) -> None:
    subscription = await bus.subscribe([PRICES], name="waiting")
    waiter = asyncio.create_task(subscription.next_batch())
    await asyncio.sleep(0.05)
    assert not waiter.done()
    started = time.perf_counter()
    await subscription.close()
    with pytest.raises(BusClosed):
        await asyncio.wait_for(waiter, 1.0)
    assert time.perf_counter() - started < 1.0


async def test_closing_the_bus_closes_subscriptions_and_publishing(bus: Bus) -> None:
    subscription = await bus.subscribe([PRICES], name="viewer")
    await bus.close()
    with pytest.raises(BusClosed):
        await subscription.next_batch(timeout=0.1)
    with pytest.raises(BusClosed):
        await bus.publish([tick()])
    with pytest.raises(BusClosed):
        await bus.subscribe([PRICES], name="too-late")


async def test_unknown_topic_is_a_value_error(bus: Bus) -> None:
    with pytest.raises(ValueError, match="unknown topics"):
        await bus.subscribe([PRICES, "weather"], name="typo")
