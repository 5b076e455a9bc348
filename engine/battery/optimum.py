"""The perfect-foresight optimum: the most net revenue a battery could have made.

This module owns one linear program, solved with HiGHS (highspy for the LP,
SciPy's ``milp`` for the rare MILP), used two ways:

- **perfect foresight** — the whole price series is known; the result is the
  honest yardstick every policy is reported against (``gridtui eval battery``,
  ``bench/battery_eval.py``);
- **one MPC plan** — :class:`engine.battery.dispatch.MpcController` solves it over what
  is known at decision time (published day-ahead prices, then a forecast).

The program, for steps t = 0..n−1 of ``dt`` hours at prices p_t::

    maximise   Σ p_t·(d_t − c_t)·dt − k·(c_t + d_t)·dt  + v·s_{n−1}
    subject to s_t = s_{t−1} + η_c·c_t·dt − d_t·dt/η_d        (s_{−1} = initial SoC)
               0 ≤ c_t, d_t ≤ P,   s_min ≤ s_t ≤ s_max,   s_{n−1} ≥ final minimum
               Σ_{t in day} d_t·dt/η_d ≤ daily cycle budget      (when a cycle cap is set)

with c/d the charge/discharge power (MW, grid side), s the state of charge
(MWh), k the degradation cost and v an optional value of energy left at the end.
The matrix is sparse (three non-zeros per step), so a year of hours is ~26,000
columns and solves in a fraction of a second.

**Charging and discharging at once.** The relaxation above lets c_t and d_t
both be positive. At a non-negative price that never pays: lowering c_t by δ
and d_t by δ·η_c·η_d leaves the SoC path unchanged and does not lose money, so
such steps are simply netted out afterwards. At a negative price it can pay —
buying power and burning it in the conversion losses — which a real battery
cannot do. When the LP solution does that anywhere, the problem is solved
again as a MILP with one binary (c_t ≤ P·z_t, d_t ≤ P·(1 − z_t)) per step whose
price is low enough for burning to pay: netting out loses p·δ·(1 − η_c·η_d) and
saves k·δ·(1 + η_c·η_d), so only steps with p < −k·(1 + η_c·η_d)/(1 − η_c·η_d)
(−95 EUR/MWh for the default battery) need one. Every other step stays
continuous, so the MILP stays small and the optimum is exact, not penalised. It
is rare (7 hours of NL 2022) and adds about a second to a year of hours.
(``exclusivity="penalty"`` instead adds a small cost per MWh discharged in
negative-price steps and nets out what remains: never slower than the LP,
slightly below the optimum where burning would have paid.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from engine.battery.physics import BatterySpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Exclusivity = Literal["exact", "penalty"]

# A step "does both" when the smaller of its two flows exceeds this (MW).
SIMULTANEOUS_TOLERANCE_MW: Final = 1e-7
_PENALTY_EUR_MWH: Final = 1.0
# HiGHS stops at 1e-4 by default (EUR 10 on a year of a 1 MW battery); 1e-6 is
# cents, and tighter costs tens of seconds on a year of quarter-hours.
_MIP_RELATIVE_GAP: Final = 1e-6


class OptimumError(RuntimeError):
    """HiGHS did not return an optimal schedule (infeasible limits, bad prices)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """An optimal dispatch. Arrays have one entry per step; ``soc_mwh`` is at each step's end."""

    charge_mw: FloatArray
    discharge_mw: FloatArray
    soc_mwh: FloatArray
    revenue_eur: float
    degradation_eur: float
    binaries: int  # 0 when the LP relaxation was already exclusive

    @property
    def power_mw(self) -> FloatArray:
        """Grid power per step, > 0 discharging."""
        return self.discharge_mw - self.charge_mw

    @property
    def net_revenue_eur(self) -> float:
        return self.revenue_eur - self.degradation_eur


def solve_schedule(
    spec: BatterySpec,
    prices_eur_mwh: Sequence[float] | FloatArray,
    dt_h: float,
    *,
    initial_soc_mwh: float | None = None,
    final_soc_min_mwh: float | None = None,
    terminal_value_eur_mwh: float = 0.0,
    day_numbers: Sequence[int] | IntArray | None = None,
    discharged_today_mwh: float = 0.0,
    exclusivity: Exclusivity = "exact",
) -> Schedule:
    """The schedule that maximises net revenue over ``prices_eur_mwh``, known in full.

    Args:
        spec: the battery.
        prices_eur_mwh: one price per step.
        dt_h: step length in hours.
        initial_soc_mwh: SoC before the first step (default: the spec's initial SoC).
        final_soc_min_mwh: keep at least this much energy at the end (None: free).
        terminal_value_eur_mwh: worth of each MWh left in the cells at the end.
        day_numbers: UTC day of each step, needed only with a cycle cap (steps of
            one day share one budget); default: consecutive blocks of 24 h.
        discharged_today_mwh: cell-side energy already discharged in the first day.
        exclusivity: how simultaneous charge and discharge is ruled out (module doc).

    Raises:
        OptimumError: HiGHS found no optimal schedule (e.g. an unreachable final SoC).
    """
    prices = np.asarray(prices_eur_mwh, dtype=np.float64)
    n = len(prices)
    if n == 0:
        empty = np.zeros(0)
        return Schedule(empty, empty, empty, 0.0, 0.0, 0)
    if not np.all(np.isfinite(prices)):
        raise OptimumError("prices must be finite (fill gaps before optimising)")
    soc0 = spec.initial_soc_mwh if initial_soc_mwh is None else initial_soc_mwh
    soc0 = min(max(soc0, spec.soc_min_mwh), spec.soc_max_mwh)
    eta_c, eta_d, power = spec.charge_efficiency, spec.discharge_efficiency, spec.power_mw
    wear = spec.degradation_eur_mwh * dt_h

    # Columns: c (0..n-1), d (n..2n-1), s (2n..3n-1). linprog minimises.
    cost = np.concatenate([prices * dt_h + wear, -prices * dt_h + wear, np.zeros(n)])
    cost[3 * n - 1] -= terminal_value_eur_mwh
    if exclusivity == "penalty":
        negative = prices < 0
        cost[n : 2 * n][negative] += _PENALTY_EUR_MWH * dt_h
    rows, balance_rhs = _balance_rows(n, eta_c, eta_d, dt_h, soc0)
    lower = np.concatenate([np.zeros(2 * n), np.full(n, spec.soc_min_mwh)])
    upper = np.concatenate([np.full(2 * n, power), np.full(n, spec.soc_max_mwh)])
    if final_soc_min_mwh is not None:
        lower[3 * n - 1] = min(max(final_soc_min_mwh, spec.soc_min_mwh), spec.soc_max_mwh)
    cycle_rows, cycle_rhs = _cycle_rows(spec, n, dt_h, day_numbers, discharged_today_mwh)

    x = _solve_lp(cost, rows, balance_rhs, cycle_rows, cycle_rhs, lower, upper)
    binaries = 0
    both = np.minimum(x[:n], x[n : 2 * n]) > SIMULTANEOUS_TOLERANCE_MW
    # Netting out a step with both flows loses money only below this price
    # (module doc), so only there can the relaxation profitably burn energy.
    burn_below = -spec.degradation_eur_mwh * (1 + eta_c * eta_d) / (1 - eta_c * eta_d + 1e-12)
    flagged = prices < burn_below
    if exclusivity == "exact" and np.any(both & flagged):
        x = _solve_exclusive(
            cost, rows, balance_rhs, cycle_rows, cycle_rhs, lower, upper, flagged, power
        )
        binaries = int(flagged.sum())
    charge, discharge = _net_out(x[:n].copy(), x[n : 2 * n].copy(), eta_c * eta_d)
    soc = _soc_path(soc0, charge, discharge, eta_c, eta_d, dt_h)
    revenue = float(np.dot(prices, discharge - charge) * dt_h)
    degradation = float(spec.degradation_eur_mwh * dt_h * (charge.sum() + discharge.sum()))
    return Schedule(charge, discharge, soc, revenue, degradation, binaries)


# The solver without highspy's Python wrapper: the wrapper's constructor installs
# logging callbacks, and HiGHS 1.16 then prints its banner on the process's
# stdout (C++ level, before any option can silence it) — into `--json` output
# and the dashboard's terminal. tests/engine/test_optimum.py checks stdout stays
# clean. Older highspy releases without the core class fall back to the wrapper.
_Highs: Any = getattr(getattr(highspy, "_core", None), "_Highs", None) or highspy.Highs


def _solve_lp(
    cost: FloatArray,
    balance: sp.csr_array,
    balance_rhs: FloatArray,
    cycle_rows: sp.csr_array | None,
    cycle_rhs: FloatArray | None,
    lower: FloatArray,
    upper: FloatArray,
) -> FloatArray:
    """The LP relaxation, handed to HiGHS directly through highspy.

    SciPy's ``linprog`` wraps the same solver but validates its options and
    rebuilds the matrix on every call: 3.2 ms for one MPC plan against 1.5 ms
    here — the MPC solves once a day per battery, in every backtest.
    """
    if cycle_rows is not None and cycle_rhs is not None:
        matrix = sp.vstack([balance, cycle_rows], format="csc")
        row_lower = np.concatenate([balance_rhs, np.full(len(cycle_rhs), -highspy.kHighsInf)])
        row_upper = np.concatenate([balance_rhs, cycle_rhs])
    else:
        matrix = sp.csc_array(balance)
        row_lower = row_upper = balance_rhs
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    solver = _Highs()
    solver.setOptionValue("output_flag", False)
    solver.passModel(lp)
    solver.run()
    status = solver.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise OptimumError(
            f"HiGHS found no optimal battery schedule: {solver.modelStatusToString(status)}"
        )
    return np.asarray(solver.getSolution().col_value, dtype=np.float64)


def _balance_rows(
    n: int, eta_c: float, eta_d: float, dt_h: float, soc0: float
) -> tuple[sp.csr_array, FloatArray]:
    """s_t − s_{t−1} − η_c·dt·c_t + dt/η_d·d_t = 0 (the first row carries s_{−1})."""
    steps = np.arange(n)
    row = np.concatenate([steps, steps, steps, steps[1:]])
    col = np.concatenate([steps, n + steps, 2 * n + steps, 2 * n + steps[:-1]])
    val = np.concatenate(
        [np.full(n, -eta_c * dt_h), np.full(n, dt_h / eta_d), np.ones(n), -np.ones(n - 1)]
    )
    rhs = np.zeros(n)
    rhs[0] = soc0
    return sp.csr_array((val, (row, col)), shape=(n, 3 * n)), rhs


def _cycle_rows(
    spec: BatterySpec,
    n: int,
    dt_h: float,
    day_numbers: Sequence[int] | IntArray | None,
    discharged_today_mwh: float,
) -> tuple[sp.csr_array | None, FloatArray | None]:
    if spec.max_cycles_per_day is None:
        return None, None
    if day_numbers is None:
        steps_per_day = max(round(24 / dt_h), 1)
        days = np.arange(n) // steps_per_day
    else:
        days = np.asarray(day_numbers, dtype=np.int64)
        if len(days) != n:
            raise ValueError(f"day_numbers has {len(days)} entries for {n} prices")
    _, day_index = np.unique(days, return_inverse=True)
    n_days = int(day_index.max()) + 1
    matrix = sp.csr_array(
        (np.full(n, dt_h / spec.discharge_efficiency), (day_index, n + np.arange(n))),
        shape=(n_days, 3 * n),
    )
    budget = np.full(n_days, spec.daily_discharge_budget_mwh)
    budget[day_index[0]] = max(budget[day_index[0]] - discharged_today_mwh, 0.0)
    return matrix, budget


def _solve_exclusive(
    cost: FloatArray,
    balance: sp.csr_array,
    balance_rhs: FloatArray,
    cycle_rows: sp.csr_array | None,
    cycle_rhs: FloatArray | None,
    lower: FloatArray,
    upper: FloatArray,
    negative: npt.NDArray[np.bool_],
    power: float,
) -> FloatArray:
    """The MILP: one binary z per flagged (negative-price) step, c ≤ P·z and d ≤ P·(1 − z)."""
    n = len(negative)
    flagged = np.flatnonzero(negative)
    k = len(flagged)
    width = 3 * n + k
    z_cols = 3 * n + np.arange(k)
    r = np.arange(k)
    exclusive = sp.csr_array(
        (
            np.concatenate([np.ones(k), np.full(k, -power), np.ones(k), np.full(k, power)]),
            (
                np.concatenate([r, r, k + r, k + r]),
                np.concatenate([flagged, z_cols, n + flagged, z_cols]),
            ),
        ),
        shape=(2 * k, width),
    )
    widen = sp.csr_array((balance.shape[0], k))
    constraints = [
        LinearConstraint(sp.hstack([balance, widen], format="csr"), balance_rhs, balance_rhs),
        LinearConstraint(
            exclusive, np.full(2 * k, -np.inf), np.concatenate([np.zeros(k), np.full(k, power)])
        ),
    ]
    if cycle_rows is not None and cycle_rhs is not None:
        extra = sp.csr_array((cycle_rows.shape[0], k))
        constraints.append(
            LinearConstraint(sp.hstack([cycle_rows, extra], format="csr"), -np.inf, cycle_rhs)
        )
    result = milp(
        np.concatenate([cost, np.zeros(k)]),
        constraints=constraints,
        integrality=np.concatenate([np.zeros(3 * n), np.ones(k)]),
        bounds=Bounds(np.concatenate([lower, np.zeros(k)]), np.concatenate([upper, np.ones(k)])),
        # HiGHS's MILP presolve costs more than it saves here (a year of NL 2022,
        # 7 binaries: 1.07 s with it, 0.71 s without, the same optimum).
        options={"mip_rel_gap": _MIP_RELATIVE_GAP, "presolve": False},
    )
    if result.status != 0 or result.x is None:
        raise OptimumError(f"HiGHS found no optimal exclusive schedule: {result.message}")
    return np.asarray(result.x[: 3 * n], dtype=np.float64)


def _net_out(
    charge: FloatArray, discharge: FloatArray, round_trip: float
) -> tuple[FloatArray, FloatArray]:
    """Remove simultaneous flows without moving the SoC path (see the module doc).

    Lowering c by δ and d by δ·η_c·η_d keeps every SoC; take the largest δ that
    keeps both non-negative. Only ever called where this loses no money.
    """
    delta = np.minimum(charge, discharge / round_trip)
    charge -= delta
    discharge -= delta * round_trip
    charge[charge < SIMULTANEOUS_TOLERANCE_MW] = 0.0
    discharge[discharge < SIMULTANEOUS_TOLERANCE_MW] = 0.0
    return charge, discharge


def _soc_path(
    soc0: float,
    charge: FloatArray,
    discharge: FloatArray,
    eta_c: float,
    eta_d: float,
    dt_h: float,
) -> FloatArray:
    return np.asarray(soc0 + np.cumsum(charge * eta_c * dt_h - discharge * dt_h / eta_d))


__all__ = ["OptimumError", "Schedule", "solve_schedule"]
