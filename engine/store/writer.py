"""BatchedWriter: the storage path, which never loses an event.

The kernel hands every batch to :meth:`BatchedWriter.add` (synchronous, never
blocks). A background task flushes to the store when ``batch_size`` events are
waiting or the oldest has waited ``max_age_s``. When the database is down the
writer keeps buffering in memory up to ``max_buffered`` events; beyond that it
spills the oldest events to a crash-safe journal on disk
(:class:`~engine.store.spill.SpillJournal`). When the database answers again it
replays the journal record by record, each committed only once it is stored,
then the buffer. A journal left by a crash is replayed at the next start, and a
crash during that replay repeats at most the last uncommitted record. Store
writes are idempotent, so replaying something already written is harmless.

Events leave memory only once their spill record is fsynced. When the spill
disk fails (full, read-only, gone) they stay in memory, ``stats.spill_failing``
is set (the daemon raises ``store_spill_failed`` from it) and the spill is
retried with back-off; nothing is raised into :meth:`BatchedWriter.add`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import TypeVar

import msgspec

from engine.clock import Clock
from engine.events import Event
from engine.store.base import Store, StoreError
from engine.store.spill import RECORD_EVENTS, SpillJournal

log = logging.getLogger(__name__)
T = TypeVar("T")


class _SpillReadError(Exception):
    """The spill journal could not be read back or committed (``error`` says why)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


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
    """The writer's counters: rows written, batches, failures, events spilled and replayed, the
    store's state.
    """

    written: int = 0
    batches: int = 0
    failures: int = 0
    spilled: int = 0
    replayed_from_spill: int = 0
    store_up: bool = True
    last_error: str = ""
    spill_failing: bool = False  # the last spill attempt failed; events stay in memory
    spill_failures: int = 0
    spill_error: str = ""


class BatchedWriter:
    """Buffers the kernel's events and writes them to the store in batches, spilling to disk while
    it is down.

    The kernel hands it every accepted event; it flushes on size or time.
    """

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
        spill_path = self.config.spill_path
        self._journal = SpillJournal(Path(spill_path)) if spill_path else None
        self._spill_retry_at = 0.0  # no spill attempt before this (after a failure)
        self._spill_delay = self.config.retry_initial_s

    @property
    def pending(self) -> int:
        """Events accepted but not yet in the store (memory + spill file)."""
        return len(self._buffer) + self._in_flight + self._spilled_pending()

    def _spilled_pending(self) -> int:
        return self._journal.pending if self._journal is not None else 0

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
        """Queue events for storage. Never blocks, never drops, never raises."""
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
        if len(self._buffer) > self.config.max_buffered and self._journal is not None:
            self._spill_overflow()

    async def start(self) -> None:
        """Find what a previous run spilled (replayed first), then start flushing."""
        if self._journal is not None:
            # Only the record headers are read here; the events are read back
            # one record at a time by the workers, so memory stays bounded.
            self._journal.open()
            if self._journal.pending:
                log.warning(
                    "replaying %d events spilled by a previous run from %s",
                    self._journal.pending,
                    self._journal.path,
                )
        self._tasks = [
            asyncio.create_task(self._run(), name=f"store-writer-{i}")
            for i in range(max(1, self.config.max_in_flight))
        ]

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
            except (StoreError, _SpillReadError) as exc:
                if isinstance(exc, StoreError):
                    self._mark_down(exc)
                else:  # reading the journal back failed: it stays for a retry
                    self._mark_spill_failed(exc.error)
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
        """Store the journal record by record; each is committed once stored."""
        journal = self._journal
        assert journal is not None
        replayed = 0
        size = max(1, self.config.batch_size)
        while (chunk := self._journal_call(journal.next_chunk)) is not None:
            events = chunk.events
            for start in range(0, len(events), size):
                await self.store.write(events[start : start + size])
            self._journal_call(lambda: journal.commit(chunk))
            replayed += len(events)
            self.stats.replayed_from_spill += len(events)
            self._mark_up(len(events))
        if replayed:
            log.info("replayed %d spilled events into the %s store", replayed, self.store.backend)

    @staticmethod
    def _journal_call(call: Callable[[], T]) -> T:
        # A disk error while reading the journal back is the spill disk's, not
        # the store's: told apart from a bare OSError some store might raise.
        try:
            return call()
        except OSError as exc:
            raise _SpillReadError(exc) from exc

    def _mark_up(self, count: int) -> None:
        self.stats.written += count
        self.stats.batches += 1
        if not self.stats.store_up:
            log.info("%s store is back; %d events pending", self.store.backend, self.pending)
        self.stats.store_up = True
        if self.stats.spill_failing and len(self._buffer) <= self.config.max_buffered:
            self._mark_spill_ok()  # nothing waits for the spill disk any more

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
        """Move the oldest events beyond the memory bound into the spill journal."""
        if self.clock.monotonic() < self._spill_retry_at:
            return  # the spill disk failed a moment ago: keep them in memory for now
        count = len(self._buffer) - self.config.max_buffered // 2
        spilled = self._spill_oldest(count)
        if spilled:
            log.warning("store down: spilled %d events to %s", spilled, self._journal_path())

    def _spill_oldest(self, count: int) -> int:
        """Spill up to ``count`` of the oldest events; how many went to disk."""
        journal = self._journal
        assert journal is not None
        buffer, spilled = self._buffer, 0
        while spilled < count:
            size = min(RECORD_EVENTS, count - spilled)
            # Copied, not popped: they leave memory only once fsynced on disk.
            try:
                journal.append(list(islice(buffer, size)))
            except OSError as exc:
                self._mark_spill_failed(exc)
                break
            for _ in range(size):
                buffer.popleft()
            spilled += size
            self.stats.spilled += size
        else:
            self._mark_spill_ok()
        return spilled

    def _journal_path(self) -> str:
        return str(self._journal.path) if self._journal is not None else ""

    def _mark_spill_failed(self, exc: OSError) -> None:
        self.stats.spill_failures += 1
        if not self.stats.spill_failing:
            log.error(
                "cannot spill to %s, keeping %d events in memory and retrying: %s",
                self._journal_path(),
                len(self._buffer),
                exc,
            )
        self.stats.spill_failing = True
        self.stats.spill_error = str(exc)
        self._spill_retry_at = self.clock.monotonic() + self._spill_delay
        self._spill_delay = min(self._spill_delay * 2, self.config.retry_max_s)

    def _mark_spill_ok(self) -> None:
        if self.stats.spill_failing:
            log.info("nothing waits to be spilled to %s any more", self._journal_path())
        self.stats.spill_failing = False
        self._spill_retry_at = 0.0
        self._spill_delay = self.config.retry_initial_s

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
            if self._journal is None:
                log.error(
                    "lost %d events: the store is down and spilling is off", len(self._buffer)
                )
            else:
                kept = self._spill_oldest(len(self._buffer))
                log.warning(
                    "store down at shutdown: %d events kept in %s for the next start",
                    kept,
                    self._journal_path(),
                )
                if self._buffer:
                    log.critical(
                        "lost %d events: the store is down and the spill disk failed: %s",
                        len(self._buffer),
                        self.stats.spill_error,
                    )
                self._buffer.clear()
        if self._journal is not None:
            self._journal.close()
