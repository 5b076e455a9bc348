"""What the rewind's "go to" prompt accepts: a date and time, market-local or UTC.

``2025-01-06 14:30`` is market-local (``ui.market_timezone``, Europe/Brussels by
default): the time a trader reads off a chart; ``14:30Z``, ``14:30 UTC`` or an
offset (``14:30+01:00``) mean what they say; a bare date is its local midnight;
a bare time is today (the rewound day) at that time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

ACCEPTED: Final = (
    "a date and time, e.g. 2025-01-06 14:30 (market time), 2025-01-06 13:30Z or "
    "2025-01-06T14:30+01:00 (UTC or an offset), 2025-01-06 (its local midnight) "
    "or 14:30 (that time of the shown day)"
)


def parse_instant(text: str, zone: ZoneInfo, today: date) -> datetime:
    """The UTC instant ``text`` names; ValueError quoting the text and what is accepted."""
    raw = text.strip()
    if not raw:
        raise ValueError(f"no time given: type {ACCEPTED}")
    cleaned = raw.replace("T", " ")
    utc = False
    for suffix in (" UTC", "UTC", "Z", "z"):
        if cleaned.endswith(suffix):
            cleaned, utc = cleaned[: -len(suffix)].strip(), True
            break
    try:
        if len(cleaned) <= 8 and ":" in cleaned:  # a time of the shown day
            value = datetime.combine(today, time.fromisoformat(cleaned))
        else:
            value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{raw!r} is not a time: type {ACCEPTED}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC if utc else zone)
    return value.astimezone(UTC)
