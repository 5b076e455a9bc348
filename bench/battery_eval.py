"""Battery bench: what a battery earns on real day-ahead prices, by what it knew.

For each continental market (DE, FR, NL, BE, AT) and a 1 MW / 2 MWh battery at
90 % round trip (5 EUR/MWh degradation), on the real prices of ``--year``
(2022 by default), in one run, every row labelled with its information
(:class:`engine.information.Information`):

- ``perfect_foresight`` — the LP optimum (EUR); every other figure is a share of it;
- ``after_publication`` — upper bounds, each hour decided knowing its day-ahead
  price (if that price could still be traded after publication): the MPC, the
  threshold rule and the RL policy;
- ``gate_closure`` — day D committed at 12:00 on D−1 (:mod:`engine.battery.commitment`)
  and settled at D's prices, on: persistence (D−1's prices), the weekly naive
  (D−7's), LEAR (:func:`models.forecast.dayahead.lear_forecasts`, recalibrated
  every day on the 728 days before D, as its paper prescribes), the project's
  XGBoost forecaster trained here on 2020 up to the year before ``--year``
  (``train_forecast`` → ``save_trained`` into a scratch registry →
  ``OnnxForecaster.load``, as ``bench/forecast_eval.py`` does) — planned on its
  band's expected price (``XGBoost``, the commitment model chosen on 2021:
  :func:`engine.battery.gate_forecast.expected_from_band`) and, beside it, on its
  median alone (``XGBoost point``) — and the RL policy rolled over the
  ``XGBoost`` forecast as if it were the prices.

Also per market: the median over days of Kendall's tau between each forecast
and the day's real prices (what orders the hours is what a battery trades on).
Targets: the XGBoost-committed battery ≥ persistence + 10 points on each market,
above the LEAR-committed one on each, and ≥ 75 % of perfect foresight on
average over the five. The RL policies scored were trained on 2020–2021 only
(shipped in ``models/artifacts``): out of sample on 2022, not on 2021.

``--tune-commitment`` prints how the committed LP values the end of the day on
2020 and 2021 (how :class:`engine.battery.commitment.DayEnd`'s default was chosen);
``--tune-rule`` the rule's grid; ``--train`` retrains the RL policies first.
``--no-lear`` skips LEAR (it costs ~1 s per market and day). Skips (exit 0)
when ``../shared/data`` is absent.

Run: ``.venv/bin/python bench/battery_eval.py [--year 2022] [--lear-jobs 2] [--json]``
(about 30 minutes on two cores, most of it LEAR).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"
MARKETS = ("DE", "FR", "NL", "BE", "AT")
POLICIES = {"RL PPO": "policy-battery-ppo-2020-2021", "RL SAC": "policy-battery-sac-2020-2021"}
COMMITTED_RL = "RL PPO"  # the promoted policy, the one committed on the XGBoost forecast
MARGIN_POINTS = 10.0
MEAN_TARGET_PCT = 75.0

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from battery_tuning import train_policies, tune_commitment, tune_rule  # noqa: E402

from engine.battery.auction_calendar import AuctionCalendar  # noqa: E402 — needs the path above
from engine.battery.commitment import ControllerPlanner, LpPlanner, run_committed  # noqa: E402
from engine.battery.dispatch import run_controller  # noqa: E402
from engine.battery.gate_forecast import delivery_days, forecast_on_grid, lagged_forecast  # noqa: E402
from engine.battery.mpc import MpcController  # noqa: E402
from engine.battery.optimum import solve_schedule  # noqa: E402
from engine.battery.physics import BatterySpec  # noqa: E402
from engine.battery.policy_controller import PolicyController  # noqa: E402
from engine.battery.price_series import PriceSeries  # noqa: E402
from engine.battery.threshold import RuleController  # noqa: E402
from models.battery.env import series_from_frame  # noqa: E402
from models.battery.policy import load_policy  # noqa: E402
from models.registry import SHIPPED_ROOT, Registry, RegistryError  # noqa: E402

UPPER_BOUNDS = ("MPC", "rule", *POLICIES)
FORECASTS = ("persistence", "weekly naive", "LEAR", "XGBoost point", "XGBoost")


def xgboost_forecasts(
    frame: pd.DataFrame, year: int, registry: Registry
) -> tuple[dict[str, dict[str, pd.Series]], float]:
    """The project's day-ahead forecaster trained on 2020..year−1, forecasting ``year``.

    Returns per label (``XGBoost``: the band's expected price, what the committed
    LP plans on; ``XGBoost point``: the median alone) the forecasts per market,
    and the seconds taken.
    """
    from gridtui.commands.battery_commit import planning_forecasts
    from models.features.pipeline import PipelineConfig
    from models.forecast.dayahead import model_forecasts
    from models.forecast.meta import in_sample_reason
    from models.forecast.onnx_forecaster import OnnxForecaster
    from models.training import TrainConfig, save_trained, train_forecast

    config = TrainConfig(
        pipeline=PipelineConfig(task="dayahead", markets=MARKETS),
        first_day=date(2020, 1, 1),
        last_day=date(year - 1, 12, 31),
    )
    started = time.perf_counter()
    trained = train_forecast(frame, config, data_hash="prices_real_train.parquet")
    meta = save_trained(registry, trained, model_id=f"bench-battery-dayahead-{year}")
    forecaster = OnnxForecaster.load(registry, meta.model_id)  # onnxruntime from here on
    first, last = date(year, 1, 1), date(year, 12, 31)
    reason = in_sample_reason(forecaster.meta, first, last)
    if reason is not None:
        raise SystemExit(f"the bench's forecaster would be scored in sample: {reason}")
    found = {
        "XGBoost": planning_forecasts(forecaster, frame, MARKETS, first, last),
        "XGBoost point": model_forecasts(forecaster, frame, MARKETS, first, last),
    }
    return found, time.perf_counter() - started


def on_grid(one: PriceSeries, found: pd.Series) -> np.ndarray:
    """A ``dayahead_forecasts`` Series (UTC delivery starts) on the series' grid."""
    index = pd.DatetimeIndex(found.index).as_unit("us")
    return forecast_on_grid(one, index.asi8, found.to_numpy(dtype=float))


def median_tau(one: PriceSeries, forecast: np.ndarray) -> float:
    """Median over delivery days of Kendall's tau between the forecast and the real prices."""
    from scipy.stats import kendalltau

    taus = []
    for day in delivery_days(one):
        guess, real = forecast[day.start : day.stop], one.prices[day.start : day.stop]
        if np.isfinite(guess).all() and np.ptp(guess) > 0 and np.ptp(real) > 0:
            taus.append(float(kendalltau(guess, real).statistic))
    return float(np.median(taus)) if taus else float("nan")


def score_market(
    spec: BatterySpec,
    one: PriceSeries,
    whole: PriceSeries,
    model_forecasts: dict[str, dict[str, pd.Series]],
    policies: dict[str, Any],
    timings: dict[str, float],
) -> dict[str, Any]:
    """Every row of one market: EUR of perfect foresight, the rest as % of it, and the taus."""

    @contextmanager
    def timed(label: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        timings[label] = timings.get(label, 0.0) + time.perf_counter() - started

    with timed("perfect foresight"):
        best = solve_schedule(spec, one.prices, one.dt_h).net_revenue_eur
    row: dict[str, Any] = {"market": one.market, "perfect_foresight_eur": round(best, 2)}
    known_end = AuctionCalendar().known_end(one)
    controllers: dict[str, Any] = {"MPC": MpcController(), "rule": RuleController()}
    controllers |= {label: PolicyController(p) for label, p in policies.items()}
    for label, controller in controllers.items():
        with timed(label):
            net = run_controller(spec, one, controller, known_end=known_end).net_revenue_eur
        row[f"{label}_pct"] = round(100 * net / best, 2)
    forecasts = {
        "persistence": forecast_on_grid(one, whole.times_us(), lagged_forecast(whole, 1)),
        "weekly naive": forecast_on_grid(one, whole.times_us(), lagged_forecast(whole, 7)),
    }
    for label, per_market in model_forecasts.items():
        forecasts[label] = on_grid(one, per_market[one.market])
    for label, forecast in forecasts.items():
        with timed(f"committed {label}"):
            held = run_committed(spec, one, forecast, LpPlanner())
        row[f"committed {label}_pct"] = round(100 * held.net_revenue_eur / best, 2)
        row[f"committed {label}_idle_days"] = held.idle_days
        row[f"tau {label}"] = round(median_tau(one, forecast), 3)
    if COMMITTED_RL in policies and "XGBoost" in forecasts:
        planner = ControllerPlanner(PolicyController(policies[COMMITTED_RL]))
        with timed(f"committed {COMMITTED_RL}"):
            held = run_committed(spec, one, forecasts["XGBoost"], planner)
        row[f"committed {COMMITTED_RL}_pct"] = round(100 * held.net_revenue_eur / best, 2)
    return row


def print_tables(rows: list[dict[str, Any]], year: int, console: Console) -> None:
    committed = [f for f in FORECASTS if f"committed {f}_pct" in rows[0]]
    if f"committed {COMMITTED_RL}_pct" in rows[0]:
        committed.append(COMMITTED_RL)
    upper = [u for u in UPPER_BOUNDS if f"{u}_pct" in rows[0]]
    table = Table(
        title=f"{year} day-ahead, 1 MW / 2 MWh, 90 % round trip, 5 EUR/MWh wear: "
        "% of perfect foresight",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("market")
    table.add_column("perfect\nforesight €", justify="right")
    for label in upper:
        table.add_column(f"{label}\nafter publ.", justify="right")
    for label in committed:
        name = f"{label}\non XGBoost" if label == COMMITTED_RL else label
        table.add_column(f"{name}\ngate closure", justify="right")
    cells = [f"{u}_pct" for u in upper] + [f"committed {c}_pct" for c in committed]
    for row in rows:
        table.add_row(
            row["market"],
            f"{row['perfect_foresight_eur']:,.0f}",
            *(f"{row[c]:.1f} %" for c in cells),
        )
    table.add_section()
    table.add_row(
        "mean",
        f"{np.mean([r['perfect_foresight_eur'] for r in rows]):,.0f}",
        *(f"{np.mean([r[c] for r in rows]):.1f} %" for c in cells),
    )
    console.print(table)
    console.print(
        "after publ. = after_publication: upper bound, if the day-ahead price could still be "
        "traded after publication; gate closure = gate_closure: day D committed at 12:00 on "
        "D-1 on that forecast, settled at D's prices"
    )
    taus = Table(title="median over days of Kendall's tau, forecast vs real", box=box.SIMPLE_HEAD)
    taus.add_column("market")
    shown = [f for f in FORECASTS if f"tau {f}" in rows[0]]
    for label in shown:
        taus.add_column(label, justify="right")
    for row in rows:
        taus.add_row(row["market"], *(f"{row[f'tau {f}']:.3f}" for f in shown))
    console.print(taus)


def check_targets(rows: list[dict[str, Any]], console: Console) -> bool:
    if "committed XGBoost_pct" not in rows[0]:
        return False
    ok = True
    for row in rows:
        mine, base = row["committed XGBoost_pct"], row["committed persistence_pct"]
        holds = mine >= base + MARGIN_POINTS
        line = f"{row['market']}: XGBoost-committed {mine:.1f} % vs persistence {base:.1f} % + 10"
        if "committed LEAR_pct" in row:
            above = mine > row["committed LEAR_pct"]
            holds &= above
            line += f", vs LEAR {row['committed LEAR_pct']:.1f} % ({'above' if above else 'NOT'})"
        ok &= holds
        console.print(f"{line}: {'holds' if holds else 'MISSED'}")
    mean = float(np.mean([r["committed XGBoost_pct"] for r in rows]))
    holds = mean >= MEAN_TARGET_PCT
    ok &= holds
    console.print(
        f"XGBoost-committed mean {mean:.1f} % (target ≥ {MEAN_TARGET_PCT:.0f} %): "
        f"{'holds' if holds else 'MISSED'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2022, help="the year scored")
    parser.add_argument("--train", action="store_true", help="retrain the RL policies first")
    parser.add_argument("--tune-rule", action="store_true", help="print the rule's grid")
    parser.add_argument("--tune-commitment", action="store_true", help="the day-end grid")
    parser.add_argument("--no-lear", action="store_true", help="skip the LEAR forecasts")
    parser.add_argument("--lear-jobs", type=int, default=1, help="LEAR's joblib workers")
    parser.add_argument(
        "--lear-cache",
        type=Path,
        default=None,
        help="folder of LEAR results shared with bench/forecast_eval.py (same key: data, "
        "models/forecast/lear.py, days, markets)",
    )
    parser.add_argument("--json", action="store_true", help="JSON rows instead of tables")
    args = parser.parse_args()
    if not REAL_PRICES.exists():
        print(f"skipped: {REAL_PRICES} is not here (a fresh clone has no ../shared)")
        return
    frame = pd.read_parquet(REAL_PRICES)
    frame["market"] = frame["market"].astype(str)
    spec = BatterySpec()
    if args.tune_rule:
        tune_rule(frame, spec, MARKETS)
        return
    if args.tune_commitment:
        tune_commitment(frame, spec, MARKETS)
        return
    console = Console(width=max(Console().width, 150))  # a wide table: keep it on one line
    scratch = Path(tempfile.mkdtemp(prefix="gridtui-bench-"))
    if args.train:
        train_policies(scratch, REAL_PRICES, POLICIES)
    registry = Registry(scratch, shipped=SHIPPED_ROOT)
    policies: dict[str, Any] = {}
    for label, model_id in POLICIES.items():
        try:
            policies[label] = load_policy(registry, model_id)
        except RegistryError as exc:
            print(f"({label}: {exc})")
    model_forecasts: dict[str, dict[str, pd.Series]] = {}
    first, last = date(args.year, 1, 1), date(args.year, 12, 31)
    if not args.no_lear:
        from forecast_eval import CONTINENTAL, cached_lear  # the sibling bench's cache

        assert tuple(CONTINENTAL) == tuple(MARKETS)  # one cache key for both benches
        with console.status(f"LEAR forecasts of {args.year} …"):
            lear, seconds = cached_lear(
                frame, REAL_PRICES, (first, last), args.lear_cache, args.lear_jobs
            )
            model_forecasts["LEAR"] = lear
        console.print(
            "LEAR forecasts: " + ("from the cache" if seconds is None else f"{seconds:.0f} s")
        )
    with console.status(f"training XGBoost on 2020-01-01..{args.year - 1}-12-31 …"):
        found, seconds = xgboost_forecasts(
            frame, args.year, Registry(scratch / "forecasts", shipped=None)
        )
    model_forecasts |= found
    console.print(f"XGBoost trained and forecast: {seconds:.0f} s")
    series = series_from_frame(frame, MARKETS, start=str(first), end=f"{args.year + 1}-01-01")
    whole = {one.market: one for one in series_from_frame(frame, MARKETS)}
    timings: dict[str, float] = {}
    rows = [
        score_market(spec, one, whole[one.market], model_forecasts, policies, timings)
        for one in series
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print_tables(rows, args.year, console)
    for label in policies:
        pct = [r[f"{label}_pct"] for r in rows]
        above = all(r[f"{label}_pct"] > r["rule_pct"] for r in rows)
        console.print(
            f"{label} after publication: min {min(pct):.1f} % (target ≥ 85 %), "
            f"above the rule everywhere: {above}"
        )
    console.print(f"MPC after publication: min {min(r['MPC_pct'] for r in rows):.1f} % (≥ 90 %)")
    check_targets(rows, console)
    console.print(
        "run time per market: "
        + ", ".join(f"{k} {v / len(rows):.2f} s" for k, v in timings.items())
    )


if __name__ == "__main__":
    main()
