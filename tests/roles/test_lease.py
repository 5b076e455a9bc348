"""The Redis lease on the machine's real Redis (a fresh key prefix per test)."""

from __future__ import annotations

import asyncio
import time

import pytest

from gridtui.roles.lease import LeaseLost, RedisLease

LEASE_S = 0.6


@pytest.fixture
def lease_pair(redis_prefix):
    url, prefix = redis_prefix
    key = f"{prefix}:lease:ingest:mock"
    return RedisLease(url, key, "node-a", LEASE_S), RedisLease(url, key, "node-b", LEASE_S)


async def test_one_holder_at_a_time_and_everyone_can_read_who(lease_pair):
    a, b = lease_pair
    try:
        assert await a.try_acquire()
        assert not await b.try_acquire()
        assert await b.holder() == "node-a"
        # Renewed, it outlives its period many times over.
        keeper = asyncio.create_task(a.keep())
        await asyncio.sleep(3 * LEASE_S)
        assert not await b.try_acquire()
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        # A clean release hands over at once.
        await a.release()
        assert await b.try_acquire()
        assert await b.holder() == "node-b"
    finally:
        await a.release()
        await b.release()


async def test_a_dead_holder_s_lease_lapses_and_the_standby_takes_over(lease_pair):
    a, b = lease_pair
    try:
        assert await a.try_acquire()
        died_at = time.monotonic()  # a never renews: as if killed with -9
        await asyncio.wait_for(b.acquire(), timeout=4 * LEASE_S)
        waited_s = time.monotonic() - died_at
        assert LEASE_S * 0.8 <= waited_s <= 2 * LEASE_S
        # The old holder can neither renew nor delete its successor's lease.
        assert not await a.renew()
        await a.release()
        assert await b.holder() == "node-b"
    finally:
        await b.release()


async def test_a_holder_whose_lease_was_taken_steps_down(lease_pair, redis_prefix):
    import redis.asyncio as aioredis

    a, b = lease_pair
    other = aioredis.Redis.from_url(redis_prefix[0])
    try:
        assert await a.try_acquire()
        keeper = asyncio.create_task(a.keep())
        # Another node holds the key now (as after this one stalled past its lease).
        await other.set(a.key, "node-c#0001", px=a.lease_ms * 5)
        with pytest.raises(LeaseLost, match="node-c"):
            await asyncio.wait_for(keeper, timeout=3 * LEASE_S)
        assert not a.held
        assert await b.holder() == "node-c"  # and a did not delete it on the way out
        await a.release()
        assert await b.holder() == "node-c"
    finally:
        await a.release()
        await b.release()
        await other.aclose()
