"""RedisBus beyond the contract: what a shared, persistent stream adds.

Resuming after a restart, redelivery of unacknowledged entries, MAXLEN trimming,
many events per entry, malformed entries, and riding out a Redis outage (the
last one on a throwaway ``redis-server``, never the shared one).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import redis.asyncio as aioredis

from engine.bus import BusClosed, BusError
from engine.bus.codec import encode
from engine.bus.redis_streams import RedisBus
from engine.bus.redis_subscription import RedisSubscription
from engine.events import ALERTS, PRICES, Alert, Event, Severity
from tests.stubs.builders import T0, tick

RedisBusFactory = Callable[..., Awaitable[RedisBus]]


@pytest.fixture
async def raw(redis_prefix: tuple[str, str]) -> AsyncIterator[aioredis.Redis]:
    """A plain client on the shared server, to look behind the bus's back."""
    url, _ = redis_prefix
    client = aioredis.Redis.from_url(url)
    yield client
    await client.aclose()


@pytest.fixture
async def make_bus(redis_prefix: tuple[str, str]) -> AsyncIterator[RedisBusFactory]:
    """Started RedisBus instances under this test's prefix, closed afterwards."""
    url, prefix = redis_prefix
    buses: list[RedisBus] = []

    async def make(**options: object) -> RedisBus:
        bus = RedisBus(url, prefix=prefix, **options)  # type: ignore[arg-type]
        await bus.start()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


def ticks(first: int, count: int) -> list[Event]:
    return [tick(price=float(i), seconds=i) for i in range(first, first + count)]


async def entries(raw: aioredis.Redis, key: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """Every entry of a stream, oldest first, as redis-py returns them."""
    found: Any = await raw.xrange(key)
    return list(found)


async def drain(subscription: RedisSubscription, count: int, within_s: float = 5.0) -> list[Event]:
    received: list[Event] = []
    async with asyncio.timeout(within_s):
        while len(received) < count:
            received.extend(await subscription.next_batch(timeout=1.0))
    return received


# -- resume, redelivery, consumer groups ----------------------------------------


async def test_a_restarted_subscriber_resumes_after_the_last_acknowledged_entry(
    make_bus: RedisBusFactory,
) -> None:
    bus = await make_bus(max_events_per_entry=10)
    subscription = await bus.subscribe([PRICES], name="strategy", lossless=True)
    first, second, third = ticks(0, 35), ticks(35, 25), ticks(60, 40)

    await bus.publish(first)
    assert await drain(subscription, len(first)) == first
    await bus.publish(second)
    assert await drain(subscription, len(second)) == second  # acknowledged `first`
    await subscription.close()  # dies before acknowledging `second`
    await bus.close()

    # Published while the subscriber was down.
    restarted = await make_bus(max_events_per_entry=10)
    await restarted.publish(third)
    again = await restarted.subscribe([PRICES], name="strategy", lossless=True)
    # `second` again (it was never acknowledged), then `third`; never `first`.
    assert await again.next_batch(timeout=1) == second
    assert await drain(again, len(third)) == third
    assert await again.next_batch(timeout=0.1) == []


async def test_ack_before_close_means_no_redelivery(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    bus = await make_bus()
    subscription = await bus.subscribe([PRICES], name="strategy", lossless=True)
    await bus.publish(ticks(0, 10))
    assert len(await drain(subscription, 10)) == 10
    await subscription.ack()
    await subscription.close()
    assert (await raw.xpending(bus.key(PRICES), "strategy"))["pending"] == 0

    again = await bus.subscribe([PRICES], name="strategy", lossless=True)
    assert await again.next_batch(timeout=0.2) == []
    await bus.publish(ticks(10, 1))
    assert await drain(again, 1) == ticks(10, 1)


async def test_each_group_gets_everything_and_consumers_of_one_group_share(
    make_bus: RedisBusFactory,
) -> None:
    replica_1 = await make_bus(max_events_per_entry=5, read_count=2, consumer_id="1")
    replica_2 = await make_bus(max_events_per_entry=5, read_count=2, consumer_id="2")
    workers = [
        await replica_1.subscribe([PRICES], name="workers", lossless=True),
        await replica_2.subscribe([PRICES], name="workers", lossless=True),
    ]
    alerts_service = await replica_1.subscribe([PRICES], name="alerts", lossless=True)
    sent = ticks(0, 200)
    await replica_1.publish(sent)

    assert await drain(alerts_service, len(sent)) == sent
    shares: list[list[Event]] = [[], []]
    async with asyncio.timeout(5):
        while len(shares[0]) + len(shares[1]) < len(sent):
            for share, worker in zip(shares, workers, strict=True):
                share.extend(await worker.next_batch(timeout=0.05))
    assert all(shares), "both consumers of the group got a share"
    assert sorted(shares[0] + shares[1], key=lambda e: e.ts) == sent


async def test_a_lost_consumer_group_is_recreated(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    bus = await make_bus()
    subscription = await bus.subscribe([PRICES, ALERTS], name="strategy", lossless=True)
    alert = Alert(ts=T0, rule="r", severity=Severity.INFO, message="m")
    await bus.publish([*ticks(0, 3), alert])
    assert len(await drain(subscription, 4)) == 4
    # What a restarted server without persistence looks like: stream and group gone.
    await raw.delete(bus.key(PRICES))
    await bus.publish(ticks(3, 4))
    assert await drain(subscription, 4) == ticks(3, 4)
    # The alert read before the loss was still acknowledged on its own stream.
    assert (await raw.xpending(bus.key(ALERTS), "strategy"))["pending"] == 0


# -- what an entry holds -------------------------------------------------------


async def test_many_events_share_one_stream_entry(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    bus = await make_bus(max_events_per_entry=500)
    sent = ticks(0, 10_000)
    for start in range(0, len(sent), 1_000):
        await bus.publish(sent[start : start + 1_000])
    assert await raw.xlen(bus.key(PRICES)) == 20  # 10,000 events, 500 per entry

    alerts = [
        Alert(ts=T0, rule="r", severity=Severity.INFO, message=str(i), key=str(i)) for i in range(3)
    ]
    await bus.publish([*ticks(0, 7), *alerts])
    assert await raw.xlen(bus.key(PRICES)) == 21
    [(_, fields)] = await entries(raw, bus.key(ALERTS))
    assert set(fields) == {b"topic", b"type", b"encoding", b"payload"}
    assert fields[b"topic"] == b"alerts"
    assert fields[b"type"] == b"batch"
    assert fields[b"encoding"] == b"msgpack"
    assert msgspec.msgpack.decode(fields[b"payload"], type=list[Alert]) == alerts


async def test_json_entries_are_readable_by_any_bus(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    json_bus = await make_bus(encoding="json")
    msgpack_bus = await make_bus(encoding="msgpack")
    viewer = await msgpack_bus.subscribe([PRICES], name="viewer")
    sent = ticks(0, 5)
    await json_bus.publish(sent)
    [(_, fields)] = await entries(raw, json_bus.key(PRICES))
    assert fields[b"encoding"] == b"json"
    assert fields[b"payload"].startswith(b'[{"type":"PriceTick"')
    assert await drain(viewer, 5) == sent


async def test_maxlen_keeps_the_stream_bounded(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    bus = await make_bus(maxlen=200, max_events_per_entry=1)
    for start in range(0, 5_000, 500):
        await bus.publish(ticks(start, 500))
    length = await raw.xlen(bus.key(PRICES))
    # "~" trims whole radix-tree nodes (100 entries by default), never below maxlen.
    assert 200 <= length <= 300


async def test_pending_entries_trimmed_by_maxlen_are_counted_and_skipped(
    make_bus: RedisBusFactory,
) -> None:
    bus = await make_bus(maxlen=100, max_events_per_entry=1)
    subscription = await bus.subscribe([PRICES], name="slow", lossless=True)
    await bus.publish(ticks(0, 5))
    assert len(await drain(subscription, 5)) == 5
    await subscription.close()  # the 5 stay pending...
    await bus.publish(ticks(5, 1_000))  # ...until MAXLEN trims them away

    again = await bus.subscribe([PRICES], name="slow", lossless=True)
    received = await drain(again, 1)
    assert again.lost_entries == 5
    assert received[0] not in ticks(0, 5)


async def test_malformed_entries_are_counted_acknowledged_and_skipped(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    bus = await make_bus()
    strategy = await bus.subscribe([PRICES], name="strategy", lossless=True)
    viewer = await bus.subscribe([PRICES], name="viewer")
    key = bus.key(PRICES)
    alert = Alert(ts=T0, rule="r", severity=Severity.INFO, message="m")
    garbage: list[dict[str, str | bytes]] = [
        {"topic": "prices", "type": "batch", "encoding": "msgpack", "payload": b"\xc1garbage"},
        {"topic": "prices", "type": "batch", "encoding": "pickle", "payload": b"\x80\x04"},
        {"topic": "prices", "type": "snapshot", "encoding": "msgpack", "payload": b"\x90"},
        {"topic": "prices", "type": "batch", "encoding": "msgpack"},
        {"topic": "prices", "type": "batch", "encoding": "msgpack", "payload": encode([alert])},
    ]
    for fields in garbage:
        await raw.xadd(key, fields)  # type: ignore[arg-type]
    good = ticks(0, 3)
    await bus.publish(good)

    assert await drain(strategy, 3) == good
    assert strategy.rejected == len(garbage)
    assert await drain(viewer, 3) == good
    assert viewer.rejected == len(garbage)
    # Asking for more acknowledges everything read, bad entries included.
    assert await strategy.next_batch(timeout=0.05) == []
    assert (await raw.xpending(key, "strategy"))["pending"] == 0


# -- failures ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_an_unreachable_server_is_a_bus_error() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", prefix="nowhere")
    with pytest.raises(BusError, match="unreachable"):
        await bus.start()
    with pytest.raises(BusError, match="cannot publish 1 events"):
        await bus.publish([tick()])
    with pytest.raises(BusError, match="cannot subscribe"):
        await bus.subscribe([PRICES], name="strategy", lossless=True)
    await bus.close()


async def test_a_refusing_server_is_a_bus_error_too(
    make_bus: RedisBusFactory, raw: aioredis.Redis
) -> None:
    bus = await make_bus()
    await raw.set(bus.key(PRICES), "not a stream")  # e.g. a prefix shared by mistake
    with pytest.raises(BusError, match=r"refused.*WRONGTYPE"):
        await bus.publish([tick()])
    with pytest.raises(BusError, match=r"refused.*WRONGTYPE"):
        await bus.subscribe([PRICES], name="viewer")


def test_the_url_password_stays_out_of_messages() -> None:
    bus = RedisBus("redis://:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in bus.describe()
    assert "***" in bus.describe()


class ThrowawayRedis:
    """A private redis-server on a free port that a test may kill and restart."""

    def __init__(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.skip("redis-server is not installed")
        self.executable = executable
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.executable,
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            # No persistence: a restart comes back empty, the harder case.
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        client = aioredis.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(10):
                while True:
                    try:
                        if await client.ping():
                            return
                    except (OSError, aioredis.ConnectionError):
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), 10)
            self.process = None


@pytest.fixture
async def throwaway_redis() -> AsyncIterator[ThrowawayRedis]:
    server = ThrowawayRedis()
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


@pytest.mark.slow
async def test_the_bus_rides_out_a_redis_outage(throwaway_redis: ThrowawayRedis) -> None:
    bus = RedisBus(throwaway_redis.url, prefix="outage", backoff_initial_s=0.02, backoff_max_s=0.2)
    try:
        await bus.start()
        strategy = await bus.subscribe([PRICES], name="strategy", lossless=True)
        viewer = await bus.subscribe([PRICES], name="viewer")
        before = ticks(0, 3)
        await bus.publish(before)
        assert await drain(strategy, 3) == before
        assert await drain(viewer, 3) == before

        # Readers blocked in XREAD/XREADGROUP when the server dies keep retrying
        # instead of crashing, and get what is published once it is back.
        strategy_waiting = asyncio.create_task(drain(strategy, 2, within_s=15))
        viewer_waiting = asyncio.create_task(drain(viewer, 2, within_s=15))
        await asyncio.sleep(0.2)
        await throwaway_redis.kill()
        with pytest.raises(BusError, match="unreachable"):
            await bus.publish(ticks(3, 1))
        await asyncio.sleep(0.5)
        assert not strategy_waiting.done()
        assert not viewer_waiting.done()
        assert strategy.errors >= 2
        assert viewer.errors >= 2

        await throwaway_redis.start()  # same port, empty: the group must be recreated
        after = ticks(10, 2)
        await bus.publish(after)
        assert await strategy_waiting == after
        assert await viewer_waiting == after

        # During an outage a timed read just comes back empty.
        await throwaway_redis.kill()
        assert await strategy.next_batch(timeout=0.3) == []
        assert await viewer.next_batch(timeout=0.3) == []
        await throwaway_redis.start()
        await bus.publish(ticks(20, 1))
        assert await drain(strategy, 1) == ticks(20, 1)
        assert await drain(viewer, 1) == ticks(20, 1)

        # Closing while the server is down and a reader is retrying is prompt.
        await throwaway_redis.kill()
        retrying = asyncio.create_task(strategy.next_batch())
        await asyncio.sleep(0.3)
        assert not retrying.done()
        await bus.close()
        with pytest.raises(BusClosed):
            await asyncio.wait_for(retrying, 1.0)
    finally:
        await bus.close()


async def test_timestamps_survive_the_wire_as_utc(make_bus: RedisBusFactory) -> None:
    bus = await make_bus()
    viewer = await bus.subscribe([PRICES], name="viewer")
    sent = tick(at=T0 + timedelta(microseconds=123_456))
    await bus.publish([sent])
    [received] = await drain(viewer, 1)
    assert received == sent
    assert received.ts.utcoffset() == timedelta(0)
