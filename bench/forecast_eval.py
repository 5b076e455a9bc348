"""Day-ahead (and intraday) forecasts on real prices: train 2020–2021, score 2022.

The very path a user takes: ``train_forecast`` (what ``gridtui train forecast``
runs) on the real prices in ``../shared/data`` from 2020-01-01 to 2021-12-31 —
time-ordered train/validation/test splits inside that range, early stopping and
band calibration on the validation split, no look at 2022 — then the ONNX files
are loaded through the registry and scored on every delivery day of 2022 by
``evaluate_model`` (what ``gridtui eval forecast`` runs), with onnxruntime only.

Printed per market: MAE, RMSE, sMAPE, rMAE against the weekly-seasonal naive
forecast (the price of the same hour one week earlier), the naive's own MAE, and
the share of 2022 prices inside the 10–90 % band. The continental markets share
one model; GB, which has no 2021 data, gets its own model (all six markets as
regional inputs) trained on what 2020 has. Targets (issue 5): day-ahead
rMAE ≤ 0.65 on every continental market; band coverage 75–85 %.

Beside it, the field's standard benchmark, LEAR (:mod:`models.forecast.lear`, Lago et
al. 2021), recalibrated every day on the days before D (up to 728, data from
2020-01-01 on): both day-ahead forecasters go through
:mod:`models.forecast.dayahead` (one Series per market, each day D forecast from
what is known on D−1 at 10:00) and are scored on the same points — where the
actual price, the weekly naive and both forecasts exist — by
:func:`models.forecast.evaluation.point_score`, with the median over days of Kendall's
τ between a day's forecast and actual prices (how well the hours are ranked:
what a battery's schedule lives on). Target: the project's rMAE below LEAR's on
every continental market.

``--split validate`` trains on 2020 and scores 2021 instead (LEAR calibrated on
2020 on): the split to choose settings on; 2022 stays the out-of-sample test.

Run: ``.venv/bin/python bench/forecast_eval.py [--tasks dayahead,intraday]``
(the models take a minute or a few on two cores, intraday several more; LEAR's
year of five markets took 824 s on two joblib workers, 0.45 s per market and
day, and 1,927 s while other jobs shared the two cores; ``--lear-cache DIR``
keeps its forecasts for the next run on the same data and code). Skips cleanly
when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from rich import box
from rich.console import Console
from rich.table import Table
from scipy.stats import kendalltau

import models.forecast.lear
from models.features.pipeline import PipelineConfig
from models.features.price_grid import grid_from_frame
from models.forecast.dayahead import lear_forecasts, model_forecasts
from models.forecast.evaluation import (
    ALL,
    EvalReport,
    Score,
    evaluate_model,
    point_score,
    table_rows,
)
from models.forecast.onnx_forecaster import OnnxForecaster
from models.registry import Registry
from models.training import TrainConfig, save_trained, train_forecast

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "prices_real_train.parquet"
CONTINENTAL = ("DE", "FR", "NL", "BE", "AT")
ALL_SIX = (*CONTINENTAL, "GB")
# (train, scored) delivery days: "test" is the out-of-sample year, "validate" the
# split to choose settings on.
SPLITS = {
    "test": ((date(2020, 1, 1), date(2021, 12, 31)), (date(2022, 1, 1), date(2022, 12, 31))),
    "validate": ((date(2020, 1, 1), date(2020, 12, 31)), (date(2021, 1, 1), date(2021, 12, 31))),
}
LEAR_CALIBRATION_DAYS = 728
MIN_TAU_HOURS = 12  # a day with fewer scored hours has no ranking worth a τ
RMAE_TARGET = 0.65
COVER_TARGET = (75.0, 85.0)


def run(
    frame: pd.DataFrame,
    registry: Registry,
    task: str,
    markets: tuple[str, ...],
    split: tuple[tuple[date, date], tuple[date, date]],
) -> tuple[EvalReport, float, OnnxForecaster]:
    train, test = split
    config = TrainConfig(
        pipeline=PipelineConfig(task=task, markets=markets),
        first_day=train[0],
        last_day=train[1],
    )
    started = time.perf_counter()
    trained = train_forecast(frame, config, data_hash="prices_real_train.parquet")
    seconds = time.perf_counter() - started
    meta = save_trained(registry, trained, model_id=f"bench-{task}-{len(markets)}")
    forecaster = OnnxForecaster.load(registry, meta.model_id)  # onnxruntime from here on
    grid = grid_from_frame(frame, markets, 60)
    return evaluate_model(forecaster, grid, *test), seconds, forecaster


def cached_lear(
    frame: pd.DataFrame, data: Path, days: tuple[date, date], cache: Path | None, jobs: int
) -> tuple[dict[str, pd.Series], float | None]:
    """LEAR's forecasts of ``days``, and the seconds they took (None: read from ``cache``).

    The cache file is named by a hash of the data file, ``models/forecast/lear.py`` and the
    settings, so a change to any of them computes afresh.
    """
    key = hashlib.sha256(data.read_bytes())
    key.update(Path(models.forecast.lear.__file__).read_bytes())
    key.update(f"{days}{LEAR_CALIBRATION_DAYS}{CONTINENTAL}".encode())
    path = None if cache is None else cache / f"lear-{key.hexdigest()[:16]}.parquet"
    if path is not None and path.exists():
        stored = pd.read_parquet(path)
        return {m: stored[m].astype(np.float64).rename(m) for m in CONTINENTAL}, None
    started = time.perf_counter()
    forecasts = lear_forecasts(
        frame, CONTINENTAL, *days, calibration_days=LEAR_CALIBRATION_DAYS, n_jobs=jobs
    )
    seconds = time.perf_counter() - started
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(forecasts).to_parquet(path)
    return forecasts, seconds


def median_daily_tau(forecast: pd.Series, actual: pd.Series) -> float:
    """Median over local days of Kendall's τ between a day's forecast and actual prices."""
    days = pd.DatetimeIndex(forecast.index).tz_convert("Europe/Brussels").date
    taus = []
    for _, hours in forecast.groupby(days).groups.items():
        if len(hours) >= MIN_TAU_HOURS:
            tau = kendalltau(forecast[hours], actual[hours]).statistic
            if np.isfinite(tau):
                taus.append(float(tau))
    return float(np.median(taus)) if taus else float("nan")


def compare(
    frame: pd.DataFrame, forecasts: dict[str, dict[str, pd.Series]]
) -> dict[str, dict[str, tuple[Score, float]]]:
    """Per forecaster and market (and ``all``): scores and median daily τ on common points."""
    prices = frame.pivot_table(
        index="timestamp", columns="market", values="price_eur_mwh", aggfunc="last"
    )
    out: dict[str, dict[str, tuple[Score, float]]] = {name: {} for name in forecasts}
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in forecasts}
    pooled_truth: list[np.ndarray] = []
    for market in CONTINENTAL:
        index = pd.DatetimeIndex(next(iter(forecasts.values()))[market].index)
        actual = prices[market].reindex(index)
        naive = prices[market].reindex(index - pd.Timedelta(days=7)).set_axis(index)
        keep = actual.notna() & naive.notna()
        for series in forecasts.values():
            keep &= series[market].notna()
        truth = np.stack([actual[keep].to_numpy(), naive[keep].to_numpy()])
        pooled_truth.append(truth)
        for name, series in forecasts.items():
            point = series[market][keep]
            score = point_score(market, point.to_numpy(), truth[0], truth[1])
            out[name][market] = (score, median_daily_tau(point, actual[keep]))
            pooled[name].append(point.to_numpy())
    truth = np.concatenate(pooled_truth, axis=1)
    for name in forecasts:
        score = point_score(ALL, np.concatenate(pooled[name]), truth[0], truth[1])
        taus = [out[name][m][1] for m in CONTINENTAL]
        out[name][ALL] = (score, float(np.median(taus)))
    return out


def lear_table(scores: dict[str, dict[str, tuple[Score, float]]], days: tuple[date, date]) -> Table:
    table = Table(
        title=f"Day-ahead, the project's model beside LEAR, on the same points of "
        f"{days[0]}..{days[1]} (EUR/MWh)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    headers = ("market", "model", "n", "MAE", "RMSE", "sMAPE %", "rMAE", "naive MAE", "median τ")
    for header in headers:
        table.add_column(header, justify="left" if header in ("market", "model") else "right")
    for market in (*CONTINENTAL, ALL):
        for name, per_market in scores.items():
            s, tau = per_market[market]
            table.add_row(
                market if market != ALL else "all (continental)",
                name,
                f"{s.n:,}",
                f"{s.mae_eur_mwh:.2f}",
                f"{s.rmse_eur_mwh:.2f}",
                f"{s.smape_pct:.1f}",
                f"{s.rmae:.3f}",
                f"{s.naive_mae_eur_mwh:.2f}",
                f"{tau:.3f}",
            )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tasks", default="dayahead", help="dayahead,intraday")
    parser.add_argument("--no-gb", action="store_true", help="skip the GB model")
    parser.add_argument("--split", choices=sorted(SPLITS), default="test")
    parser.add_argument("--no-lear", action="store_true", help="skip the LEAR benchmark")
    parser.add_argument("--lear-jobs", type=int, default=-1, help="joblib workers (-1: all)")
    parser.add_argument("--lear-cache", type=Path, default=None, help="folder for LEAR's results")
    args = parser.parse_args()
    # Piped to a file, rich would cut the tables to 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 130)
    if not args.data.exists():
        console.print(f"skipped: {args.data} is not here (a clone without ../shared)")
        return 0
    frame = pd.read_parquet(args.data)
    frame["market"] = frame["market"].astype(str)
    split = SPLITS[args.split]
    (train_first, train_last), scored = split
    span = f"{train_first.year}–{train_last.year}" if train_first.year != train_last.year else ""
    span = span or str(train_first.year)
    table = Table(
        title=f"Forecasts trained on {span}, scored on {scored[0].year} "
        "(EUR/MWh; ONNX via onnxruntime)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for header in ("task", "market", "h", "n", "MAE", "RMSE", "sMAPE %", "rMAE"):
        table.add_column(header, justify="left" if header in ("task", "market") else "right")
    for header in ("naive MAE", "80 % band cover %", "target"):
        table.add_column(header, justify="right")
    failed = False
    dayahead: OnnxForecaster | None = None
    with tempfile.TemporaryDirectory() as tmp:
        registry = Registry(Path(tmp), shipped=None)
        for task in [t.strip() for t in args.tasks.split(",") if t.strip()]:
            plans: list[tuple[tuple[str, ...], tuple[str, ...]]] = [(CONTINENTAL, CONTINENTAL)]
            if not args.no_gb and args.split == "test":  # GB has no 2021 to validate on
                plans.append((ALL_SIX, ("GB",)))
            for markets, shown in plans:
                with console.status(f"training {task} on {','.join(markets)} {span} …"):
                    report, seconds, forecaster = run(frame, registry, task, markets, split)
                console.print(f"{task} {','.join(markets)}: trained in {seconds:.0f} s")
                if task == "dayahead" and markets == CONTINENTAL:
                    dayahead = forecaster
                for s, cells in zip(report.scores, table_rows(report), strict=True):
                    if s.market not in shown and not (s.market == "all" and shown == CONTINENTAL):
                        continue
                    verdict = ""
                    if task == "dayahead" and s.market in CONTINENTAL:
                        ok = (
                            s.rmae <= RMAE_TARGET
                            and COVER_TARGET[0] <= s.coverage_pct <= COVER_TARGET[1]
                        )
                        failed |= not ok
                        verdict = "ok" if ok else "MISSED"
                    market = s.market if s.market != "all" else "all (continental)"
                    table.add_row(task, market, *cells[1:], verdict)
        console.print(table)
        console.print(
            f"targets: day-ahead rMAE ≤ {RMAE_TARGET} on every continental market, "
            f"band coverage {COVER_TARGET[0]:.0f}–{COVER_TARGET[1]:.0f} %"
        )
        if dayahead is not None and not args.no_lear:
            failed |= not beats_lear(console, frame, dayahead, args, scored)
    return 1 if failed else 0


def beats_lear(
    console: Console,
    frame: pd.DataFrame,
    forecaster: OnnxForecaster,
    args: argparse.Namespace,
    days: tuple[date, date],
) -> bool:
    """Score the project's day-ahead model beside LEAR; True when it wins every market."""
    with console.status(f"LEAR, recalibrated daily, {days[0]}..{days[1]} …"):
        lear, seconds = cached_lear(frame, args.data, days, args.lear_cache, args.lear_jobs)
    n_days = (days[1] - days[0]).days + 1
    if seconds is None:
        console.print(f"LEAR: {n_days} days × {len(CONTINENTAL)} markets read from the cache")
    else:
        console.print(
            f"LEAR: {n_days} days × {len(CONTINENTAL)} markets recalibrated in {seconds:.0f} s "
            f"({seconds / (n_days * len(CONTINENTAL)):.2f} s per market-day, "
            f"{effective_n_jobs(args.lear_jobs)} joblib workers)"
        )
    project = model_forecasts(forecaster, frame, CONTINENTAL, *days)
    scores = compare(frame, {"project": project, "LEAR": lear})
    console.print(lear_table(scores, days))
    wins = []
    for market in CONTINENTAL:
        ours, theirs = scores["project"][market][0].rmae, scores["LEAR"][market][0].rmae
        wins.append(ours < theirs)
        lower = "project" if ours < theirs else "LEAR"
        console.print(
            f"{market}: lower rMAE: {lower} (project {ours:.3f}, LEAR {theirs:.3f}; median τ "
            f"project {scores['project'][market][1]:.3f}, LEAR {scores['LEAR'][market][1]:.3f})"
        )
    console.print(f"project rMAE < LEAR rMAE on every continental market: {all(wins)}")
    return all(wins)


if __name__ == "__main__":
    sys.exit(main())
