"""Epoch microseconds: the one conversion the stores, the mock feed and the replays share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.time_us import EPOCH, from_us, to_us


def test_the_epoch_is_zero_and_a_microsecond_is_one():
    assert to_us(EPOCH) == 0
    assert to_us(EPOCH + timedelta(microseconds=1)) == 1
    assert from_us(0) == EPOCH


def test_exact_where_a_float_of_seconds_would_round():
    # 2**53 µs is past where float seconds keep every microsecond.
    late = datetime(2262, 4, 11, 23, 47, 16, 854_775, tzinfo=UTC)
    assert to_us(late) == 9_223_372_036_854_775
    assert to_us(late + timedelta(microseconds=1)) - to_us(late) == 1
    assert from_us(to_us(late)) == late


def test_before_the_epoch_counts_down():
    assert to_us(datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1
    assert from_us(-1) == EPOCH - timedelta(microseconds=1)


@pytest.mark.parametrize(
    "zone", [ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/London"), timezone(timedelta(hours=-5))]
)
def test_any_zone_names_the_same_instant(zone):
    instant = datetime(2024, 3, 31, 0, 59, 59, 123_456, tzinfo=UTC)
    local = instant.astimezone(zone)
    assert to_us(local) == to_us(instant)
    assert from_us(to_us(local)) == instant
    assert from_us(to_us(local)).tzinfo is UTC


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="tz-aware"):
        to_us(datetime(2024, 1, 1))
