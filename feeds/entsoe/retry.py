"""The client's retry policy: what may be tried again, and how long to wait first.

An attempt that another attempt may fix raises :class:`Retry`. The wait before
the next one is the server's Retry-After after an HTTP 429
(:func:`parse_retry_after`), otherwise jittered exponential back-off
(:func:`backoff_s`).
"""

from __future__ import annotations

import email.utils
import math
import random
from datetime import UTC, datetime


class Retry(Exception):
    """An attempt failed in a way another attempt may fix."""

    def __init__(self, kind: str, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.wait_s = wait_s


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def backoff_s(attempt: int, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Wait before retry ``attempt``: ``min(max, initial × 2ⁿ⁻¹)`` times a factor in [0.5, 1]."""
    cap = min(max_s, initial_s * 2.0 ** (attempt - 1))
    return cap * rng.uniform(0.5, 1.0)
