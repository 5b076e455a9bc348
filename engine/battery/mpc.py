"""Model-predictive control: the perfect-foresight LP over what is known at decision time.

At each decision the controller builds a price path — the published day-ahead
prices (the rest of today, and all of tomorrow after the auction), then
``extension_hours`` of forecast beyond them — solves
:func:`engine.battery.optimum.solve_schedule` on it from the battery's current state,
and carries out the first step.

The forecast beyond the published prices comes from an :data:`Extender`. By
default that is :func:`engine.battery.controller.seasonal_naive` (the last published day
repeated), which needs no model; :class:`ForecasterExtender` plugs in any
:class:`~engine.ports.Forecaster` (the XGBoost forecaster of ``models/``) and
falls back to the naive path wherever it has no forecast. The extension exists
so the plan does not empty the battery at the end of the published window as
though the world ended there.

Replanning: the plan only changes when information does. With the default
``replan="on_new_prices"`` the LP is solved again when the published window
grows (once a day, after the auction), when the battery's state of charge has
left the plan (a clipped or overridden step), or when the plan runs out;
between those moments re-solving would give the same plan, since the horizon
end does not move. ``replan="every_step"`` re-solves every step (for checking
that claim; it is ~24 times slower).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np

from engine.battery.controller import DecisionContext, seasonal_naive
from engine.battery.optimum import Exclusivity, solve_schedule
from engine.battery.price_series import US_PER_DAY, US_PER_MINUTE, FloatArray, from_us, to_us
from engine.events import Forecast, PriceKind, PriceTick
from engine.ports import Forecaster

Extender = Callable[[DecisionContext, int], FloatArray]
"""``(context, steps) -> prices``: ``steps`` prices from now, the published ones first."""

_SOC_TOLERANCE_MWH: Final = 1e-6


@dataclass(slots=True)
class MpcPlan:
    """The part of one MPC solution that covers the published steps, keyed by step start (µs)."""

    known_end_us: int
    power_mw: dict[int, float] = field(default_factory=dict)
    soc_before_mwh: dict[int, float] = field(default_factory=dict)
    discharged_before_mwh: dict[int, float] = field(default_factory=dict)


class MpcController:
    """Rolling-horizon LP over the published prices and a forecast beyond them.

    Args:
        extension_hours: forecast hours appended after the last published price.
        extend: where those prices come from (default: naive seasonal).
        replan: ``"on_new_prices"`` (default) or ``"every_step"`` (module doc).
        exclusivity: how the LP rules out simultaneous charge and discharge.
    """

    def __init__(
        self,
        *,
        extension_hours: int = 24,
        extend: Extender = seasonal_naive,
        replan: Literal["on_new_prices", "every_step"] = "on_new_prices",
        exclusivity: Exclusivity = "exact",
        name: str = "mpc",
    ) -> None:
        if extension_hours < 0:
            raise ValueError("extension_hours must be >= 0")
        self.extension_hours = extension_hours
        self.extend = extend
        self.replan = replan
        self.exclusivity: Exclusivity = exclusivity
        self._name = name
        self._plan: MpcPlan | None = None
        self.solves = 0

    @property
    def name(self) -> str:
        return self._name

    def decide(self, context: DecisionContext) -> float:
        step_us = context.step_minutes * US_PER_MINUTE
        known_end_us = context.step_us + context.known_steps * step_us
        plan = self._plan
        if (
            self.replan == "every_step"
            or plan is None
            or plan.known_end_us != known_end_us
            or context.step_us not in plan.power_mw
            or abs(plan.soc_before_mwh[context.step_us] - context.soc_mwh) > _SOC_TOLERANCE_MWH
        ):
            plan = self._plan = self.plan(context)
        return plan.power_mw[context.step_us]

    def plan(self, context: DecisionContext) -> MpcPlan:
        """Solve the LP from this decision; the plan runs to the last published step.

        Along the plan, ``soc_before_mwh`` and ``discharged_before_mwh`` say what
        the battery will hold before each step — the states at which the plan's
        own powers are also what a fresh solve would answer (imitation labels).
        """
        per_hour = max(60 // context.step_minutes, 1)
        horizon = context.known_steps + self.extension_hours * per_hour
        prices = self.extend(context, horizon)
        step_us = context.step_minutes * US_PER_MINUTE
        known_end_us = context.step_us + context.known_steps * step_us
        times = context.step_us + np.arange(horizon, dtype=np.int64) * step_us
        schedule = solve_schedule(
            context.spec,
            prices,
            context.dt_h,
            initial_soc_mwh=context.soc_mwh,
            day_numbers=times // US_PER_DAY,
            discharged_today_mwh=context.discharged_today_mwh,
            exclusivity=self.exclusivity,
        )
        self.solves += 1
        plan = MpcPlan(known_end_us)
        soc_before = np.concatenate([[context.soc_mwh], schedule.soc_mwh[:-1]])
        power = schedule.power_mw
        days = times // US_PER_DAY
        cell_out = schedule.discharge_mw * context.dt_h / context.spec.discharge_efficiency
        discharged = context.discharged_today_mwh
        for i in range(context.known_steps):
            if i and days[i] != days[i - 1]:
                discharged = 0.0
            key = int(times[i])
            plan.power_mw[key] = float(power[i])
            plan.soc_before_mwh[key] = float(soc_before[i])
            plan.discharged_before_mwh[key] = discharged
            discharged += float(cell_out[i])
        return plan


class ForecasterExtender:
    """Extends the published prices with a :class:`~engine.ports.Forecaster`'s predictions.

    The forecaster gets the known day-ahead prices as ticks (past and published,
    oldest first) and the decision time; each forecast whose ``target_ts`` falls
    on a step beyond the published window replaces the naive seasonal price
    there. A forecaster that raises is logged once per call site and the naive
    path is used, so a broken model never stops a battery.
    """

    def __init__(self, forecaster: Forecaster, market: str) -> None:
        self.forecaster = forecaster
        self.market = market
        self.failures = 0

    def __call__(self, context: DecisionContext, steps: int) -> FloatArray:
        prices = seasonal_naive(context, steps)
        step_us = context.step_minutes * US_PER_MINUTE
        first_us = context.step_us - context.now * step_us
        history: Sequence[PriceTick] = [
            PriceTick(
                ts=from_us(first_us + i * step_us),
                market=self.market,
                price_eur_mwh=float(value),
                kind=PriceKind.DAY_AHEAD,
                delivery_minutes=context.step_minutes,
                source="history",
            )
            for i, value in enumerate(context.prices.tolist())
        ]
        try:
            forecasts: Sequence[Forecast] = self.forecaster.forecast(
                history, from_us(context.step_us)
            )
        except Exception:
            self.failures += 1
            return prices
        known = context.known_steps
        for forecast in forecasts:
            offset = (to_us(forecast.target_ts) - context.step_us) // step_us
            if known <= offset < steps and np.isfinite(forecast.price_eur_mwh):
                prices[offset] = forecast.price_eur_mwh
        return prices


__all__ = ["Extender", "ForecasterExtender", "MpcController", "MpcPlan"]
