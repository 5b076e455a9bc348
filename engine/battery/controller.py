"""Who decides a battery's power: what a controller may know, and the controllers' protocol.

:class:`DecisionContext` is the information set of one step (the last week of
prices and the published ones from now on, nothing later); :class:`Controller`
is ``decide(context) -> MW``, implemented by the threshold rule
(:mod:`engine.battery.threshold`), the MPC (:mod:`engine.battery.mpc`) and
:class:`~engine.battery.policy_controller.PolicyController` (an RL policy behind
the :class:`~engine.ports.Policy` port). :func:`seasonal_naive` is the forecast
of the unpublished prices that needs no model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np

from engine.battery.physics import BatterySpec
from engine.battery.price_series import US_PER_DAY, FloatArray

HISTORY_DAYS: Final = 7  # days of past prices a controller sees


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """Everything a controller may know when it decides one step.

    ``prices[:now]`` are past prices (up to :data:`HISTORY_DAYS`), ``prices[now]``
    is the price of the step being decided (a day-ahead price, known), and
    ``prices[now + 1:]`` are the published future prices — nothing beyond the
    last published step is in the array.
    """

    spec: BatterySpec
    soc_mwh: float
    discharged_today_mwh: float
    step_us: int
    step_minutes: int
    prices: FloatArray
    now: int

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0

    @property
    def steps_per_day(self) -> int:
        return (24 * 60) // self.step_minutes

    @property
    def known_steps(self) -> int:
        """Published steps from now on, this one included."""
        return len(self.prices) - self.now

    @property
    def day_number(self) -> int:
        return self.step_us // US_PER_DAY


class Controller(Protocol):
    """Decides a battery's power for one step from what is known then."""

    @property
    def name(self) -> str: ...

    def decide(self, context: DecisionContext) -> float:
        """The set-point in MW (> 0 discharges). The battery clips it to what is feasible."""
        ...


def seasonal_naive(context: DecisionContext, steps: int) -> FloatArray:
    """Prices for ``steps`` steps from now: published ones, then the last published day repeated.

    The naive seasonal forecast of a day-ahead curve: the step one day earlier
    (two days, …) that is already known. It keeps the daily shape, which is what
    a battery trades on, and needs no model.
    """
    prices = context.prices
    known = len(prices)
    wanted = context.now + np.arange(steps)
    period = context.steps_per_day
    beyond = np.maximum(wanted - (known - 1), 0)
    source = wanted - period * ((beyond + period - 1) // period)
    source = np.clip(source, 0, known - 1)
    return np.asarray(prices[source], dtype=np.float64)


__all__ = [
    "HISTORY_DAYS",
    "Controller",
    "DecisionContext",
    "seasonal_naive",
]
