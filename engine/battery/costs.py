"""What a traded battery pays per MWh, and what knowing every price would have earned net of it.

One definition for ``gridtui backtest`` and ``gridtui eval battery``, so the
two agree to the cent (``tests/engine/test_battery_one_truth.py``):

- a battery that trades pays, per MWh bought or sold, its wear
  (``degradation_eur_mwh``) and the exchange and clearing fee
  (``[strategies.execution] fee_eur_mwh``); both scale with grid-side
  throughput, so :func:`trading_spec` folds the fee into the spec's per-MWh
  cost and every planner, settlement and yardstick that steps that spec
  counts both alike. A backtest's execution model charges exactly that per
  fill (fee + the order's ``extra_cost_eur_mwh`` = wear);
- :func:`perfect_foresight` — the yardstick: the HiGHS optimum
  (:func:`engine.battery.optimum.solve_schedule`) on every price of the period, net of
  wear and fee, with the cycle cap per UTC day. ``battery_perfect_foresight_pct``
  of a backtest and the "perfect foresight" row of ``eval battery`` are this figure.

Callers: :mod:`engine.backtest.result`, the battery strategy and fleet, ``gridtui eval battery``.
"""

from __future__ import annotations

import math

import msgspec

from engine.battery.optimum import Schedule, solve_schedule
from engine.battery.physics import BatterySpec
from engine.battery.price_series import PriceSeries


def trading_spec(spec: BatterySpec, fee_eur_mwh: float) -> BatterySpec:
    """``spec`` with the exchange fee added to its cost per MWh of throughput."""
    if not (math.isfinite(fee_eur_mwh) and fee_eur_mwh >= 0):
        raise ValueError(f"fee_eur_mwh must be a finite number >= 0, got {fee_eur_mwh}")
    if fee_eur_mwh == 0:
        return spec
    return msgspec.structs.replace(spec, degradation_eur_mwh=spec.degradation_eur_mwh + fee_eur_mwh)


def perfect_foresight(spec: BatterySpec, series: PriceSeries, fee_eur_mwh: float) -> Schedule:
    """The optimum on every price of ``series``, net of wear and fee (module docstring).

    Raises:
        engine.battery.optimum.OptimumError: HiGHS found no optimum.
    """
    return solve_schedule(
        trading_spec(spec, fee_eur_mwh),
        series.prices,
        series.dt_h,
        day_numbers=series.day_numbers(),
    )


__all__ = ["perfect_foresight", "trading_spec"]
