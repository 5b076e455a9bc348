"""BatchedWriter: the storage path, which never loses an event.

The kernel hands every batch to :meth:`BatchedWriter.add` (synchronous, never
blocks). A background task flushes to the store when ``batch_size`` events are
waiting or the oldest has waited ``max_age_s``. When the database is down the
writer keeps buffering in memory up to ``max_buffered`` events; beyond that it
spills the oldest events to a local file. When the database answers again it
replays the spill file first, then the buffer, in order. A spill file left by a
crash is replayed at the next start. Store writes are idempotent, so replaying
something that was in fact already written is harmless.

Spill file format: records of a 4-byte big-endian length and a MessagePack
batch (``engine.bus.codec``). A torn last record (the process was killed while
appending) is detected by its length and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import struct
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import msgspec

from engine.bus import codec
from engine.clock import Clock
from engine.events import Event
from engine.store.base import Store, StoreError

log = logging.getLogger(__name__)
_LENGTH = struct.Struct(">I")


class WriterConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the storage path batches and buffers.

    Attributes:
        batch_size: events per store transaction.
        max_age_s: flush at the latest this long after an event arrived.
        max_buffered: events held in memory while the store is down before
            the oldest spill to ``spill_path``.
        spill_path: where spilled events go; None disables spilling (then the
            writer holds everything in memory, without bound).
        retry_initial_s / retry_max_s: back-off between attempts while down.
        max_in_flight: store transactions running at once. Two let the database
            commit one batch while the next is being encoded (+50 % on
            PostgreSQL); batches may then commit out of order, which the keyed,
            idempotent writes make harmless. 1 keeps strict order.
        pace_above: flow control for feeds that can wait (a simulation or a
            replay at full speed): :meth:`BatchedWriter.wait_for_room` holds
            them while more events than this wait for a store that is up. A
            live feed is never held; an outage spills instead.
    """

    batch_size: int = 5_000
    max_age_s: float = 0.5
    max_buffered: int = 500_000
    spill_path: str | None = None
    retry_initial_s: float = 0.2
    retry_max_s: float = 5.0
    max_in_flight: int = 2
    pace_above: int = 100_000

    def __post_init__(self) -> None:
        # A batch of 0 spins a core storing nothing; a negative buffer pops an
        # empty deque: refuse both here, where every caller builds one.
        for name in ("batch_size", "max_buffered", "max_in_flight", "pace_above"):
            if getattr(self, name) < 1:
                raise ValueError(f"WriterConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.max_buffered < self.batch_size:
            raise ValueError(
                f"WriterConfig.max_buffered ({self.max_buffered}) must be >= batch_size "
                f"({self.batch_size})"
            )
        for name in ("max_age_s", "retry_initial_s", "retry_max_s"):
            value = getattr(self, name)
            if not 0 < value < math.inf:  # also refuses NaN
                raise ValueError(f"WriterConfig.{name} must be finite and > 0, got {value}")


class WriterStats(msgspec.Struct, kw_only=True):
    written: int = 0
    batches: int = 0
    failures: int = 0
    spilled: int = 0
    replayed_from_spill: int = 0
    store_up: bool = True
    last_error: str = ""


class BatchedWriter:
    def __init__(self, store: Store, clock: Clock, config: WriterConfig | None = None) -> None:
        self.store = store
        self.clock = clock
        self.config = config or WriterConfig()
        self.stats = WriterStats()
        self._buffer: deque[Event] = deque()
        self._in_flight = 0
        self._oldest_at: float | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._feed_waiting = False
        self._tasks: list[asyncio.Task[None]] = []
        self._replay_lock = asyncio.Lock()
        self._closing = False
        self._spill_path = Path(self.config.spill_path) if self.config.spill_path else None

    @property
    def pending(self) -> int:
        """Events accepted but not yet in the store (memory + spill file)."""
        return len(self._buffer) + self._in_flight + self._spilled_pending()

    def _spilled_pending(self) -> int:
        return self.stats.spilled - self.stats.replayed_from_spill

    async def wait_for_room(self) -> None:
        """Wait while more than ``pace_above`` events wait for a store that is up.

        For feeds that can wait (see :class:`WriterConfig`): a full-speed
        simulation or replay then runs at the store's pace instead of piling
        millions of events into memory and the spill file.
        """
        limit = self.config.pace_above
        while self.stats.store_up and len(self._buffer) + self._in_flight > limit:
            self._room.clear()
            # Flush now rather than wait for a full batch or its age: the feed
            # that would fill the batch is the one waiting here.
            self._feed_waiting = True
            self._wake.set()
            try:
                await self._room.wait()
            finally:
                self._feed_waiting = False

    def add(self, events: Sequence[Event]) -> None:
        """Queue events for storage. Never blocks, never drops."""
        if not events:
            return
        if self._oldest_at is None:
            self._oldest_at = self.clock.monotonic()
            # An idle worker waits with no deadline: wake it so that it starts the
            # max_age_s clock (otherwise a trickle is only written at batch_size).
            self._wake.set()
        self._buffer.extend(events)
        if len(self._buffer) >= self.config.batch_size:
            self._wake.set()
        if len(self._buffer) > self.config.max_buffered and self._spill_path is not None:
            self._spill_overflow()

    async def start(self) -> None:
        """Replay what a previous run spilled, then start flushing."""
        if self._spill_path is not None:
            leftover: list[Event] = []
            for path in (self._replaying_path(), self._spill_path):
                if path.exists():
                    leftover += self._read_spill(path)
                    path.unlink()
            if leftover:
                log.warning(
                    "replaying %d events spilled by a previous run from %s",
                    len(leftover),
                    self._spill_path,
                )
                # Stored first: they are older than anything this run will add.
                self._buffer.extendleft(reversed(leftover))
                self._oldest_at = self.clock.monotonic()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"store-writer-{i}")
            for i in range(max(1, self.config.max_in_flight))
        ]

    def _replaying_path(self) -> Path:
        assert self._spill_path is not None
        return self._spill_path.with_name(self._spill_path.name + ".replaying")

    def _spill_to_replay(self) -> bool:
        return bool(self._spilled_pending()) and not self._replay_lock.locked()

    async def _run(self) -> None:
        """One flushing worker; ``max_in_flight`` of them share the buffer."""
        delay = self.config.retry_initial_s
        while True:
            if not self._buffer and not self._spill_to_replay():
                if self._closing:
                    return
                self._wake.clear()
                await self._wait(None)
                continue
            age = self.clock.monotonic() - (self._oldest_at or self.clock.monotonic())
            if (
                len(self._buffer) < self.config.batch_size
                and age < self.config.max_age_s
                and not self._closing
                and not self._feed_waiting
                and not self._spill_to_replay()
            ):
                self._wake.clear()
                await self._wait(self.config.max_age_s - age)
                continue
            try:
                await self._flush_once()
            except StoreError as exc:
                self._mark_down(exc)
                if self._closing:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.retry_max_s)
                continue
            delay = self.config.retry_initial_s

    async def _wait(self, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _flush_once(self) -> None:
        """Write one batch: spilled events first (they are the oldest)."""
        if self._spill_to_replay():
            async with self._replay_lock:
                await self._replay_spill()
            return
        buffer = self._buffer
        if not buffer:
            return
        # Take the batch off the deque (O(batch), where indexing into a long
        # deque is not) and put it back in front if the write fails.
        batch = [buffer.popleft() for _ in range(min(len(buffer), self.config.batch_size))]
        self._in_flight += len(batch)
        try:
            await self.store.write(batch)
        except BaseException:
            buffer.extendleft(reversed(batch))
            raise
        finally:
            self._in_flight -= len(batch)
        self._oldest_at = self.clock.monotonic() if buffer else None
        self._mark_up(len(batch))
        self._room.set()

    async def _replay_spill(self) -> None:
        # Move the file aside first: events that overflow while we replay go to
        # a fresh spill file instead of one we are about to delete.
        replaying = self._replaying_path()
        assert self._spill_path is not None
        if not replaying.exists():
            if not self._spill_path.exists():  # nothing on disk after all
                self.stats.replayed_from_spill = self.stats.spilled
                return
            self._spill_path.rename(replaying)
        spilled = self._read_spill(replaying)
        size = self.config.batch_size
        for start in range(0, len(spilled), size):
            await self.store.write(spilled[start : start + size])
        replaying.unlink()
        self.stats.replayed_from_spill += len(spilled)
        log.info("replayed %d spilled events into the %s store", len(spilled), self.store.backend)
        self._mark_up(len(spilled))

    def _mark_up(self, count: int) -> None:
        self.stats.written += count
        self.stats.batches += 1
        if not self.stats.store_up:
            log.info("%s store is back; %d events pending", self.store.backend, self.pending)
        self.stats.store_up = True

    def _mark_down(self, exc: StoreError) -> None:
        self.stats.failures += 1
        if self.stats.store_up:
            log.error(
                "%s store write failed, buffering (%d pending): %s",
                self.store.backend,
                self.pending,
                exc,
            )
        self.stats.store_up = False
        self.stats.last_error = str(exc)
        self._room.set()  # a held feed goes on: an outage buffers and spills

    def _spill_overflow(self) -> None:
        """Move the oldest events beyond the memory bound into the spill file."""
        assert self._spill_path is not None
        count = len(self._buffer) - self.config.max_buffered // 2
        oldest = [self._buffer.popleft() for _ in range(count)]
        self._append_spill(oldest)
        log.warning("store down: spilled %d events to %s", count, self._spill_path)

    def _append_spill(self, events: Sequence[Event]) -> None:
        assert self._spill_path is not None
        self._spill_path.parent.mkdir(parents=True, exist_ok=True)
        payload = codec.encode(events)
        with self._spill_path.open("ab") as spill:
            spill.write(_LENGTH.pack(len(payload)) + payload)
            spill.flush()
            os.fsync(spill.fileno())
        self.stats.spilled += len(events)

    @staticmethod
    def _read_spill(path: Path) -> list[Event]:
        data = path.read_bytes()
        events: list[Event] = []
        offset = 0
        while offset + _LENGTH.size <= len(data):
            (length,) = _LENGTH.unpack_from(data, offset)
            start = offset + _LENGTH.size
            if start + length > len(data):
                log.warning("ignoring a torn last record in %s", path)
                break
            events.extend(codec.decode(data[start : start + length]))
            offset = start + length
        return events

    async def close(self, timeout_s: float = 10.0) -> None:
        """Flush everything. If the store stays down, spill what is left to disk."""
        self._closing = True
        self._wake.set()
        if self._tasks:
            try:
                await asyncio.wait_for(asyncio.gather(*self._tasks), timeout_s)
            except TimeoutError:
                log.error("store did not take the last events within %.0f s", timeout_s)
            self._tasks = []
        if self._buffer:
            if self._spill_path is None:
                log.error(
                    "lost %d events: the store is down and spilling is off", len(self._buffer)
                )
            else:
                self._append_spill(list(self._buffer))
                log.warning(
                    "store down at shutdown: %d events kept in %s for the next start",
                    len(self._buffer),
                    self._spill_path,
                )
                self._buffer.clear()
