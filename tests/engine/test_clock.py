import math
from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import LiveClock, SimClock

T0 = datetime(2024, 1, 1, tzinfo=UTC)


async def test_sim_clock_jumps_instantly_and_never_goes_back():
    clock = SimClock(T0)
    start = clock.monotonic()
    await clock.sleep_until(T0 + timedelta(days=365))
    assert clock.now() == T0 + timedelta(days=365)
    assert clock.monotonic() - start < 0.5
    clock.advance_to(T0)
    assert clock.now() == T0 + timedelta(days=365)


async def test_sim_clock_speed_factor_scales_real_time():
    clock = SimClock(T0, speed=600.0)
    start = clock.monotonic()
    await clock.sleep_until(T0 + timedelta(seconds=60))  # 0.1 s real
    assert 0.08 <= clock.monotonic() - start < 0.5
    assert clock.now() == T0 + timedelta(seconds=60)


def test_sim_clock_rejects_naive_start_and_bad_speed():
    with pytest.raises(ValueError, match="tz-aware"):
        SimClock(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="speed"):
        SimClock(T0, speed=0)
    assert math.isinf(SimClock(T0).speed)


async def test_live_clock_is_utc_and_live():
    clock = LiveClock()
    assert clock.is_live and clock.now().tzinfo is UTC
    before = clock.now()
    await clock.sleep_until(before + timedelta(milliseconds=20))
    assert clock.now() >= before + timedelta(milliseconds=20)
