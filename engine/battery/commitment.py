"""The committed battery: day D planned at the day-ahead gate closure, settled at D's prices.

Every controller of :mod:`engine.battery.dispatch` decides an hour knowing that hour's
day-ahead price — an upper bound (:class:`~engine.information.Information`).
A day-ahead trader instead submits the whole of local delivery day D before
gate closure (12:00 Europe/Brussels on D−1) and is settled at the clearing
prices. This module is that trader:

1. at each gate closure a :class:`DayPlanner` sees a :class:`GateClosureView` —
   the forecast of D, the real prices *before* D (all published by then) and
   the state of charge at the end of D−1's committed plan — and answers the
   committed power of every step of D. :class:`LpPlanner` runs the very HiGHS
   model of perfect foresight (:func:`plan_day` → :func:`engine.battery.optimum.solve_schedule`),
   :class:`ControllerPlanner` rolls any :class:`~engine.battery.controller.Controller`
   (the RL policy's :class:`~engine.battery.policy_controller.PolicyController`) over the
   forecast as if it were the prices;
2. :func:`run_committed` plans every day first, from plans only — no real
   price of D or later is read while planning — and then settles the
   committed powers at the real prices through :func:`engine.battery.physics.step`
   (revenue = Σ price × power × dt − degradation). A plan made with the real
   battery spec from the carried-over SoC is feasible, so nothing is clipped.

How the end of D is valued (:class:`DayEnd`): by default energy left at the
end of D is worth nothing *to the plan* (it is not lost: D+1's plan starts from
it). Chosen on 2020 (train) and 2021 (validation) with ``bench/battery_eval.py
--tune-commitment``, 2022 not looked at: on the persistence and weekly-naive
forecasts "free" was best or tied with a value per MWh left of 30–50 % of the
forecast's mean price (within 0.5 points); higher values (by 0.5–11 points),
ending at the starting charge (18–26) and planning a second copy of D's
forecast after D, the only guess of D+1 at D−1's gate (4–5), all did worse; on
the XGBoost forecaster (trained on 2020) over 2021, free and a 30–50 % value
gave 77.0 %, the second copy 76.5 %. Forecast errors make carried energy a bet
the forecast cannot back. What a forecaster's band adds is planned on through
its expected price (:func:`engine.battery.gate_forecast.expected_from_band`).

Grids and days: delivery days are Europe/Brussels days, so a day has 23 or 25
hourly steps at the DST changes; every day is planned on its own length
(:mod:`engine.battery.gate_forecast` has the calendar and the baseline forecasts). A
day whose forecast is all NaN (no history yet) is not traded (the battery
idles and keeps its charge); NaN steps inside a day take the mean of the day's
other forecast steps. Filled steps (missing from the source, copied from the
day before) are settled at their filled price, like every other row of an
evaluation settles them.

Callers: ``gridtui eval battery``, ``bench/battery_eval.py``, and the battery
trading strategy, which calls :func:`plan_day` one day at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from engine.battery.controller import HISTORY_DAYS, Controller, DecisionContext
from engine.battery.gate_forecast import (
    DELIVERY_TIMEZONE,
    GATE_CLOSURE_HOUR,
    DeliveryDay,
    delivery_days,
)
from engine.battery.optimum import Exclusivity, Schedule, solve_schedule
from engine.battery.physics import BatterySpec, BatteryStatus, DispatchLog, step
from engine.battery.price_series import US_PER_DAY, FloatArray, IntArray, PriceSeries
from engine.information import Information

# -- planning one day ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayEnd:
    """How the planner values the energy left at the end of the delivery day.

    ``mode``:
        ``"free"`` — energy left is worth nothing to the plan (the default,
            chosen on 2020–2021: module doc);
        ``"repeat"`` — plan ``repeat_days`` more copies of D's forecast after D
            and commit D;
        ``"hold"`` — end the day with at least the charge it started with;
        ``"value"`` — each MWh left is worth ``value_share`` × the forecast's mean price.
    """

    mode: Literal["free", "repeat", "hold", "value"] = "free"
    repeat_days: int = 1
    value_share: float = 0.8


def plan_day(
    spec: BatterySpec,
    forecast_prices: Sequence[float] | FloatArray,
    dt_h: float,
    initial_soc_mwh: float,
    *,
    day_end: DayEnd | None = None,
    day_numbers: Sequence[int] | IntArray | None = None,
    discharged_today_mwh: float = 0.0,
    exclusivity: Exclusivity = "exact",
) -> Schedule:
    """The schedule to commit for one delivery day: the perfect-foresight LP on its forecast.

    Args:
        spec: the battery.
        forecast_prices: one forecast price per step of the day (finite).
        dt_h: step length in hours.
        initial_soc_mwh: the SoC at the end of the previous day's committed plan.
        day_end: how energy left at the end is valued (:class:`DayEnd`).
        day_numbers: UTC day of each step (only with a cycle cap).
        discharged_today_mwh: cell-side energy already committed in the first UTC day.
        exclusivity: see :func:`engine.battery.optimum.solve_schedule`.

    Returns:
        The day's schedule (``power_mw`` is what to commit); revenue and
        degradation are what the forecast expects, not what settles.
    """
    end = day_end or DayEnd()
    prices = np.asarray(forecast_prices, dtype=np.float64)
    n = len(prices)
    copies = 1 + (end.repeat_days if end.mode == "repeat" else 0)
    days = None
    if day_numbers is not None:
        base = np.asarray(day_numbers, dtype=np.int64)
        days = np.concatenate([base + k for k in range(copies)])
    schedule = solve_schedule(
        spec,
        np.tile(prices, copies),
        dt_h,
        initial_soc_mwh=initial_soc_mwh,
        final_soc_min_mwh=initial_soc_mwh if end.mode == "hold" else None,
        terminal_value_eur_mwh=end.value_share * float(prices.mean())
        if end.mode == "value" and n
        else 0.0,
        day_numbers=days,
        discharged_today_mwh=discharged_today_mwh,
        exclusivity=exclusivity,
    )
    if copies == 1:
        return schedule
    charge, discharge = schedule.charge_mw[:n], schedule.discharge_mw[:n]
    return Schedule(
        charge_mw=charge,
        discharge_mw=discharge,
        soc_mwh=schedule.soc_mwh[:n],
        revenue_eur=float(np.dot(prices, discharge - charge) * dt_h),
        degradation_eur=float(spec.degradation_eur_mwh * dt_h * (charge.sum() + discharge.sum())),
        binaries=schedule.binaries,
    )


@dataclass(frozen=True, slots=True)
class GateClosureView:
    """Everything a planner may know at D−1's gate closure.

    ``history`` holds the real prices of the ``HISTORY_DAYS`` before D (none of D
    or later); ``forecast`` the forecast of each step of D; ``soc_mwh`` and
    ``discharged_today_mwh`` come from the earlier days' committed plans.
    """

    spec: BatterySpec
    day: DeliveryDay
    step_minutes: int
    times_us: IntArray
    history: FloatArray
    forecast: FloatArray
    soc_mwh: float
    discharged_today_mwh: float

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0


class DayPlanner(Protocol):
    """Answers the committed power (MW, > 0 discharges) of every step of one delivery day."""

    @property
    def name(self) -> str: ...

    def plan(self, view: GateClosureView) -> FloatArray: ...


@dataclass(frozen=True, slots=True)
class LpPlanner:
    """The perfect-foresight LP on the forecast (:func:`plan_day`)."""

    day_end: DayEnd = field(default_factory=DayEnd)
    exclusivity: Exclusivity = "exact"
    name: str = "lp"

    def plan(self, view: GateClosureView) -> FloatArray:
        schedule = plan_day(
            view.spec,
            view.forecast,
            view.dt_h,
            view.soc_mwh,
            day_end=self.day_end,
            day_numbers=view.times_us // US_PER_DAY,
            discharged_today_mwh=view.discharged_today_mwh,
            exclusivity=self.exclusivity,
        )
        return schedule.power_mw


class ControllerPlanner:
    """A step-by-step controller rolled over D's forecast as if it were D's published prices.

    At step t of D it is shown the real week before D and the forecast of D up
    to D's end (no later guess: nothing about D+1 is known at D−1's gate); its
    set-points, stepped through the battery physics, are the committed plan.
    """

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    @property
    def name(self) -> str:
        return self.controller.name

    def plan(self, view: GateClosureView) -> FloatArray:
        spec = view.spec
        prices = np.concatenate([view.history, view.forecast])
        past = len(view.history)
        days = view.times_us // US_PER_DAY
        status = BatteryStatus(
            soc_mwh=view.soc_mwh,
            day_number=int(days[0]),
            discharged_today_mwh=view.discharged_today_mwh,
        )
        power = np.zeros(len(view.forecast))
        for i, step_us in enumerate(view.times_us.tolist()):
            same_day = status.day_number == int(days[i])
            context = DecisionContext(
                spec=spec,
                soc_mwh=status.soc_mwh,
                discharged_today_mwh=status.discharged_today_mwh if same_day else 0.0,
                step_us=step_us,
                step_minutes=view.step_minutes,
                prices=prices,
                now=past + i,
            )
            requested = self.controller.decide(context)
            price = float(view.forecast[i])
            power[i] = step(spec, status, requested, price, view.dt_h, int(days[i])).power_mw
        return power


# -- the committed run -----------------------------------------------------------------------


@dataclass(slots=True)
class CommittedRun:
    """A committed battery over one series: what was committed and what it settled at."""

    planner: str
    power_mw: FloatArray  # committed, per step
    soc_mwh: FloatArray  # after each step, as settled
    status: BatteryStatus
    log: DispatchLog
    days: int
    idle_days: int  # days without a forecast: not traded
    max_clipped_mw: float  # |committed − delivered|: 0 up to rounding for a feasible plan
    information: Information = Information.GATE_CLOSURE

    @property
    def net_revenue_eur(self) -> float:
        return self.status.net_revenue_eur


def run_committed(
    spec: BatterySpec,
    series: PriceSeries,
    forecast: Sequence[float] | FloatArray,
    planner: DayPlanner | None = None,
    *,
    timezone: str = DELIVERY_TIMEZONE,
    gate_closure_hour: int = GATE_CLOSURE_HOUR,
) -> CommittedRun:
    """Commit every delivery day of ``series`` at its gate closure, then settle at the real prices.

    Args:
        spec: the battery (its initial SoC is the SoC before the first day).
        series: the real prices the committed powers settle at.
        forecast: one price per step of ``series``; day D's values made with
            what was known at D−1's gate closure (the caller's promise; the
            baselines here keep it).
        planner: who plans a day (default: :class:`LpPlanner`).
    """
    chosen = planner or LpPlanner()
    guess = np.asarray(forecast, dtype=np.float64)
    if len(guess) != len(series):
        raise ValueError(f"forecast has {len(guess)} steps, the series {len(series)}")
    utc_days = series.day_numbers()
    times = series.times_us()
    calendar = delivery_days(series, timezone, gate_closure_hour)
    committed = np.zeros(len(series))
    # Planning: the state is carried from plan to plan, never read from settlement,
    # and `history` stops before D: no real price of D or later is looked at here.
    planned = BatteryStatus.initial(spec, int(utc_days[0]) if len(series) else 0)
    idle = 0
    window = HISTORY_DAYS * series.steps_per_day
    for day in calendar:
        steps = slice(day.start, day.stop)
        values = guess[steps].copy()
        finite = np.isfinite(values)
        if finite.any():
            values[~finite] = values[finite].mean()
            same_day = planned.day_number == int(utc_days[day.start])
            view = GateClosureView(
                spec=spec,
                day=day,
                step_minutes=series.step_minutes,
                times_us=times[steps],
                history=series.prices[max(day.start - window, 0) : day.start].copy(),
                forecast=values,
                soc_mwh=planned.soc_mwh,
                discharged_today_mwh=planned.discharged_today_mwh if same_day else 0.0,
            )
            power = np.asarray(chosen.plan(view), dtype=np.float64)
            if len(power) != len(day):
                raise ValueError(f"{chosen.name} planned {len(power)} steps of {len(day)}")
            committed[steps] = power
        else:
            idle += 1
        for t in range(day.start, day.stop):
            step(spec, planned, float(committed[t]), 0.0, series.dt_h, int(utc_days[t]))
    # Settlement at the clearing prices, with the same physics as every other row.
    status = BatteryStatus.initial(spec, int(utc_days[0]) if len(series) else 0)
    record = DispatchLog()
    clipped = 0.0
    for t in range(len(series)):
        result = step(
            spec,
            status,
            float(committed[t]),
            float(series.prices[t]),
            series.dt_h,
            int(utc_days[t]),
        )
        record.add(result)
        clipped = max(clipped, abs(result.power_mw - committed[t]))
    return CommittedRun(
        planner=chosen.name,
        power_mw=committed,
        soc_mwh=np.asarray(record.soc_mwh, dtype=np.float64),
        status=status,
        log=record,
        days=len(calendar),
        idle_days=idle,
        max_clipped_mw=clipped,
    )


__all__ = [
    "CommittedRun",
    "ControllerPlanner",
    "DayEnd",
    "DayPlanner",
    "GateClosureView",
    "LpPlanner",
    "plan_day",
    "run_committed",
]
