"""The state the alert rules share, and the one door every alert goes out through.

:class:`~engine.alerts.engine.AlertEngine` owns one :class:`AlertState` and
hands it to each rule (:mod:`engine.alerts.rules`,
:mod:`engine.alerts.forecast_checks`): the thresholds, the rolling price
baselines, the conditions that are active (for deduplication), the last state
of each feed, the forecasts waiting for their price, and :meth:`AlertState.emit`,
which applies the cooldown. The rules need nothing else of the engine, so they
do not import it.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Final

import msgspec

from engine.alerts.config import AlertConfig
from engine.events import Alert, Forecast, Severity

_RANK: Final = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertStats(msgspec.Struct, kw_only=True):
    """What the alert engine raised and kept quiet, in total and per rule."""

    raised: int = 0
    suppressed: int = 0  # quiet because of a cooldown
    by_rule: dict[str, int] = {}


class RollingBaseline:
    """Rolling mean and standard deviation of the last ``size`` prices, O(1) a tick."""

    __slots__ = ("_sum", "_sum_sq", "values")

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self._sum = 0.0
        self._sum_sq = 0.0

    def add(self, value: float) -> None:
        values = self.values
        if len(values) == values.maxlen:
            old = values[0]
            self._sum -= old
            self._sum_sq -= old * old
        values.append(value)
        self._sum += value
        self._sum_sq += value * value

    def mean_std(self) -> tuple[float, float]:
        count = len(self.values)
        mean = self._sum / count
        variance = max(self._sum_sq / count - mean * mean, 0.0)
        return mean, math.sqrt(variance)


class AlertState:
    """What the rules remember between batches (module docstring).

    Attributes:
        config: the thresholds (replaced by :meth:`AlertEngine.reconfigure`).
        stats: alerts raised and suppressed.
        baselines: rolling price baseline per (market, price kind).
        active: alert keys whose condition holds (alerted once, re-armed on clear).
        feed_states: the last reported state of each feed.
        pending: forecasts by market and target time, waiting for their price.
        pending_count: how many forecasts ``pending`` holds.
        next_due: per market, the earliest target of a pending intraday forecast,
            so a tick looks at the forecasts only when one is due.
        last_alert: when each (rule, key) last alerted, and how severely.
    """

    def __init__(self, config: AlertConfig) -> None:
        self.config = config
        self.stats = AlertStats()
        self.baselines: dict[tuple[str, str], RollingBaseline] = {}
        self.active: set[tuple[str, str]] = set()
        self.feed_states: dict[str, str] = {}
        self.pending: dict[str, dict[datetime, Forecast]] = {}
        self.pending_count = 0
        self.next_due: dict[str, datetime] = {}
        self.last_alert: dict[tuple[str, str], tuple[datetime, Severity]] = {}

    def emit(
        self,
        alerts: list[Alert],
        now: datetime,
        rule: str,
        key: str,
        severity: Severity,
        message: str,
        *,
        market: str | None = None,
        cooldown: bool = True,
    ) -> None:
        """Append the alert unless its key is in cooldown (a higher severity breaks through)."""
        last = self.last_alert.get((rule, key))
        if cooldown and last is not None:
            last_at, last_severity = last
            quiet = (now - last_at).total_seconds() < self.config.cooldown_s
            if quiet and _RANK[severity] <= _RANK[last_severity]:
                self.stats.suppressed += 1
                return
        self.last_alert[(rule, key)] = (now, severity)
        self.stats.raised += 1
        self.stats.by_rule[rule] = self.stats.by_rule.get(rule, 0) + 1
        alerts.append(
            Alert(ts=now, rule=rule, severity=severity, message=message, key=key, market=market)
        )


__all__ = ["AlertState", "AlertStats", "RollingBaseline"]
