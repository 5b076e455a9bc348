"""RedisSubscription: one subscriber's cursor on the topic streams of a RedisBus.

Lossless subscribers read through a consumer group (``XREADGROUP``) and
acknowledge a batch when they ask for the next one; lossy ones (viewers) follow
the streams with plain ``XREAD``. Outages are ridden out with capped exponential
backoff. See :mod:`engine.bus.redis_streams` for the layout and the guarantees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.exceptions import ResponseError

from engine.bus.base import BusClosed, BusError, iterate
from engine.bus.codec import ENCODINGS, CodecError, Encoding, decode
from engine.bus.redis_connection import MAX_BLOCK_MS, UNREACHABLE, RedisConnection
from engine.events import TOPIC_OF, Event

_log = logging.getLogger(__name__)

# (entry id, fields); fields is empty for a pending entry that MAXLEN trimmed.
StreamEntry = tuple[bytes, dict[bytes, bytes]]


def _is_nogroup(exc: ResponseError) -> bool:
    return "NOGROUP" in str(exc)


class RedisSubscription:
    """One subscriber's cursor on the topic streams. Not safe for two readers.

    It reads through the bus's :class:`RedisConnection` and tells the bus it
    closed through ``on_close``.
    """

    def __init__(
        self,
        connection: RedisConnection,
        name: str,
        topics: frozenset[str],
        *,
        lossless: bool,
        consumer: str,
        positions: dict[str, bytes],
        on_close: Callable[[RedisSubscription], None] = lambda _: None,
    ) -> None:
        self._connection = connection
        self._on_close = on_close
        self._name = name
        self.topics = topics
        self.lossless = lossless
        self.consumer = consumer
        self._topic_of_key = {connection.key(topic): topic for topic in sorted(topics)}
        # Lossy: last id read per stream. Lossless: unused (the group keeps it).
        self._positions = positions
        # Lossless: this consumer's pending entries still to re-read, per stream
        # (cursor = last pending id seen). Empty once caught up with the backlog.
        self._pending_cursor: dict[str, bytes] = {}
        if lossless:
            self._restart_pending_scan()
        # Entries returned by the last next_batch, acknowledged by the next one.
        self._unacked: dict[str, list[bytes]] = {}
        self._closing: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._read_task: asyncio.Task[list[tuple[str, list[StreamEntry]]]] | None = None
        self._backoff_s = connection.backoff_initial_s
        self._failures_in_row = 0
        self.rejected = 0
        """Malformed entries skipped (and acknowledged)."""
        self.lost_entries = 0
        """Lossless: pending entries that MAXLEN trimmed before they were handled."""
        self.errors = 0
        """Reads that failed because Redis was unreachable (each one retried)."""

    @property
    def name(self) -> str:
        return self._name

    @property
    def dropped(self) -> int:
        """Always 0 on Redis: the stream is the buffer (see the module docstring)."""
        return 0

    @property
    def closed(self) -> bool:
        return self._closing.done()

    async def next_batch(self, timeout: float | None = None) -> list[Event]:
        """The next events, in publish order within each topic.

        Acknowledges the previous batch first (lossless). Waits at most
        ``timeout`` seconds (forever if ``None``), riding out Redis outages.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + max(0.0, timeout)
        while True:
            self._raise_if_closed()
            if deadline is None:
                block_ms: int | None = MAX_BLOCK_MS
            else:
                remaining_ms = int((deadline - loop.time()) * 1000)
                # BLOCK 0 would mean "forever": an expired budget reads without blocking.
                block_ms = min(remaining_ms, MAX_BLOCK_MS) if remaining_ms > 0 else None
            try:
                response = await self._interruptible(self._read(block_ms))
            except UNREACHABLE as exc:
                await self._on_unreachable(exc, deadline)
            else:
                self._on_reachable()
                events = self._decode(response)
                if events:
                    return events
            if deadline is not None and loop.time() >= deadline:
                return []

    async def ack(self) -> None:
        """Acknowledge the last batch now (lossless), e.g. before a clean shutdown.

        Raises:
            BusError: Redis is unreachable; the batch stays pending.
        """
        if not self._unacked:
            return
        pipe = self._connection.client.pipeline(transaction=False)
        self._queue_acks(pipe)
        try:
            await pipe.execute()
        except UNREACHABLE as exc:
            raise BusError(f"cannot acknowledge on {self._connection.describe()}: {exc}") from exc
        self._unacked.clear()

    def __aiter__(self) -> AsyncIterator[Event]:
        return iterate(self)

    async def close(self) -> None:
        """Stop reading. Unacknowledged entries stay pending for the next run."""
        if not self._closing.done():
            self._closing.set_result(None)
        task = self._read_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, *UNREACHABLE, BusError):
                await task
        self._on_close(self)

    # -- reading ---------------------------------------------------------------

    def _raise_if_closed(self) -> None:
        if self._closing.done() or self._connection.closed:
            raise BusClosed(f"subscription {self._name!r} is closed")

    async def _interruptible(
        self, read: Awaitable[list[tuple[str, list[StreamEntry]]]]
    ) -> list[tuple[str, list[StreamEntry]]]:
        """Await ``read`` unless ``close()`` comes first (then raise BusClosed)."""
        task = asyncio.ensure_future(read)
        self._read_task = task
        waiting: set[asyncio.Future[Any]] = {task, self._closing}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not task.done():
                # Cancelled mid-command: redis-py drops that connection, and a
                # lossless read may have been delivered to us unseen, so re-scan
                # this consumer's pending entries next time.
                task.cancel()
                # redis-py may end a cancelled read with its own error (the
                # connection it tears down) rather than CancelledError; nobody
                # awaits it any more, so see it here, not as "never retrieved".
                task.add_done_callback(lambda t: t.cancelled() or t.exception())
                self._restart_pending_scan()
            self._read_task = None
        # close() may also have cancelled the read: closing wins over its outcome.
        if self._closing.done():
            if task.done() and not task.cancelled():
                task.exception()  # mark a failed read as seen: it is moot now
            raise BusClosed(f"subscription {self._name!r} is closed")
        return task.result()

    async def _read(self, block_ms: int | None) -> list[tuple[str, list[StreamEntry]]]:
        if not self._topic_of_key:
            # Nothing subscribed: behave like an idle stream.
            await asyncio.sleep((block_ms or 0) / 1000)
            return []
        if self.lossless:
            return await self._read_group(block_ms)
        try:
            return await self._read_tail(block_ms)
        except ResponseError as exc:  # e.g. WRONGTYPE: a misconfigured prefix, not an outage
            raise BusError(f"Redis refused a read of {self._name!r}: {exc}") from exc

    async def _read_tail(self, block_ms: int | None) -> list[tuple[str, list[StreamEntry]]]:
        client = self._connection.client
        streams: dict[Any, Any] = dict(self._positions)
        raw = await client.xread(streams, count=self._connection.read_count, block=block_ms)
        response = self._normalise(raw)
        for key, entries in response:
            if entries:
                self._positions[key] = entries[-1][0]
        return response

    async def _read_group(self, block_ms: int | None) -> list[tuple[str, list[StreamEntry]]]:
        try:
            if self._pending_cursor:
                response = await self._read_pending()
                if any(entries for _, entries in response):
                    return response
            return await self._ack_and_read(dict.fromkeys(self._topic_of_key, b">"), block_ms)
        except ResponseError as exc:
            if not _is_nogroup(exc):
                raise BusError(f"Redis refused a read of {self._name!r}: {exc}") from exc
            # The stream or group vanished (a server restarted without
            # persistence, or someone deleted the key). Recreate the group at the
            # start of whatever the stream holds now, so nothing published since
            # is missed; the old pending entries are gone with it. Acks still
            # owed stay queued: XACK of a vanished group is a harmless 0, and the
            # other streams still want theirs.
            _log.warning(
                "consumer group %r missing on %s; recreating it",
                self._name,
                self._connection.describe(),
            )
            self._restart_pending_scan()
            await self._connection.create_groups(self._name, self._topic_of_key, start_id="0")
            return []

    async def _read_pending(self) -> list[tuple[str, list[StreamEntry]]]:
        """Re-read entries delivered to this consumer but never acknowledged."""
        streams = dict(self._pending_cursor)
        response = await self._ack_and_read(streams, block_ms=None)
        for key in streams:
            entries = next((e for k, e in response if k == key), [])
            if entries:
                self._pending_cursor[key] = entries[-1][0]
            else:
                del self._pending_cursor[key]
        return response

    async def _ack_and_read(
        self, streams: dict[str, bytes], block_ms: int | None
    ) -> list[tuple[str, list[StreamEntry]]]:
        # One round trip: acknowledge the last batch, then read the next.
        pipe = self._connection.client.pipeline(transaction=False)
        self._queue_acks(pipe)
        group_streams: dict[Any, Any] = streams
        pipe.xreadgroup(
            self._name,
            self.consumer,
            group_streams,
            count=self._connection.read_count,
            block=block_ms,
        )
        results = await pipe.execute()
        self._unacked.clear()  # XACK is idempotent: on failure they are simply sent again
        return self._normalise(results[-1])

    def _queue_acks(self, pipe: Any) -> None:
        for key, ids in self._unacked.items():
            if ids:
                pipe.xack(key, self._name, *ids)

    @staticmethod
    def _normalise(raw: Any) -> list[tuple[str, list[StreamEntry]]]:
        """XREAD/XREADGROUP replies as ``[(key, entries)]`` (RESP2 list or RESP3 dict)."""
        if not raw:
            return []
        pairs = raw.items() if isinstance(raw, dict) else raw
        result: list[tuple[str, list[StreamEntry]]] = []
        for key, entries in pairs:
            # RESP3 wraps each stream's entries in one more list.
            if entries and isinstance(entries[0], list):
                entries = entries[0]
            name = key.decode() if isinstance(key, bytes) else str(key)
            result.append((name, [(entry_id, fields or {}) for entry_id, fields in entries]))
        return result

    def _decode(self, response: list[tuple[str, list[StreamEntry]]]) -> list[Event]:
        events: list[Event] = []
        for key, entries in response:
            topic = self._topic_of_key.get(key)
            if topic is None:
                continue
            if self.lossless and entries:
                self._unacked.setdefault(key, []).extend(entry_id for entry_id, _ in entries)
            for entry_id, fields in entries:
                if not fields:
                    self.lost_entries += 1
                    _log.warning(
                        "%s entry %s was trimmed by MAXLEN before %r handled it",
                        key,
                        entry_id.decode(),
                        self._name,
                    )
                    continue
                try:
                    events.extend(self._decode_entry(topic, fields))
                except CodecError as exc:
                    self.rejected += 1
                    _log.warning(
                        "skipping malformed entry %s in %s for %r: %s",
                        entry_id.decode(),
                        key,
                        self._name,
                        exc,
                    )
        return events

    @staticmethod
    def _decode_entry(topic: str, fields: dict[bytes, bytes]) -> list[Event]:
        kind = fields.get(b"type")
        if kind != b"batch":
            raise CodecError(f"envelope type {kind!r} is not b'batch'")
        raw_encoding = fields.get(b"encoding", b"")
        payload = fields.get(b"payload")
        if payload is None:
            raise CodecError("envelope has no payload")
        encoding: Encoding
        if raw_encoding == b"msgpack":
            encoding = "msgpack"
        elif raw_encoding == b"json":
            encoding = "json"
        else:
            raise CodecError(f"unknown encoding {raw_encoding!r}; use one of {ENCODINGS}")
        events = decode(payload, encoding)
        # A foreign producer could put events on the wrong stream; subscribers
        # must still get only their topics.
        for event in events:
            if TOPIC_OF[type(event)] != topic:
                raise CodecError(f"{type(event).__name__} does not belong on topic {topic!r}")
        return events

    # -- outages ---------------------------------------------------------------

    def _restart_pending_scan(self) -> None:
        if self.lossless:
            self._pending_cursor = dict.fromkeys(self._topic_of_key, b"0")

    async def _on_unreachable(self, exc: BaseException, deadline: float | None) -> None:
        self.errors += 1
        self._failures_in_row += 1
        self._restart_pending_scan()
        if self._failures_in_row == 1:
            _log.warning(
                "subscription %r lost %s (%s); retrying with backoff",
                self._name,
                self._connection.describe(),
                exc,
            )
        delay = self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._connection.backoff_max_s)
        if deadline is not None:
            delay = min(delay, max(0.0, deadline - asyncio.get_running_loop().time()))
        # Sleep, but wake at once on close().
        await asyncio.wait({self._closing}, timeout=delay)

    def _on_reachable(self) -> None:
        if self._failures_in_row:
            _log.info(
                "subscription %r is back on %s after %d failed reads",
                self._name,
                self._connection.describe(),
                self._failures_in_row,
            )
        self._failures_in_row = 0
        self._backoff_s = self._connection.backoff_initial_s
