"""Days as users type them: ISO ``YYYY-MM-DD``, inside the range every command accepts.

The range is wide enough for any market history and narrow enough that no
conversion or date arithmetic downstream overflows (a backtest in year 1 used
to die deep in the simulator with ``OverflowError: date value out of range``).
The CLI flags and the API's day and time parameters share it.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Final

EARLIEST: Final = date(1990, 1, 1)
LATEST: Final = date(2100, 1, 1)
ACCEPTED_RANGE: Final = f"between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


def parse_day(text: str) -> date:
    """The day ``text`` names; ValueError in words when it is no day or out of range."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a day (YYYY-MM-DD)") from None
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{text!r} is out of range: days {ACCEPTED_RANGE}")
    return day


def day_arg(text: str) -> date:
    """``parse_day`` as an argparse ``type=``: a bad day is a usage error, exit 2."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
