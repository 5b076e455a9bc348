"""Battery bench: every policy as a percentage of perfect foresight on real 2022 prices.

For each continental market (DE, FR, NL, BE, AT) and a 1 MW / 2 MWh battery at
90 % round trip (5 EUR/MWh degradation), on the 2022 real day-ahead prices:
net revenue of the perfect-foresight LP, and the MPC (published prices + naive
seasonal forecast), the threshold rule and the RL policies (PPO and SAC) as a
percentage of it. The RL policies scored here were trained on 2020–2021 only
(``policy-battery-ppo-2020-2021`` and ``policy-battery-sac-2020-2021``, shipped
in ``models/artifacts``); 2022 is out of sample for all of them. Targets: RL ≥
85 % and above the rule on every market, MPC ≥ 90 %.

``--train`` retrains both RL policies on 2020–2021 first (the documented
command, ~15 min on two cores) into a scratch registry and scores those.
``--tune-rule`` prints the rule's parameter grid on 2020–2021 (how its
defaults were chosen). Skips (exit 0) when ``../shared/data`` is absent.

Run: ``.venv/bin/python bench/battery_eval.py [--year 2022] [--train] [--json]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"
MARKETS = ("DE", "FR", "NL", "BE", "AT")
POLICIES = {"RL PPO": "policy-battery-ppo-2020-2021", "RL SAC": "policy-battery-sac-2020-2021"}

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.auction_rule import AuctionRule  # noqa: E402 — needs the path above
from engine.battery import BatterySpec  # noqa: E402
from engine.controller import PolicyController  # noqa: E402
from engine.dispatch import run_controller  # noqa: E402
from engine.mpc import MpcController  # noqa: E402
from engine.optimum import solve_schedule  # noqa: E402
from engine.rule import RuleController  # noqa: E402
from models.battery_env import series_from_frame  # noqa: E402
from models.policy import load_policy  # noqa: E402
from models.registry import SHIPPED_ROOT, Registry, RegistryError  # noqa: E402


def train(registry_root: Path) -> None:
    """The documented training command, once per algorithm, on 2020–2021."""
    from gridtui.cli import main as gridtui

    for label, model_id in POLICIES.items():
        algo = "ppo" if "PPO" in label else "sac"
        timesteps = "200000" if algo == "ppo" else "60000"
        status = gridtui(
            ["train", "battery", "--data", str(REAL_PRICES), "--from", "2020-01-01",
             "--to", "2022-01-01", "--algo", algo, "--timesteps", timesteps,
             "--model-id", model_id, "--registry", str(registry_root)]
        )  # fmt: skip
        if status:
            raise SystemExit(f"training {model_id} failed ({status})")


def tune_rule(frame: pd.DataFrame, spec: BatterySpec) -> None:
    series = series_from_frame(frame, MARKETS, start="2020-01-01", end="2022-01-01")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2022, help="the year scored")
    parser.add_argument("--train", action="store_true", help="retrain the RL policies first")
    parser.add_argument("--tune-rule", action="store_true", help="print the rule's grid")
    parser.add_argument("--json", action="store_true", help="JSON rows instead of a table")
    args = parser.parse_args()
    if not REAL_PRICES.exists():
        print(f"skipped: {REAL_PRICES} is not here (a fresh clone has no ../shared)")
        return
    frame = pd.read_parquet(REAL_PRICES)
    spec = BatterySpec()
    if args.tune_rule:
        tune_rule(frame, spec)
        return
    scratch = Path(tempfile.mkdtemp(prefix="gridtui-bench-"))
    if args.train:
        train(scratch)
    registry = Registry(scratch, shipped=SHIPPED_ROOT)
    policies: dict[str, Any] = {}
    for label, model_id in POLICIES.items():
        try:
            policies[label] = load_policy(registry, model_id)
        except RegistryError as exc:
            print(f"({label}: {exc})")
    rule = AuctionRule()
    series = series_from_frame(
        frame, MARKETS, start=f"{args.year}-01-01", end=f"{args.year + 1}-01-01"
    )
    rows: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    for one in series:
        known_end = rule.known_end(one)
        started = time.perf_counter()
        best = solve_schedule(spec, one.prices, one.dt_h).net_revenue_eur
        timings["perfect foresight"] = (
            timings.get("perfect foresight", 0) + time.perf_counter() - started
        )
        row: dict[str, Any] = {"market": one.market, "perfect_foresight_eur": round(best, 2)}
        controllers: dict[str, Any] = {"MPC": MpcController(), "rule": RuleController()}
        controllers |= {label: PolicyController(p) for label, p in policies.items()}
        for label, controller in controllers.items():
            started = time.perf_counter()
            net = run_controller(spec, one, controller, known_end=known_end).net_revenue_eur
            timings[label] = timings.get(label, 0) + time.perf_counter() - started
            row[f"{label}_eur"] = round(net, 2)
            row[f"{label}_pct"] = round(100 * net / best, 2)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    labels = ["MPC", "rule", *policies]
    table = Table(
        title=f"{args.year} day-ahead, 1 MW / 2 MWh, 90 % round trip, 5 EUR/MWh wear: "
        "% of perfect foresight"
    )
    table.add_column("market")
    table.add_column("perfect foresight €", justify="right")
    for label in labels:
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(
            row["market"],
            f"{row['perfect_foresight_eur']:,.0f}",
            *(f"{row[f'{label}_pct']:.1f} %" for label in labels),
        )
    table.add_section()
    table.add_row(
        "mean",
        f"{np.mean([r['perfect_foresight_eur'] for r in rows]):,.0f}",
        *(f"{np.mean([r[f'{label}_pct'] for r in rows]):.1f} %" for label in labels),
    )
    console = Console()
    console.print(table)
    for label in policies:
        pct = [r[f"{label}_pct"] for r in rows]
        above = all(r[f"{label}_pct"] > r["rule_pct"] for r in rows)
        console.print(
            f"{label}: min {min(pct):.1f} % (target ≥ 85 %), above the rule everywhere: {above}"
        )
    console.print(f"MPC: min {min(r['MPC_pct'] for r in rows):.1f} % (target ≥ 90 %)")
    console.print(
        "run time per year and market: "
        + ", ".join(f"{k} {v / len(rows):.2f} s" for k, v in timings.items())
    )


if __name__ == "__main__":
    main()
