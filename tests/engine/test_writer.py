import asyncio
import errno
import struct

import pytest

from engine.bus import codec
from engine.clock import LiveClock
from engine.events import PriceTick
from engine.store.spill import RECORD_EVENTS, SpillJournal
from engine.store.writer import BatchedWriter, WriterConfig
from tests.stubs.builders import tick
from tests.stubs.flaky_store import FlakyStore


@pytest.fixture
async def store(tmp_path):
    backend = FlakyStore(tmp_path / "w.db")
    await backend.open()
    yield backend
    await backend.close()


def ticks(n, start=0):
    return [tick("DE", float(i), seconds=i) for i in range(start, start + n)]


async def wait_for(predicate, timeout=5.0):
    for _ in range(int(timeout / 0.01)):
        if await predicate():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_flushes_by_size_then_by_age(store):
    writer = BatchedWriter(store, LiveClock(), WriterConfig(batch_size=100, max_age_s=0.3))
    await writer.start()
    writer.add(ticks(250))
    await asyncio.sleep(0.1)
    assert await store.count("prices") == 200  # two full batches at once
    assert await wait_for(lambda: _count_is(store, 250))
    assert writer.stats.batches == 3
    await writer.close()


async def _count_is(store, n):
    return await store.count("prices") == n


async def test_outage_buffers_spills_and_replays_without_loss(store, tmp_path):
    spill = tmp_path / "spill" / "sqlite.spill"
    config = WriterConfig(
        batch_size=100,
        max_age_s=0.05,
        max_buffered=300,
        spill_path=str(spill),
        retry_initial_s=0.02,
    )
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    store.down = True
    for start in range(0, 1000, 50):
        writer.add(ticks(50, start))
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)
    assert store.failed_writes > 0
    assert not writer.stats.store_up
    assert spill.exists() and writer.stats.spilled > 0
    assert writer.pending == 1000
    store.down = False
    assert await wait_for(lambda: _count_is(store, 1000))
    assert writer.pending == 0
    assert not spill.exists()
    history = await store.price_history("DE", limit=2000)
    assert [t.price_eur_mwh for t in history] == [float(i) for i in range(1000)]
    await writer.close()


async def test_shutdown_during_outage_keeps_events_for_the_next_start(store, tmp_path):
    spill = tmp_path / "sqlite.spill"
    config = WriterConfig(
        batch_size=100, max_age_s=0.01, spill_path=str(spill), retry_initial_s=0.01
    )
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    store.down = True
    writer.add(ticks(500))
    await writer.close(timeout_s=0.2)
    assert spill.exists()
    assert await store.count("prices") == 0

    store.down = False
    # A torn record, as a kill -9 during an append would leave, is ignored.
    with spill.open("ab") as f:
        f.write(b"\x00\x00\x10\x00partial")
    restarted = BatchedWriter(store, LiveClock(), config)
    await restarted.start()
    assert await wait_for(lambda: _count_is(store, 500))
    await restarted.close()
    assert not spill.exists()


async def test_close_flushes_everything(store):
    writer = BatchedWriter(store, LiveClock(), WriterConfig(batch_size=10_000, max_age_s=60))
    await writer.start()
    writer.add(ticks(777))
    await writer.close()
    assert await store.count("prices") == 777


async def test_a_trickle_is_stored_within_max_age(store):
    writer = BatchedWriter(store, LiveClock(), WriterConfig(batch_size=5_000, max_age_s=0.1))
    await writer.start()
    await asyncio.sleep(0.05)  # the workers are idle, waiting for work
    writer.add(ticks(3))
    assert await wait_for(lambda: _count_is(store, 3), timeout=1.0)
    await writer.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch_size", 0),
        ("max_buffered", -1),
        ("max_age_s", float("nan")),
        ("max_age_s", 0.0),
        ("retry_initial_s", -1.0),
        ("retry_max_s", float("inf")),
        ("max_in_flight", 0),
        ("pace_above", 0),
    ],
)
def test_writer_config_refuses_out_of_range_values(field, value):
    with pytest.raises(ValueError, match=field):
        WriterConfig(**{field: value})


def test_writer_config_refuses_a_buffer_smaller_than_a_batch():
    with pytest.raises(ValueError, match="max_buffered"):
        WriterConfig(batch_size=100, max_buffered=10)


# -- the spill journal (issue 14, data loss items 1, 2, 4) ---------------------


def _journal_files(spill):
    return sorted(p.name for p in spill.parent.iterdir() if p.name.startswith(spill.name))


async def test_a_spill_is_written_in_bounded_records(store, tmp_path):
    spill = tmp_path / "sqlite.spill"
    config = WriterConfig(batch_size=1_000, max_buffered=30_000, spill_path=str(spill))
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    store.down = True
    writer.add(ticks(30_001))  # one overflow of 15,001 events
    assert writer.stats.spilled == 15_001
    assert writer.pending == 30_001
    journal = SpillJournal(spill)
    journal.open()  # seals the active file, as a restart would
    assert journal.pending == 15_001
    sizes = []
    while (chunk := journal.next_chunk()) is not None:
        sizes.append(len(chunk.events))
        journal.commit(chunk)
    assert sizes == [RECORD_EVENTS, 5_001]
    assert journal.pending == 0 and _journal_files(spill) == []
    writer._closing = True  # the journal was consumed above: nothing to replay
    await writer.close(timeout_s=0.1)


async def test_a_crash_mid_replay_resumes_from_the_last_committed_record(store, tmp_path):
    spill = tmp_path / "sqlite.spill"
    journal = SpillJournal(spill)
    journal.open()
    for start in range(0, 5_000, 1_000):
        journal.append(ticks(1_000, start))
    journal.close()
    first = SpillJournal(spill)
    first.open()
    for _ in range(2):  # two records stored and committed, then "kill -9"
        chunk = first.next_chunk()
        assert chunk is not None
        await store.write(chunk.events)
        first.commit(chunk)
    chunk = first.next_chunk()  # read, maybe even stored, but not committed
    assert chunk is not None

    writer = BatchedWriter(store, LiveClock(), WriterConfig(spill_path=str(spill)))
    await writer.start()
    assert writer.pending == 3_000
    assert await wait_for(lambda: _count_is(store, 5_000))
    assert writer.pending == 0 and writer.stats.replayed_from_spill == 3_000
    await writer.close()
    assert _journal_files(spill) == []


async def test_a_corrupt_record_loses_only_itself(store, tmp_path):
    spill = tmp_path / "sqlite.spill"
    journal = SpillJournal(spill)
    journal.open()
    for start in range(0, 3_000, 1_000):
        journal.append(ticks(1_000, start))
    journal.close()
    data = bytearray(spill.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped byte in the middle record's payload
    spill.write_bytes(bytes(data))
    writer = BatchedWriter(store, LiveClock(), WriterConfig(spill_path=str(spill)))
    await writer.start()
    assert await wait_for(lambda: _count_is(store, 2_000))
    assert await wait_for(lambda: _pending_is(writer, 0))
    await writer.close()
    history = await store.price_history("DE", limit=3_000)
    assert [t.price_eur_mwh for t in history] == [
        float(i) for i in (*range(1_000), *range(2_000, 3_000))
    ]
    assert _journal_files(spill) == []


async def _pending_is(writer, n):
    return writer.pending == n


async def test_a_failing_spill_disk_keeps_events_in_memory_and_retries(
    store, tmp_path, monkeypatch
):
    spill = tmp_path / "sqlite.spill"
    config = WriterConfig(
        batch_size=100,
        max_age_s=0.01,
        max_buffered=1_000,
        spill_path=str(spill),
        retry_initial_s=0.01,
        retry_max_s=0.05,
    )
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    store.down = True
    real_append = SpillJournal.append

    def disk_full(self, events):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SpillJournal, "append", disk_full)
    for start in range(0, 3_000, 100):
        writer.add(ticks(100, start))  # never raises
        await asyncio.sleep(0.002)
    assert writer.stats.spill_failing and writer.stats.spill_failures > 0
    assert "No space left" in writer.stats.spill_error
    assert writer.stats.spilled == 0 and writer.pending == 3_000
    monkeypatch.setattr(SpillJournal, "append", real_append)
    await asyncio.sleep(0.06)  # past the back-off
    writer.add(ticks(100, 3_000))
    assert not writer.stats.spill_failing and writer.stats.spilled > 0
    assert writer.pending == 3_100
    store.down = False
    assert await wait_for(lambda: _count_is(store, 3_100))
    await writer.close()
    assert writer.pending == 0 and _journal_files(spill) == []


async def test_a_failed_append_leaves_no_torn_record(tmp_path, monkeypatch):
    spill = tmp_path / "sqlite.spill"
    journal = SpillJournal(spill)
    journal.open()
    journal.append(ticks(10))
    size = spill.stat().st_size

    def fsync_fails(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("engine.store.spill.os.fsync", fsync_fails)
    with pytest.raises(OSError, match="No space"):
        journal.append(ticks(10, 10))
    monkeypatch.undo()
    assert spill.stat().st_size == size and journal.pending == 10
    journal.append(ticks(10, 20))
    journal.close()
    reopened = SpillJournal(spill)
    reopened.open()
    chunks = []
    while (chunk := reopened.next_chunk()) is not None:
        chunks.append([t.price_eur_mwh for t in chunk.events if isinstance(t, PriceTick)])
        reopened.commit(chunk)
    assert chunks == [[float(i) for i in range(10)], [float(i) for i in range(20, 30)]]


async def test_a_spill_file_of_the_previous_format_is_replayed(store, tmp_path):
    spill = tmp_path / "sqlite.spill"
    with spill.open("wb") as f:  # one big length-prefixed record, as before
        payload = codec.encode(ticks(25_000))
        f.write(struct.pack(">I", len(payload)) + payload)
    replaying = tmp_path / "sqlite.spill.replaying"
    payload = codec.encode(ticks(500, 25_000))
    replaying.write_bytes(struct.pack(">I", len(payload)) + payload)
    writer = BatchedWriter(store, LiveClock(), WriterConfig(spill_path=str(spill)))
    await writer.start()
    assert writer.pending == 25_500
    assert await wait_for(lambda: _count_is(store, 25_500))
    await writer.close()
    assert _journal_files(spill) == []


async def test_a_torn_tail_loses_only_the_torn_record(store, tmp_path):
    spill = tmp_path / "sqlite.spill"
    journal = SpillJournal(spill)
    journal.open()
    for start in range(0, 3_000, 1_000):
        journal.append(ticks(1_000, start))
    journal.close()
    with spill.open("r+b") as f:  # a kill -9 in the middle of the last append
        f.truncate(spill.stat().st_size - 100)
    writer = BatchedWriter(store, LiveClock(), WriterConfig(spill_path=str(spill)))
    await writer.start()
    assert writer.pending == 2_000  # the torn record's header is not counted
    assert await wait_for(lambda: _count_is(store, 2_000))
    await writer.close()
    assert _journal_files(spill) == []


async def test_a_journal_that_cannot_be_read_back_is_retried(store, tmp_path, monkeypatch):
    spill = tmp_path / "sqlite.spill"
    journal = SpillJournal(spill)
    journal.open()
    journal.append(ticks(1_000))
    journal.close()
    real_next = SpillJournal.next_chunk

    def unreadable(self):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(SpillJournal, "next_chunk", unreadable)
    config = WriterConfig(spill_path=str(spill), retry_initial_s=0.01, retry_max_s=0.02)
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    await asyncio.sleep(0.05)
    assert writer.stats.spill_failing and "Input/output" in writer.stats.spill_error
    assert all(not task.done() for task in writer._tasks)  # alive, retrying
    monkeypatch.setattr(SpillJournal, "next_chunk", real_next)
    assert await wait_for(lambda: _count_is(store, 1_000))
    assert await wait_for(lambda: _pending_is(writer, 0))
    assert not writer.stats.spill_failing
    await writer.close()
