"""SpillJournal: the crash-safe spill file of :class:`~engine.store.writer.BatchedWriter`.

The writer appends the events it cannot keep in memory while the store is down
and, once the store answers, replays them chunk by chunk. Only the writer
calls this module. What it guarantees:

* **bounded records** — one record holds at most :data:`RECORD_EVENTS` events:
  a 12-byte header (payload length, event count, CRC-32 of the payload, all
  big-endian) and a MessagePack batch (:mod:`engine.bus.codec`). A record is
  written and fsynced before :meth:`SpillJournal.append` returns, so the
  caller removes events from memory only once they are on disk. A failed
  append (ENOSPC, EIO) is truncated away, so it never leaves a torn record in
  front of later ones.
* **segments** — appends go to the *active* file (``spill_path``). Replay
  first seals it: it is renamed to ``<spill_path>.<seq>`` (directory fsynced),
  so later spills go to a fresh active file while the sealed one is read.
* **commit after store** — replay reads one record at a time (memory bounded
  by a record, whatever the file size). Once the writer has stored a record,
  :meth:`commit` writes the segment's next offset to ``<segment>.done``
  atomically (temp file, fsync, rename, directory fsync). A segment is deleted
  only when every record in it is stored. A crash at any moment therefore
  replays at most the records after the last commit again — harmless, store
  writes are idempotent — and never loses one.
* **torn tail** — a record that runs past the end of its segment (a kill
  during an append) ends the segment; a complete record whose CRC does not
  match is skipped. Either way at most that record is lost, never the file.

Files written by the previous format (one length-prefixed record per spill,
no magic; ``<spill_path>`` or ``<spill_path>.replaying``) are converted into
sealed segments at :meth:`open` before being removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from engine.bus import codec
from engine.events import Event

log = logging.getLogger(__name__)

RECORD_EVENTS = 10_000
MAGIC = b"GTSPILL1"
_HEADER = struct.Struct(">III")  # payload length, event count, crc32(payload)
_LEGACY_LENGTH = struct.Struct(">I")
_OFFSET = struct.Struct(">QI")  # committed offset, crc32 of the offset bytes
_MAX_PAYLOAD = 1 << 30  # a larger length is a corrupt header, not a record


@dataclass(frozen=True, slots=True)
class Chunk:
    """One record read back from a sealed segment, to store then commit."""

    seq: int
    end: int  # the offset just past this record
    events: list[Event]


def _fsync_dir(directory: Path) -> None:
    # A created, renamed or deleted name is durable only once its directory is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpillJournal:
    """Events the store could not take yet, on disk in segments, replayed in order once it is back.

    Owned by :class:`~engine.store.writer.BatchedWriter`; survives a restart.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending = 0  # events on disk not yet committed
        self._segments: dict[int, int] = {}  # seq -> events not yet committed
        self._offsets: dict[int, int] = {}  # seq -> committed offset
        self._active: BinaryIO | None = None
        self._active_events = 0

    # -- names ----------------------------------------------------------------

    def _segment(self, seq: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{seq:06d}")

    def _done(self, seq: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{seq:06d}.done")

    def _temp_mark(self, seq: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{seq:06d}.done.tmp")

    def _legacy(self) -> Path:
        return self.path.with_name(self.path.name + ".replaying")

    def _legacy_active(self) -> Path:
        return self.path.with_name(self.path.name + ".legacy")

    # -- open -----------------------------------------------------------------

    def open(self) -> None:
        """Find what a previous run left: sealed segments and an active file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pattern = re.compile(re.escape(self.path.name) + r"\.(\d{6})")
        for entry in self.path.parent.iterdir():
            match = pattern.fullmatch(entry.name)
            if match:
                seq = int(match.group(1))
                self._offsets[seq] = self._read_offset(seq)
                self._segments[seq] = self._count(entry, self._offsets[seq])
        if self.path.exists():
            if self._has_magic(self.path):
                # Sealed at once: a previous run may have died mid-append, and
                # nothing may be appended behind a torn record.
                self._active_events = self._count(self.path, len(MAGIC))
                self._seal()
            else:  # written by the previous format: converted below
                self.path.replace(self._legacy_active())
        for legacy in (self._legacy(), self._legacy_active()):
            if legacy.exists():
                self._convert_legacy(legacy)
        self.pending = sum(self._segments.values())

    @staticmethod
    def _has_magic(path: Path) -> bool:
        with path.open("rb") as f:
            return f.read(len(MAGIC)) == MAGIC

    def _read_offset(self, seq: int) -> int:
        try:
            data = self._done(seq).read_bytes()
        except FileNotFoundError:
            return len(MAGIC)
        if len(data) == _OFFSET.size:
            offset, crc = _OFFSET.unpack(data)
            if zlib.crc32(data[:8]) == crc:
                return int(offset)
        # The rename is atomic, so this is not a torn write: replay it all again.
        log.warning("ignoring an unreadable commit mark %s", self._done(seq))
        return len(MAGIC)

    @staticmethod
    def _count(path: Path, offset: int) -> int:
        """Events in the records from ``offset``, from their headers only."""
        size = path.stat().st_size
        events = 0
        with path.open("rb") as f:
            while offset + _HEADER.size <= size:
                f.seek(offset)
                length, count, _ = _HEADER.unpack(f.read(_HEADER.size))
                if length > _MAX_PAYLOAD or offset + _HEADER.size + length > size:
                    break
                events += count
                offset += _HEADER.size + length
        return events

    def _convert_legacy(self, legacy: Path) -> None:
        # Streamed record by record into the active file, then sealed; the old
        # file is removed only once its events are fsynced in the new format.
        with legacy.open("rb") as f:
            while header := f.read(_LEGACY_LENGTH.size):
                if len(header) < _LEGACY_LENGTH.size:
                    break
                (length,) = _LEGACY_LENGTH.unpack(header)
                payload = f.read(length)
                if len(payload) < length:
                    log.warning("ignoring a torn last record in %s", legacy)
                    break
                events = codec.decode(payload)
                for start in range(0, len(events), RECORD_EVENTS):
                    self.append(events[start : start + RECORD_EVENTS])
        self._seal()
        legacy.unlink()
        _fsync_dir(self.path.parent)

    # -- append ---------------------------------------------------------------

    def append(self, events: Sequence[Event]) -> None:
        """Write one record and fsync it; on OSError the file is as before."""
        if not events:
            return
        if len(events) > RECORD_EVENTS:
            raise ValueError(f"a spill record holds at most {RECORD_EVENTS} events")
        payload = codec.encode(events)
        record = _HEADER.pack(len(payload), len(events), zlib.crc32(payload)) + payload
        created = self._active is None
        if created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._active = self.path.open("ab")
        active = self._active
        assert active is not None
        start = active.seek(0, os.SEEK_END)
        try:
            if start == 0:
                active.write(MAGIC)
            active.write(record)
            active.flush()
            os.fsync(active.fileno())
            if created:
                _fsync_dir(self.path.parent)
        except OSError:
            self._undo_append(start)
            raise
        self._active_events += len(events)
        self.pending += len(events)

    def _undo_append(self, start: int) -> None:
        active, self._active = self._active, None
        assert active is not None
        try:
            # Buffered bytes may still be flushed by close(): drop them first.
            with contextlib.suppress(OSError):
                active.close()
            os.truncate(self.path, start)
            if start == 0:
                self.path.unlink()
        except OSError:
            log.exception("could not cut a failed spill append off %s", self.path)
            with contextlib.suppress(OSError):
                self._seal()  # a torn record ends that segment; append to a fresh one

    def close(self) -> None:
        if self._active is not None:
            with contextlib.suppress(OSError):
                self._active.close()
            self._active = None

    # -- replay ---------------------------------------------------------------

    def _seal(self) -> None:
        """Rename the active file into the next segment."""
        self.close()
        if not self.path.exists():
            return
        seq = max(self._segments, default=0) + 1
        while self._segment(seq).exists():  # never rename over a segment
            seq += 1
        self.path.rename(self._segment(seq))
        _fsync_dir(self.path.parent)
        self._segments[seq] = self._active_events
        self._offsets[seq] = len(MAGIC)
        self._active_events = 0

    def next_chunk(self) -> Chunk | None:
        """The oldest record not yet committed, or None when all are stored."""
        while True:
            if not self._segments:
                if self.pending == 0:
                    return None
                self._seal()
                if not self._segments:
                    self.pending = 0
                    return None
            seq = min(self._segments)
            chunk = self._read_record(seq, self._offsets[seq])
            if chunk is None:
                self._drop(seq)
            elif chunk.events:
                return chunk
            else:
                self._skip(chunk)

    def _read_record(self, seq: int, offset: int) -> Chunk | None:
        """The record at ``offset``; None at the end of the segment or a torn tail.

        A complete record whose CRC does not match comes back without events,
        to be skipped: its header still says where the next record starts.
        """
        with self._segment(seq).open("rb") as f:
            f.seek(offset)
            header = f.read(_HEADER.size)
            if len(header) < _HEADER.size:
                if header:
                    log.warning("ignoring a torn last record in %s", self._segment(seq))
                return None
            length, count, crc = _HEADER.unpack(header)
            payload = f.read(length) if length <= _MAX_PAYLOAD else b""
        end = offset + _HEADER.size + length
        if len(payload) < length:
            log.warning(
                "ignoring a torn last record of %d events at byte %d of %s",
                count,
                offset,
                self._segment(seq),
            )
            return None
        if zlib.crc32(payload) != crc:
            log.error(
                "skipping a corrupt record of %d events at byte %d of %s",
                count,
                offset,
                self._segment(seq),
            )
            self._segments[seq] -= count
            self.pending -= count
            return Chunk(seq, end, [])
        return Chunk(seq, end, codec.decode(payload))

    def _skip(self, chunk: Chunk) -> None:
        """Move past an unreadable record (a restart skips it again)."""
        self._offsets[chunk.seq] = chunk.end
        if chunk.end >= self._segment(chunk.seq).stat().st_size:
            self._drop(chunk.seq)

    def commit(self, chunk: Chunk) -> None:
        """Mark ``chunk`` stored: it is never replayed again once this returns."""
        count = len(chunk.events)
        self._offsets[chunk.seq] = chunk.end
        self._segments[chunk.seq] -= count
        self.pending -= count
        if chunk.end >= self._segment(chunk.seq).stat().st_size:
            self._drop(chunk.seq)
            return
        data = struct.pack(">Q", chunk.end)
        mark, temp = self._done(chunk.seq), self._temp_mark(chunk.seq)
        try:
            with temp.open("wb") as f:
                f.write(data + struct.pack(">I", zlib.crc32(data)))
                f.flush()
                os.fsync(f.fileno())
            temp.replace(mark)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            # In memory the offset has moved on; a crash before the next mark
            # replays these records again, which idempotent writes make harmless.
            log.warning("could not write the spill commit mark %s: %s", mark, exc)

    def _drop(self, seq: int) -> None:
        """Delete a segment whose records are all stored (or unreadable)."""
        lost = self._segments.pop(seq)
        self._offsets.pop(seq)
        self.pending -= lost
        if lost:
            log.error("lost %d spilled events behind a torn record", lost)
        # The segment goes first: a mark without its segment is harmless,
        # a segment without its mark would be replayed from the start.
        self._segment(seq).unlink(missing_ok=True)
        self._done(seq).unlink(missing_ok=True)
        self._temp_mark(seq).unlink(missing_ok=True)
        _fsync_dir(self.path.parent)
