"""A stop that takes too long says what it waits on: pending tasks in the log, threads on stderr."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gridtui.daemon.stop_watch import StopWatch


@pytest.mark.asyncio
async def test_a_slow_stop_logs_the_pending_tasks_and_dumps_the_threads(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    async def flush_that_never_ends() -> None:
        await asyncio.Event().wait()

    stuck = asyncio.create_task(flush_that_never_ends(), name="store-flush")
    watch = StopWatch(after_s=0.2)
    with caplog.at_level(logging.WARNING, logger="gridtui.daemon.stop_watch"):
        watch.arm()
        await asyncio.sleep(0.5)
    stuck.cancel()
    reports = [r.getMessage() for r in caplog.records if "still stopping" in r.getMessage()]
    assert any("task store-flush waits" in m and "flush_that_never_ends" in m for m in reports)
    err = capfd.readouterr().err
    assert "still stopping after 0 s; every thread's stack" in err
    assert "most recent call first" in err  # faulthandler's dump of the threads


@pytest.mark.asyncio
async def test_a_stop_that_finishes_in_time_reports_nothing(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    watch = StopWatch(after_s=0.2)
    with caplog.at_level(logging.WARNING, logger="gridtui.daemon.stop_watch"):
        watch.arm()
        await asyncio.sleep(0.05)
        watch.disarm()
        await asyncio.sleep(0.3)
    assert not [r for r in caplog.records if "still stopping" in r.getMessage()]
    assert "still stopping" not in capfd.readouterr().err
