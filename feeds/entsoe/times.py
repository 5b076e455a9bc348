"""The API's times: query parameters, document timestamps, resolutions, spans.

Queries name instants as ``yyyyMMddHHmm`` in UTC (:func:`format_time`) and may
cover at most so many days (:func:`split_span`); documents write ISO 8601
instants (:func:`parse_time`) and durations (:func:`resolution_minutes`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

_DURATION: Final = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def format_time(ts: datetime) -> str:
    """The API's ``yyyyMMddHHmm`` in UTC."""
    return ts.astimezone(UTC).strftime("%Y%m%d%H%M")


def split_span(start: datetime, end: datetime, max_days: int) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive pieces of at most ``max_days`` days."""
    step = timedelta(days=max_days)
    pieces: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        pieces.append((cursor, min(cursor + step, end)))
        cursor += step
    return pieces


def span_label(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%dT%H:%MZ}..{end:%Y-%m-%dT%H:%MZ}"


def resolution_minutes(text: str) -> int | None:
    """PT15M → 15, PT1H → 60, P1D → 1440; None for what has no fixed length (P1M, P1Y)."""
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    total = days * 1440 + hours * 60 + minutes
    return total or None


def parse_time(text: str) -> datetime:
    """``2020-12-31T23:00Z`` (the API's form, seconds optional) → tz-aware UTC."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        # The API always writes Z; a bare time is UTC by the standard's convention.
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
