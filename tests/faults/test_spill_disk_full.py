"""A full spill disk loses nothing and crashes nothing (issue 14, item 2).

The spill dir is a 5 MB tmpfs (skipped, with the reason, where mounting is not
permitted); the store is a SQLite store switched "down" (it raises the
StoreError the writer handles, as an outage would). 200,000 events arrive,
far more than 5 MB of spill: the disk fills, the writer keeps the rest in
memory, says ``spill_failing`` (the daemon's ``store_spill_failed`` alert, tested
below with its health monitor) and never raises into ``add``. When the store is
back every event is stored, in order, and the journal is gone.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiohttp import web

from engine.clock import LiveClock
from engine.events import Alert, Severity
from engine.store.writer import BatchedWriter, WriterConfig
from gridtui.daemon.background import health_monitor
from gridtui.daemon.keys import ALERT_ROUTER, ENGINE, METRICS
from tests.stubs.builders import tick
from tests.stubs.flaky_store import FlakyStore

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "spill"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_spill_disk_keeps_events_in_memory_and_loses_none(small_disk, tmp_path):
    store = FlakyStore(tmp_path / "w.db")
    await store.open()
    spill = small_disk / "sqlite.spill"
    config = WriterConfig(
        batch_size=1_000,
        max_age_s=0.05,
        max_buffered=20_000,
        spill_path=str(spill),
        retry_initial_s=0.02,
        retry_max_s=0.2,
    )
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    store.down = True
    produced = 0
    for _ in range(200):
        writer.add([tick("DE", float(i), seconds=i) for i in range(produced, produced + 1_000)])
        produced += 1_000
        await asyncio.sleep(0)
    assert writer.stats.spill_failing and writer.stats.spill_failures > 0
    assert "No space left" in writer.stats.spill_error
    assert 0 < writer.stats.spilled < produced  # the disk took what it could
    assert writer.pending == produced
    assert all(task.done() is False for task in writer._tasks)  # the workers are alive

    store.down = False
    for _ in range(600):
        if writer.pending == 0:
            break
        await asyncio.sleep(0.05)
    assert writer.pending == 0
    assert not writer.stats.spill_failing  # nothing waits for the disk any more
    await writer.close()
    assert await store.count("prices") == produced
    history = await store.price_history("DE", limit=produced + 1)
    assert [t.price_eur_mwh for t in history] == [float(i) for i in range(produced)]
    assert not list(small_disk.iterdir())
    await store.close()


class _Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def raise_local(self, alert: Alert) -> None:
        self.alerts.append(alert)


class _Gauge:
    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


async def test_the_daemon_raises_store_spill_failed_then_its_recovery(small_disk, tmp_path):
    store = FlakyStore(tmp_path / "w.db")
    await store.open()
    config = WriterConfig(
        batch_size=1_000,
        max_buffered=20_000,
        spill_path=str(small_disk / "sqlite.spill"),
        retry_initial_s=0.02,
        retry_max_s=0.2,
    )
    writer = BatchedWriter(store, LiveClock(), config)
    await writer.start()
    # Only what health_monitor reads of the daemon: its writer, store and kernel.
    runtime = SimpleNamespace(
        writer=writer,
        store=store,
        bus=SimpleNamespace(backend="memory"),
        kernel=SimpleNamespace(stats=SimpleNamespace(events_in=0, bus_errors=0)),
    )
    engine = SimpleNamespace(
        runtime=runtime,
        bus_up=True,
        now=lambda: datetime.now(UTC),
        live=SimpleNamespace(apply=lambda events: None),
    )
    gauge = _Gauge()
    app = web.Application()
    app[ENGINE] = engine  # type: ignore[misc]
    app[METRICS] = SimpleNamespace(  # type: ignore[misc]
        loop_lag=gauge, loop_lag_histogram=gauge, events_per_second=gauge
    )
    sink = _Sink()
    app[ALERT_ROUTER] = sink  # type: ignore[misc]
    monitor = asyncio.create_task(health_monitor(app, 0.05))
    store.down = True
    for start in range(0, 200_000, 1_000):
        writer.add([tick("DE", float(i), seconds=i) for i in range(start, start + 1_000)])
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)
    rules = [a.rule for a in sink.alerts]
    assert "store_spill_failed" in rules
    failed = next(a for a in sink.alerts if a.rule == "store_spill_failed")
    assert failed.severity == Severity.CRITICAL and "No space left" in failed.message
    store.down = False
    for _ in range(600):
        if writer.pending == 0 and "store_spill_recovered" in [a.rule for a in sink.alerts]:
            break
        await asyncio.sleep(0.05)
    assert "store_spill_recovered" in [a.rule for a in sink.alerts]
    monitor.cancel()
    await writer.close()
    assert await store.count("prices") == 200_000
    assert await store.count("alerts") == len(sink.alerts)  # the daemon's alerts are kept too
    await store.close()
