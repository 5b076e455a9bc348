"""Calendar features: local hour, weekday and day number of steps, and public holidays.

Computed in the pipeline's time zone (``PipelineConfig.timezone``); the holiday
calendars themselves are in :mod:`models.features.holidays`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from models.features.holidays import is_holiday
from models.features.price_grid import FloatArray, IntArray

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1 << 17)
def _utc_offset_s(timezone: str, utc_hour: int) -> int:
    """Seconds ``timezone`` is ahead of UTC during the UTC hour ``utc_hour`` (since the epoch)."""
    offset = datetime.fromtimestamp(utc_hour * 3600, tz=ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _local_calendar(
    steps: IntArray, step_s: int, timezone: str
) -> tuple[FloatArray, IntArray, IntArray]:
    """Local hour of day (fractional), weekday (0 = Monday) and local day number
    (days since 1970-01-01) of step starts. Plain integer arithmetic on cached UTC
    offsets: this runs on every live forecast, where pandas' tz machinery costs
    milliseconds."""
    seconds = steps.astype(np.int64) * step_s
    utc_hours, where = np.unique(seconds // 3600, return_inverse=True)
    offsets = np.array([_utc_offset_s(timezone, int(h)) for h in utc_hours], dtype=np.int64)
    local = seconds + offsets[where.reshape(seconds.shape)]
    day_number = local // 86_400
    hours = (local - day_number * 86_400) / 3600.0
    weekday = (day_number + 3) % 7  # 1970-01-01 was a Thursday
    return hours, weekday, day_number


def _holidays(market: str, days: Sequence[date] | IntArray) -> FloatArray:
    """1.0 where a day (a ``date`` or a local day number) is a public holiday of ``market``."""
    cache: dict[object, float] = {}
    out = np.empty(len(days))
    for i, day in enumerate(days.tolist() if isinstance(days, np.ndarray) else days):
        if day not in cache:
            as_date = day if isinstance(day, date) else date.fromordinal(_EPOCH_ORDINAL + day)
            cache[day] = 1.0 if is_holiday(market, as_date) else 0.0
        out[i] = cache[day]
    return out
