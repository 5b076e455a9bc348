"""RedisConnection: what a RedisBus and its subscriptions share of one Redis server.

The client (with redis-py's own retries off), the stream key layout, how many
entries one read takes, the backoff a subscription rides outages out with,
whether the bus is closed, and the creation of consumer groups.
:class:`~engine.bus.redis_streams.RedisBus` owns one and hands it to every
:class:`~engine.bus.redis_subscription.RedisSubscription`, so neither module
needs the other's internals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.bus.base import BusError

# What "the server is unreachable" looks like from redis-py.
UNREACHABLE: Final = (RedisConnectionError, RedisTimeoutError, OSError)

# A blocking read never waits longer than this in one command, so a dead peer
# that sends no RST is noticed through the socket timeout, which must be longer.
MAX_BLOCK_MS: Final = 2_000


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class RedisConnection:
    """One Redis server as a bus and its subscriptions see it (module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        read_count: int,
        backoff_initial_s: float,
        backoff_max_s: float,
        socket_timeout_s: float,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.read_count = read_count
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.closed = False
        # redis-py's own retries would hide outages behind long stalls and could
        # repeat a half-sent XADD pipeline; the bus reports or retries itself.
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=min(socket_timeout_s, 2.0),
            socket_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0),
        )

    def key(self, topic: str) -> str:
        """The stream key of ``topic``."""
        return f"{self.prefix}:{topic}"

    def describe(self) -> str:
        return f"Redis at {redact(self.url)}"

    async def create_groups(self, group: str, keys: Iterable[str], *, start_id: str) -> None:
        """Create consumer group ``group`` on each stream (an existing one is kept)."""
        for key in keys:
            try:
                await self.client.xgroup_create(key, group, id=start_id, mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise BusError(
                        f"cannot create consumer group {group!r} on {key}: {exc}"
                    ) from exc


__all__ = ["MAX_BLOCK_MS", "UNREACHABLE", "RedisConnection", "redact"]
