"""Where today, this week and this month begin, in market-local time.

Continental day-ahead delivery days are Europe/Brussels days
(:data:`engine.battery.gate_forecast.DELIVERY_TIMEZONE`), so the windows are too:
"today" starts at local midnight, "week" on Monday's local midnight (ISO
weeks), "month" at the first's. "run" starts where the ledger's first step
does. Every start is clipped to the run's start: a window cannot reach back
before what the ledger has seen.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.capture.rows import WindowName
from engine.time_us import from_us, to_us


def window_starts(anchor_us: int, run_start_us: int, timezone: str) -> dict[WindowName, int]:
    """Start (epoch µs) of each window holding the step that starts at ``anchor_us``."""
    zone = ZoneInfo(timezone)
    local = from_us(anchor_us).astimezone(zone)
    day = local.date()

    def midnight(of: datetime) -> int:
        return to_us(datetime.combine(of.date(), time(), tzinfo=zone))

    starts: dict[WindowName, int] = {
        "today": midnight(local),
        "week": midnight(datetime.combine(day - timedelta(days=day.weekday()), time())),
        "month": midnight(datetime.combine(day.replace(day=1), time())),
        "run": run_start_us,
    }
    return {name: max(start, run_start_us) for name, start in starts.items()}


__all__ = ["window_starts"]
