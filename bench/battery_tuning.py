"""How the battery bench's settings were chosen, on 2020–2021 only (never on 2022).

- :func:`tune_commitment` — how the committed LP values the energy left at the
  end of delivery day D (:class:`engine.battery.commitment.DayEnd`), on the persistence
  and weekly-naive forecasts, 2020 as train and 2021 as validation;
- :func:`tune_rule` — the threshold rule's grid (its defaults);
- :func:`train_policies` — the documented RL training command on 2020–2021.

Called by ``bench/battery_eval.py`` (``--tune-commitment``, ``--tune-rule``, ``--train``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from engine.battery.commitment import DayEnd, LpPlanner, run_committed
from engine.battery.dispatch import run_controller
from engine.battery.gate_forecast import forecast_on_grid, lagged_forecast
from engine.battery.optimum import solve_schedule
from engine.battery.physics import BatterySpec
from engine.battery.threshold import RuleController
from models.battery.env import series_from_frame

DAY_ENDS = (
    DayEnd("free"),
    DayEnd("hold"),
    DayEnd("repeat", repeat_days=1),
    DayEnd("repeat", repeat_days=2),
    *(DayEnd("value", value_share=share) for share in (0.3, 0.5, 0.7, 0.8, 0.9, 1.0)),
)


def _label(end: DayEnd) -> str:
    if end.mode == "repeat":
        return f"repeat ×{end.repeat_days}"
    if end.mode == "value":
        return f"value {end.value_share:.0%} of mean"
    return end.mode


def tune_commitment(frame: pd.DataFrame, spec: BatterySpec, markets: Sequence[str]) -> None:
    """% of perfect foresight of each day-end valuation, per year and baseline forecast."""
    whole = {s.market: s for s in series_from_frame(frame, markets, end="2022-01-01")}
    for year in (2020, 2021):
        series = series_from_frame(frame, markets, start=f"{year}-01-01", end=f"{year + 1}-01-01")
        best = {s.market: solve_schedule(spec, s.prices, s.dt_h).net_revenue_eur for s in series}
        print(f"{year} ({'train' if year == 2020 else 'validation'}), mean of {', '.join(markets)}")
        for lag, name in ((1, "persistence"), (7, "weekly naive")):
            forecasts = {
                s.market: forecast_on_grid(
                    s, whole[s.market].times_us(), lagged_forecast(whole[s.market], lag)
                )
                for s in series
            }
            for end in DAY_ENDS:
                shares = [
                    100
                    * run_committed(spec, s, forecasts[s.market], LpPlanner(end)).net_revenue_eur
                    / best[s.market]
                    for s in series
                ]
                cells = " ".join(f"{share:5.1f}" for share in shares)
                print(f"  {name:12s} {_label(end):18s} {np.mean(shares):5.1f} %   ({cells})")


def tune_rule(frame: pd.DataFrame, spec: BatterySpec, markets: Sequence[str]) -> None:
    series = series_from_frame(frame, markets, start="2020-01-01", end="2022-01-01")
    best = [solve_schedule(spec, s.prices, 1.0).net_revenue_eur for s in series]
    rows = []
    for back, ahead, quantile in itertools.product(
        (3, 4, 6, 12, 24, 48), (0, 6, 12, 24), (0.05, 0.1, 0.15, 0.25, 0.35)
    ):
        rule = RuleController(back, ahead, quantile, 1 - quantile)
        shares = [
            run_controller(spec, s, rule).net_revenue_eur / b
            for s, b in zip(series, best, strict=True)
        ]
        rows.append((float(np.mean(shares)), back, ahead, quantile))
    for share, back, ahead, quantile in sorted(rows, reverse=True)[:10]:
        print(
            f"lookback {back:2d} h  lookahead {ahead:2d} h  quantile {quantile:.2f}: {share:6.1%}"
        )


def train_policies(registry_root: Path, prices: Path, policies: Mapping[str, str]) -> None:
    """The documented training command, once per algorithm, on 2020–2021."""
    from gridtui.cli import main as gridtui

    for label, model_id in policies.items():
        algo = "ppo" if "PPO" in label else "sac"
        timesteps = "200000" if algo == "ppo" else "60000"
        status = gridtui(
            ["train", "battery", "--data", str(prices), "--from", "2020-01-01",
             "--to", "2022-01-01", "--algo", algo, "--timesteps", timesteps,
             "--model-id", model_id, "--registry", str(registry_root)]
        )  # fmt: skip
        if status:
            raise SystemExit(f"training {model_id} failed ({status})")
