"""EngineClock: "now" as the engine sees it, shared by every fold.

"Now" is the newest feed-health or tick time seen, never the wall clock, so a
replay at 60x and a test with a frozen clock render alike.
"""

from __future__ import annotations

import math
from datetime import datetime


class EngineClock:
    """The newest engine time folded so far; ``now`` is None until the first one."""

    __slots__ = ("now", "now_s")

    def __init__(self) -> None:
        self.now_s = -math.inf
        self.now: datetime | None = None

    def advance(self, ts: datetime) -> None:
        ts_s = ts.timestamp()
        if ts_s > self.now_s:
            self.now_s = ts_s
            self.now = ts


def age(now_s: float, then_s: float) -> float | None:
    if not math.isfinite(then_s) or not math.isfinite(now_s):
        return None
    return max(0.0, now_s - then_s)
