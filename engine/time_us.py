"""Time as integer microseconds since the epoch (UTC): the one home of the conversion.

Battery dispatch, the order path and the stores count time in epoch µs because
integers compare and hash fast and never drift; :func:`to_us` and
:func:`from_us` are the two directions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_MINUTE: Final = 60_000_000
US_PER_DAY: Final = 86_400_000_000
_ONE_US: Final = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """A tz-aware datetime → microseconds since the epoch (UTC)."""
    if moment.tzinfo is None:
        raise ValueError("epoch microseconds need a tz-aware timestamp (UTC)")
    return (moment - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    """Microseconds since the epoch → a tz-aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


__all__ = ["EPOCH", "US_PER_DAY", "US_PER_MINUTE", "from_us", "to_us"]
