"""The RL policy's observation: one fixed-length vector of what is known at decision time.

The one definition shared by training (``models/battery/env.py``) and serving
(:class:`engine.battery.policy_controller.PolicyController`), so a policy sees in production
exactly what it saw in training. Built only from a
:class:`~engine.battery.controller.DecisionContext`, which holds no price after the last
published one.

Layout (:data:`OBSERVATION_NAMES`, :data:`OBSERVATION_VERSION`), all float32
and clipped to ±:data:`OBSERVATION_CLIP`:

- battery: state of charge within its window (0 = reserve, 1 = ceiling) and the
  share of today's cycle budget left (1 without a cap);
- the next :data:`FUTURE_STEPS` prices from now (this step first): published
  day-ahead prices, then the naive seasonal forecast
  (:func:`engine.battery.controller.seasonal_naive`), and the share of them that is published;
- the last :data:`PAST_STEPS` prices;
- prices are normalised as (p − level)/scale, level and scale being the mean and
  standard deviation of the last 24 and next 24 steps (scale floored at 5 % of
  the level and 1 EUR/MWh), so one policy serves 2020's 30 EUR/MWh and 2022's
  300; level/scale and degradation/scale (as asinh) keep what the normalisation
  hides, because losses and wear do not scale with the price level;
- the battery's round-trip efficiency and duration (usable hours at full power / 4);
- calendar: hour of day, day of week, day of year (UTC) as sine/cosine pairs;
- the current price's rank among the next 6, 12 and 24 steps and its distance
  (in scales) to their minimum and maximum: what a trader looks at first.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from engine.battery.controller import DecisionContext, seasonal_naive
from engine.battery.physics import BatterySpec
from engine.battery.price_series import US_PER_DAY

OBSERVATION_VERSION: Final = "battery-obs-1"
FUTURE_STEPS: Final = 48
PAST_STEPS: Final = 24
OBSERVATION_CLIP: Final = 10.0

ObservationArray = npt.NDArray[np.float32]

_BATTERY_NAMES: Final = ("soc_fraction", "cycle_budget_left")
_MARKET_NAMES: Final = (
    *(f"future_{i}" for i in range(FUTURE_STEPS)),
    "published_share",
    *(f"past_{i}" for i in range(PAST_STEPS, 0, -1)),
    "level_over_scale",
    "degradation_over_scale",
    "round_trip_efficiency",
    "duration_quarter_days",
    "hour_sin",
    "hour_cos",
    "weekday_sin",
    "weekday_cos",
    "yearday_sin",
    "yearday_cos",
    "rank_6",
    "rank_12",
    "rank_24",
    "above_min_24",
    "below_max_24",
)
OBSERVATION_NAMES: Final = (*_BATTERY_NAMES, *_MARKET_NAMES)
OBSERVATION_SIZE: Final = len(OBSERVATION_NAMES)
BATTERY_FEATURES: Final = len(_BATTERY_NAMES)


def battery_features(
    spec: BatterySpec, soc_mwh: float, discharged_today_mwh: float
) -> ObservationArray:
    soc = (soc_mwh - spec.soc_min_mwh) / spec.usable_mwh
    budget = spec.daily_discharge_budget_mwh
    left = 1.0 if math.isinf(budget) else max(budget - discharged_today_mwh, 0.0) / spec.usable_mwh
    return np.array([soc, min(left, 1.0)], dtype=np.float32)


def _windows(
    context: DecisionContext,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, float]:
    future = seasonal_naive(context, FUTURE_STEPS)
    prices = context.prices
    now = context.now
    past = prices[max(now - PAST_STEPS, 0) : now]
    if len(past) < PAST_STEPS:
        pad = past[0] if len(past) else future[0]
        past = np.concatenate([np.full(PAST_STEPS - len(past), pad), past])
    reference = np.concatenate([past, future[:24]])
    level = float(reference.mean())
    scale = max(float(reference.std()), 0.05 * abs(level), 1.0)
    return future, past, level, scale


def price_scale(context: DecisionContext) -> float:
    """The EUR/MWh that one unit of the normalised prices stands for at this decision."""
    return _windows(context)[3]


def market_features(context: DecisionContext) -> ObservationArray:
    """Everything but the battery's own state (it does not depend on the SoC)."""
    spec = context.spec
    future, past, level, scale = _windows(context)
    current = future[0]
    ranks = [float(np.mean(future[:w] < current)) for w in (6, 12, 24)]
    day_ahead = future[:24]
    step_day = (context.step_us % US_PER_DAY) / US_PER_DAY
    days = context.step_us / US_PER_DAY
    weekday = ((days + 3.0) % 7.0) / 7.0  # 1970-01-01 was a Thursday
    yearday = (days % 365.2425) / 365.2425
    duration = spec.usable_mwh / (spec.power_mw * context.dt_h) / 4.0
    tau = 2 * math.pi
    scalars = [
        min(context.known_steps, FUTURE_STEPS) / FUTURE_STEPS,
    ]
    tail = [
        math.asinh(level / scale),
        math.asinh(spec.degradation_eur_mwh / scale),
        spec.round_trip_efficiency,
        duration,
        math.sin(tau * step_day),
        math.cos(tau * step_day),
        math.sin(tau * weekday),
        math.cos(tau * weekday),
        math.sin(tau * yearday),
        math.cos(tau * yearday),
        *ranks,
        (current - float(day_ahead.min())) / scale,
        (float(day_ahead.max()) - current) / scale,
    ]
    vector = np.concatenate(
        [(future - level) / scale, scalars, (past - level) / scale, tail]
    ).astype(np.float32)
    return np.clip(vector, -OBSERVATION_CLIP, OBSERVATION_CLIP)


def build_observation(context: DecisionContext) -> ObservationArray:
    """The policy's input for this decision (module doc for the layout)."""
    return np.concatenate(
        [
            battery_features(context.spec, context.soc_mwh, context.discharged_today_mwh),
            market_features(context),
        ]
    )


__all__ = [
    "BATTERY_FEATURES",
    "FUTURE_STEPS",
    "OBSERVATION_CLIP",
    "OBSERVATION_NAMES",
    "OBSERVATION_SIZE",
    "OBSERVATION_VERSION",
    "PAST_STEPS",
    "ObservationArray",
    "battery_features",
    "build_observation",
    "market_features",
    "price_scale",
]
