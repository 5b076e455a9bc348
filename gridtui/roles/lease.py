"""The lease that makes one ``ingest`` (and one ``analytics``) node active per feed.

A Redis key with an expiry, not a PostgreSQL advisory lock, because:

* the lease must lapse when its holder dies *however* it dies. A Redis key
  expires ``lease_s`` after the last renewal whatever happened to the holder's
  process, host or network; an advisory lock lives as long as the holder's
  PostgreSQL session, and a half-open TCP connection (a host that froze or was
  cut off, not one that was killed) keeps that session for the kernel's TCP
  keepalive timeout — minutes, not ``lease_s``;
* it needs no connection held open for the lease alone: the store's pool
  stays a pool, and an advisory lock would pin one of its connections for life;
* every split-role node already talks to Redis (the bus), and Redis is where
  the "who is active" question is read from (``/health`` of every node).

Acquire is ``SET key token NX PX lease_ms``; renewal and release are small Lua
scripts that act only while the key still holds *our* token, so a node that
stalled past its lease can never extend or delete its successor's. The holder
renews every third of the lease, so two renewals may fail (a Redis blip)
before it lapses. A holder that finds its lease gone steps down (the daemon
stops its feed): there is never a moment where it believes it is active while
another node holds the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Extend only our own lease (KEYS[1] = key, ARGV[1] = token, ARGV[2] = lease ms).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Delete only our own lease (a clean stop hands over at once, no waiting for expiry).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def default_node_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class LeaseLost(RuntimeError):
    """The lease lapsed or was taken while this node believed it held it."""


class RedisLease:
    """One role's lease in Redis (see the module docstring).

    Args:
        url: the Redis server (the bus's).
        key: the lease key, e.g. ``gridtui:lease:ingest:mock``.
        node_id: written as the key's value (with a random suffix), so anyone can
            read who is active.
        lease_s: how long the lease lasts without renewal.
    """

    def __init__(self, url: str, key: str, node_id: str, lease_s: float) -> None:
        self.key = key
        self.node_id = node_id
        self.lease_s = lease_s
        self.token = f"{node_id}#{secrets.token_hex(4)}"
        self._client: Any = aioredis.Redis.from_url(url, socket_timeout=max(1.0, lease_s / 3))
        self.held = False

    @property
    def lease_ms(self) -> int:
        return max(1, round(self.lease_s * 1000))

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it. Raises RedisError when Redis is unreachable."""
        taken = await self._client.set(self.key, self.token, nx=True, px=self.lease_ms)
        self.held = bool(taken)
        return self.held

    async def acquire(self, *, poll_s: float | None = None) -> None:
        """Wait until this node holds the lease, trying every ``poll_s`` (a tenth of the lease).

        A Redis outage while waiting is logged and waited out: a standby stays standby.
        """
        poll_s = poll_s if poll_s is not None else max(0.05, self.lease_s / 10)
        warned = False
        while True:
            try:
                if await self.try_acquire():
                    return
                warned = False
            except RedisError as exc:
                if not warned:
                    log.warning("lease %s: Redis unreachable while waiting (%s)", self.key, exc)
                    warned = True
            await asyncio.sleep(poll_s)

    async def holder(self) -> str:
        """The node id holding the lease now, or "" when nobody does."""
        try:
            value = await self._client.get(self.key)
        except RedisError:
            return ""
        if value is None:
            return ""
        text = value.decode() if isinstance(value, bytes) else str(value)
        return text.rsplit("#", 1)[0]

    async def renew(self) -> bool:
        """Extend the lease if it is still ours; False when it is not (or Redis failed)."""
        try:
            renewed = await self._client.eval(_RENEW, 1, self.key, self.token, self.lease_ms)
        except RedisError as exc:
            log.warning("lease %s: renewal failed (%s)", self.key, exc)
            return False
        return bool(renewed)

    async def keep(self) -> None:
        """Renew every third of the lease while it is held; raise :class:`LeaseLost` once
        another node holds it, or once renewals failed (Redis away) for a whole period.

        A lease that lapsed while nobody took it (this process stalled past its
        period: a long first batch on a busy host) is taken again with ``SET NX``:
        no other node became active in between, so there is nothing to step down for.
        """
        loop = asyncio.get_running_loop()
        last_renewed = loop.time()
        while True:
            await asyncio.sleep(self.lease_s / 3)
            if await self.renew():
                last_renewed = loop.time()
                continue
            try:
                retaken = await self.try_acquire()
            except RedisError:
                retaken = False
            if retaken:
                log.warning("lease %s lapsed unclaimed (this node stalled); taken again", self.key)
                last_renewed = loop.time()
                continue
            holder = await self.holder()
            if holder or loop.time() - last_renewed >= self.lease_s:
                self.held = False
                raise LeaseLost(
                    f"lease {self.key} lost"
                    + (f" to {holder}" if holder else " (not renewed within its period)")
                )

    async def release(self) -> None:
        """Give the lease up (a clean stop) and close the connection. Never raises."""
        try:
            if self.held:
                await self._client.eval(_RELEASE, 1, self.key, self.token)
        except RedisError as exc:
            log.warning("lease %s: release failed (%s); it lapses by itself", self.key, exc)
        finally:
            self.held = False
            await self._client.aclose()


class LeaseWatcher:
    """Who holds each leased role's lease, read every ``interval_s`` for ``/health``.

    Every split-role node runs one, so any node (an API node too) can say which
    ingest and which analytics node is active. ``found`` maps role → node id
    ("" while nobody holds it).
    """

    def __init__(self, url: str, keys: dict[str, str], interval_s: float) -> None:
        self.keys = keys
        self.interval_s = interval_s
        self.found: dict[str, str] = dict.fromkeys(keys, "")
        self._client: Any = aioredis.Redis.from_url(url, socket_timeout=max(1.0, interval_s))

    async def read(self) -> dict[str, str]:
        """Read every lease once. Raises RedisError when Redis is unreachable."""
        values = await self._client.mget(list(self.keys.values()))
        for role, value in zip(self.keys, values, strict=True):
            text = value.decode() if isinstance(value, bytes) else (value or "")
            self.found[role] = text.rsplit("#", 1)[0]
        return self.found

    async def run(self, on_change: Callable[[dict[str, str]], None]) -> None:
        """Read until cancelled, handing each reading on; a Redis outage keeps the last one."""
        try:
            while True:
                # Redis down: the bus's own health says so; keep what we knew.
                with contextlib.suppress(RedisError):
                    on_change(dict(await self.read()))
                await asyncio.sleep(self.interval_s)
        finally:
            await self._client.aclose()
