"""When day-ahead prices become known: the noon auction of the day before delivery.

All of day D's prices are published after the noon auction on D−1 (SDAC
results at ~12:45 CET; from the 13:00 local step on, tomorrow is known).
:class:`AuctionCalendar` answers which prices are published at a given step: for
each step of a backtest's series (:func:`engine.battery.dispatch.run_controller` slices
what a controller sees by it), or for one instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from engine.battery.price_series import US_PER_MINUTE, IntArray, PriceSeries, to_us


@dataclass(frozen=True, slots=True)
class AuctionCalendar:
    """When a day-ahead price becomes known.

    Attributes:
        timezone: the auction's local time (delivery days are local days).
        publication_hour: local hour of the first decision that knows the next
            delivery day. SDAC closes at 12:00 CET and publishes at about 12:45,
            so 13 by default.
    """

    timezone: str = "Europe/Brussels"
    publication_hour: int = 13

    def known_end(self, series: PriceSeries) -> IntArray:
        """For each step t, the index one past the last price published at t's start."""
        return self.known_end_for(series.times_us())

    def known_end_for(self, times_us: IntArray) -> IntArray:
        zone = ZoneInfo(self.timezone)
        # One tz conversion per hour is plenty (offsets change on the hour).
        hours = times_us // (60 * US_PER_MINUTE)
        unique_hours, inverse = np.unique(hours, return_inverse=True)
        local_day = np.empty(len(unique_hours), dtype=np.int64)
        local_hour = np.empty(len(unique_hours), dtype=np.int64)
        for i, hour in enumerate(unique_hours.tolist()):
            local = datetime.fromtimestamp(hour * 3600, tz=zone)
            local_day[i] = local.toordinal()
            local_hour[i] = local.hour
        delivery_day = local_day[inverse]
        last_known_day = delivery_day + (local_hour[inverse] >= self.publication_hour)
        # Delivery days are non-decreasing along the series.
        return np.searchsorted(delivery_day, last_known_day, side="right").astype(np.int64)

    def last_known_us(self, now_us: int) -> int:
        """The end (exclusive, epoch µs) of the last delivery day published at ``now_us``."""
        zone = ZoneInfo(self.timezone)
        local = datetime.fromtimestamp(now_us / 1e6, tz=zone)
        days_ahead = 2 if local.hour >= self.publication_hour else 1
        end_local = datetime.combine(
            local.date() + timedelta(days=days_ahead), datetime.min.time(), tzinfo=zone
        )
        return to_us(end_local.astimezone(UTC))


__all__ = ["AuctionCalendar"]
