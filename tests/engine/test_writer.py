import asyncio

import pytest

from engine.clock import LiveClock
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
