"""The threshold rule: the baseline a battery owner could run in a spreadsheet.

Charge at full power when the price of the step is at or below a rolling
quantile of the prices around it, discharge at full power when it is at or
above a higher one, idle otherwise. The window is the last ``lookback_hours``
of prices plus, when ``lookahead_hours`` > 0, the published day-ahead prices
ahead (never more than is published). The defaults — 4 h back, 6 h ahead, the
10 % and 90 % quantiles of those 11 prices — are the best of a small grid
(lookback 3–48 h, lookahead 0–24 h, quantiles 0–35 %) on the 2020–2021 real
prices of the five continental markets (86.6 % of perfect foresight there);
``bench/battery_eval.py --tune-rule`` reprints the grid. Trailing-only windows
did far worse (22–32 %): the published prices are what makes a rule work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.battery.controller import DecisionContext


@dataclass(frozen=True, slots=True)
class RuleController:
    """Charge below the ``charge_quantile``, discharge above the ``discharge_quantile``."""

    lookback_hours: int = 4
    lookahead_hours: int = 6
    charge_quantile: float = 0.1
    discharge_quantile: float = 0.9

    def __post_init__(self) -> None:
        if not 0 <= self.charge_quantile < self.discharge_quantile <= 1:
            raise ValueError("need 0 <= charge_quantile < discharge_quantile <= 1")
        if self.lookback_hours < 0 or self.lookahead_hours < 0:
            raise ValueError("lookback_hours and lookahead_hours must be >= 0")

    @property
    def name(self) -> str:
        return "rule"

    def decide(self, context: DecisionContext) -> float:
        per_hour = 60 // context.step_minutes or 1
        now = context.now
        start = max(now - self.lookback_hours * per_hour, 0)
        window = context.prices[start : now + 1 + self.lookahead_hours * per_hour]
        price = float(context.prices[now])
        low, high = np.quantile(window, [self.charge_quantile, self.discharge_quantile])
        if price >= high and price > low:
            return context.spec.power_mw
        if price <= low:
            return -context.spec.power_mw
        return 0.0


__all__ = ["RuleController"]
