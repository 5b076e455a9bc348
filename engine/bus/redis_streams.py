"""RedisBus: the Bus on Redis Streams, for several processes sharing one feed.

The daemon's runtime publishes here; attached TUIs, workers and other daemons
subscribe. It mirrors :class:`engine.bus.memory.MemoryBus` — same topics, same
events, same contract suite (``tests/contract/test_bus.py``) — and adds what a
shared, persistent log gives: consumer groups that resume after a restart.

Layout in Redis:

* one stream per topic, key ``f"{prefix}:{topic}"``;
* each entry is the envelope ``{topic, type, encoding, payload}`` where ``type``
  is ``"batch"`` and ``payload`` is a list of up to ``max_events_per_entry``
  tagged events (:mod:`engine.bus.codec`). Packing many events per entry is what
  makes publishing cheap: one XADD per few hundred events instead of one each;
* every XADD trims with ``MAXLEN ~ maxlen`` (approximate, so Redis trims whole
  radix-tree nodes), which bounds memory — ``maxlen`` counts entries, not events;
* a lossless subscriber is a consumer group named after the subscriber, with one
  consumer ``f"{name}-{consumer_id}"``.

Delivery:

* **lossless** — ``XREADGROUP``. A batch is acknowledged (``XACK``) when the next
  one is asked for, so delivery is at-least-once: a subscriber that dies while
  handling a batch gets it again after a restart (this consumer's pending
  entries are re-read from id ``0`` first), and one that restarts with the same
  ``name`` resumes after the last acknowledged entry. ``close()`` does not
  acknowledge the last batch; call :meth:`RedisSubscription.ack` first when it
  was handled. Entries trimmed by ``MAXLEN`` before the group read them are
  gone, so ``maxlen`` must exceed the largest backlog a component may build.
* **lossy** (viewers) — plain ``XREAD`` from the stream's end at subscribe time,
  tracking the last id read. The producer never waits for a viewer: the stream,
  bounded by ``MAXLEN``, is the viewer's buffer, and a viewer that falls further
  behind than that resumes at the oldest surviving entry. Redis cannot say how
  many events were inside entries it trimmed, so :attr:`RedisSubscription.dropped`
  stays 0 and ``maxsize`` is not used.

Failures: ``start`` and ``publish`` raise :class:`engine.bus.BusError` when Redis
is unreachable (the caller decides whether to buffer or retry). A subscription
never crashes on an outage: ``next_batch`` retries with capped exponential
backoff until the server is back (or its timeout passes), and recreates its
consumer group if a restarted server lost it. A malformed entry is logged,
counted in ``rejected``, acknowledged and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from engine.bus.base import BusClosed, BusError
from engine.bus.codec import ENCODINGS, Encoding, encode
from engine.bus.redis_connection import MAX_BLOCK_MS, UNREACHABLE, RedisConnection
from engine.bus.redis_subscription import RedisSubscription
from engine.events import ALL_TOPICS, TOPIC_OF, Event

_log = logging.getLogger(__name__)


class RedisBus:
    """The Bus on Redis Streams (see the module docstring)."""

    backend = "redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "gridtui",
        maxlen: int = 100_000,
        encoding: Encoding = "msgpack",
        max_events_per_entry: int = 500,
        consumer_id: str = "1",
        read_count: int = 100,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 5.0,
        socket_timeout_s: float = 10.0,
    ) -> None:
        """
        Args:
            url: the Redis server.
            prefix: stream keys are ``f"{prefix}:{topic}"``.
            maxlen: approximate bound on entries kept per stream.
            encoding: payload encoding of published entries.
            max_events_per_entry: how many events one stream entry carries.
            consumer_id: a lossless subscriber is consumer ``f"{name}-{consumer_id}"``
                in group ``name``; give replicas of one service different ids.
            read_count: entries read per stream per round trip.
            backoff_initial_s, backoff_max_s: retry delays of a subscription
                while Redis is unreachable (doubling, capped).
            socket_timeout_s: how long one command may wait on the network.
        """
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}; use one of {ENCODINGS}")
        if maxlen < 1 or max_events_per_entry < 1 or read_count < 1:
            raise ValueError("maxlen, max_events_per_entry and read_count must be ≥ 1")
        if socket_timeout_s * 1000 <= MAX_BLOCK_MS:
            raise ValueError(f"socket_timeout_s must exceed {MAX_BLOCK_MS / 1000} s")
        self.connection = RedisConnection(
            url,
            prefix=prefix,
            read_count=read_count,
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            socket_timeout_s=socket_timeout_s,
        )
        self.maxlen = maxlen
        self.encoding: Encoding = encoding
        self.max_events_per_entry = max_events_per_entry
        self.consumer_id = consumer_id
        self._subscriptions: list[RedisSubscription] = []
        self.published = 0

    @property
    def url(self) -> str:
        return self.connection.url

    @property
    def prefix(self) -> str:
        return self.connection.prefix

    @property
    def client(self) -> aioredis.Redis:
        return self.connection.client

    @property
    def closed(self) -> bool:
        return self.connection.closed

    def key(self, topic: str) -> str:
        """The stream key of ``topic``."""
        return self.connection.key(topic)

    def describe(self) -> str:
        return self.connection.describe()

    async def start(self) -> None:
        """Check that Redis answers. Raises BusError if it does not."""
        self._raise_if_closed()
        try:
            await self.client.ping()
        except UNREACHABLE as exc:
            raise BusError(f"{self.describe()} is unreachable: {exc}") from exc

    async def publish(self, events: Sequence[Event]) -> None:
        """XADD the events, grouped by topic, ``max_events_per_entry`` per entry.

        One pipelined round trip for the whole batch. Events of one topic keep
        their order; there is no order across topics.

        Raises:
            BusError: Redis is unreachable (nothing, or only part, was published).
            BusClosed: the bus was closed.
        """
        self._raise_if_closed()
        if not events:
            return
        by_topic: dict[str, list[Event]] = {}
        for event in events:
            topic = TOPIC_OF[type(event)]
            bucket = by_topic.get(topic)
            if bucket is None:
                by_topic[topic] = [event]
            else:
                bucket.append(event)
        pipe = self.client.pipeline(transaction=False)
        step = self.max_events_per_entry
        for topic, topic_events in by_topic.items():
            key = self.key(topic)
            for start in range(0, len(topic_events), step):
                payload = encode(topic_events[start : start + step], self.encoding)
                fields: dict[Any, Any] = {
                    "topic": topic,
                    "type": "batch",
                    "encoding": self.encoding,
                    "payload": payload,
                }
                pipe.xadd(key, fields, maxlen=self.maxlen, approximate=True)
        try:
            await pipe.execute()
        except UNREACHABLE as exc:
            raise BusError(
                f"cannot publish {len(events)} events: {self.describe()} is unreachable ({exc})"
            ) from exc
        except ResponseError as exc:  # OOM, READONLY replica, WRONGTYPE...
            raise BusError(
                f"cannot publish {len(events)} events: {self.describe()} refused ({exc})"
            ) from exc
        self.published += len(events)

    async def subscribe(
        self,
        topics: Iterable[str],
        *,
        name: str,
        lossless: bool = False,
        maxsize: int = 10_000,
    ) -> RedisSubscription:
        """Subscribe from now on (see the module docstring for the two modes).

        Raises:
            ValueError: an unknown topic.
            BusError: Redis is unreachable.
            BusClosed: the bus was closed.
        """
        self._raise_if_closed()
        wanted = frozenset(topics)
        unknown = wanted - set(ALL_TOPICS)
        if unknown:
            raise ValueError(f"unknown topics {sorted(unknown)}; known: {list(ALL_TOPICS)}")
        keys = [self.key(topic) for topic in sorted(wanted)]
        positions: dict[str, bytes] = {}
        try:
            if lossless:
                # "$": a new group starts with what is published from now on; an
                # existing one (a restart) keeps its place.
                await self.connection.create_groups(name, keys, start_id="$")
            else:
                positions = await self._tail_positions(keys)
        except UNREACHABLE as exc:
            raise BusError(f"cannot subscribe {name!r}: {self.describe()} is unreachable") from exc
        except ResponseError as exc:
            raise BusError(f"cannot subscribe {name!r}: {self.describe()} refused ({exc})") from exc
        subscription = RedisSubscription(
            self.connection,
            name,
            wanted,
            lossless=lossless,
            consumer=f"{name}-{self.consumer_id}",
            positions=positions,
            on_close=self._forget,
        )
        self._subscriptions.append(subscription)
        return subscription

    async def close(self) -> None:
        """Close every subscription and the connections. Idempotent."""
        if self.connection.closed:
            return
        self.connection.closed = True
        for subscription in list(self._subscriptions):
            await subscription.close()
        await self.client.aclose()

    # -- helpers ---------------------------------------------------------------

    def _raise_if_closed(self) -> None:
        if self.connection.closed:
            raise BusClosed("bus is closed")

    def _forget(self, subscription: RedisSubscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    async def _tail_positions(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The id of each stream's last entry (``0-0`` when empty or missing)."""
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.xrevrange(key, count=1)
        results = await pipe.execute()
        return {
            key: last[0][0] if last else b"0-0" for key, last in zip(keys, results, strict=True)
        }
