"""LP bench: the perfect-foresight optimum on a year of hours and a year of quarter-hours.

For each case it prints the solve time of :func:`engine.battery.optimum.solve_schedule`
(exact: LP, then a MILP on the few steps where the relaxation would burn energy
at deeply negative prices), the same with ``exclusivity="penalty"``, and as the
baseline measured in the same run, HiGHS on the plain LP relaxation alone
(``scipy.optimize.linprog`` on the same matrix, no exclusivity). Also one MPC
solve (published window + 24 h), which the MPC repeats about once a day.

Cases: DE 2022 (no negative-price trouble), NL 2022 (the year that needs the
MILP), and a year of quarter-hours from the mock simulator (the 15-minute day-ahead
MTU since 2025-10-01). Real years are skipped when ``../shared/data`` is absent.

Run: ``.venv/bin/python bench/lp_solve.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.battery.optimum import solve_schedule  # noqa: E402
from engine.battery.physics import BatterySpec  # noqa: E402 — needs the path above
from feeds.mock.model import MarketModel  # noqa: E402
from models.battery.env import series_from_frame  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def relaxation_only(spec: BatterySpec, prices: np.ndarray, dt_h: float) -> None:
    """The baseline: the same LP through scipy's HiGHS, nothing else."""
    import scipy.sparse as sp
    from scipy.optimize import linprog

    n = len(prices)
    eta = spec.charge_efficiency
    wear = spec.degradation_eur_mwh * dt_h
    cost = np.concatenate([prices * dt_h + wear, -prices * dt_h + wear, np.zeros(n)])
    steps = np.arange(n)
    rows = np.concatenate([steps, steps, steps, steps[1:]])
    cols = np.concatenate([steps, n + steps, 2 * n + steps, 2 * n + steps[:-1]])
    vals = np.concatenate(
        [np.full(n, -eta * dt_h), np.full(n, dt_h / eta), np.ones(n), -np.ones(n - 1)]
    )
    matrix = sp.csr_array((vals, (rows, cols)), shape=(n, 3 * n))
    rhs = np.zeros(n)
    rhs[0] = spec.initial_soc_mwh
    bounds = np.column_stack(
        [
            np.concatenate([np.zeros(2 * n), np.full(n, spec.soc_min_mwh)]),
            np.concatenate([np.full(2 * n, spec.power_mw), np.full(n, spec.soc_max_mwh)]),
        ]
    )
    linprog(cost, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")


def exactly(spec: BatterySpec, prices: np.ndarray, dt_h: float) -> None:
    solve_schedule(spec, prices, dt_h)


def penalised(spec: BatterySpec, prices: np.ndarray, dt_h: float) -> None:
    solve_schedule(spec, prices, dt_h, exclusivity="penalty")


def cases() -> list[tuple[str, np.ndarray, float]]:
    found: list[tuple[str, np.ndarray, float]] = []
    if REAL_PRICES.exists():
        frame = pd.read_parquet(REAL_PRICES)
        for series in series_from_frame(frame, ["DE", "NL"], start="2022-01-01", end="2023-01-01"):
            found.append((f"{series.market} 2022, hourly (real)", series.prices, 1.0))
    else:
        print(f"(no {REAL_PRICES}: real years skipped)")
    model = MarketModel(["DE"], seed=7, start=datetime(2026, 1, 1, tzinfo=UTC), step_minutes=60)
    found.append(("DE 1 year, hourly (simulator)", model.next_days(365).price_eur_mwh[:, 0], 1.0))
    model = MarketModel(["DE"], seed=7, start=datetime(2026, 1, 1, tzinfo=UTC), step_minutes=15)
    found.append(("DE 1 year, 15-min (simulator)", model.next_days(365).price_eur_mwh[:, 0], 0.25))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    spec = BatterySpec()
    table = Table(title="Perfect-foresight LP, 1 MW / 2 MWh, HiGHS (median of runs)")
    for name in (
        "case",
        "steps",
        "binaries",
        "exact s",
        "penalty s",
        "relaxation s (baseline)",
        "exact € / penalty €",
    ):
        table.add_column(name, justify="left" if name == "case" else "right")
    for name, prices, dt_h in cases():
        exact = solve_schedule(spec, prices, dt_h)
        penalty = solve_schedule(spec, prices, dt_h, exclusivity="penalty")
        seconds = [
            timed(partial(solver, spec, prices, dt_h), args.repeat)
            for solver in (exactly, penalised, relaxation_only)
        ]
        table.add_row(
            name,
            f"{len(prices):,}",
            str(exact.binaries),
            *(f"{s:.3f}" for s in seconds),
            f"{exact.net_revenue_eur:,.0f} / {penalty.net_revenue_eur:,.0f}",
        )
    console = Console()
    console.print(table)
    window = cases()[0][1][:59]
    mpc_s = timed(partial(exactly, spec, window, 1.0), 50)
    console.print(f"one MPC solve (35 published hours + 24 h forecast): {mpc_s * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
