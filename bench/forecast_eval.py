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

Run: ``.venv/bin/python bench/forecast_eval.py [--tasks dayahead,intraday]``
(a few minutes on two cores; intraday adds several more). Skips cleanly when
``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from models.features import PipelineConfig
from models.forecast import OnnxForecaster
from models.forecast_eval import EvalReport, evaluate_model, table_rows
from models.price_grid import grid_from_frame
from models.registry import Registry
from models.training import TrainConfig, save_trained, train_forecast

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "prices_real_train.parquet"
CONTINENTAL = ("DE", "FR", "NL", "BE", "AT")
ALL_SIX = (*CONTINENTAL, "GB")
TRAIN = (date(2020, 1, 1), date(2021, 12, 31))
TEST = (date(2022, 1, 1), date(2022, 12, 31))
RMAE_TARGET = 0.65
COVER_TARGET = (75.0, 85.0)


def run(
    frame: pd.DataFrame, registry: Registry, task: str, markets: tuple[str, ...]
) -> tuple[EvalReport, float]:
    config = TrainConfig(
        pipeline=PipelineConfig(task=task, markets=markets),
        first_day=TRAIN[0],
        last_day=TRAIN[1],
    )
    started = time.perf_counter()
    trained = train_forecast(frame, config, data_hash="prices_real_train.parquet")
    seconds = time.perf_counter() - started
    meta = save_trained(registry, trained, model_id=f"bench-{task}-{len(markets)}")
    forecaster = OnnxForecaster.load(registry, meta.model_id)  # onnxruntime from here on
    grid = grid_from_frame(frame, markets, 60)
    return evaluate_model(forecaster, grid, *TEST), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tasks", default="dayahead", help="dayahead,intraday")
    parser.add_argument("--no-gb", action="store_true", help="skip the GB model")
    args = parser.parse_args()
    console = Console()
    if not args.data.exists():
        console.print(f"skipped: {args.data} is not here (a clone without ../shared)")
        return 0
    frame = pd.read_parquet(args.data)
    frame["market"] = frame["market"].astype(str)
    table = Table(
        title="Forecasts trained on 2020–2021, scored on 2022 (EUR/MWh; ONNX via onnxruntime)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for header in ("task", "market", "h", "n", "MAE", "RMSE", "sMAPE %", "rMAE"):
        table.add_column(header, justify="left" if header in ("task", "market") else "right")
    for header in ("naive MAE", "80 % band cover %", "target"):
        table.add_column(header, justify="right")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        registry = Registry(Path(tmp), shipped=None)
        for task in [t.strip() for t in args.tasks.split(",") if t.strip()]:
            plans: list[tuple[tuple[str, ...], tuple[str, ...]]] = [(CONTINENTAL, CONTINENTAL)]
            if not args.no_gb:
                plans.append((ALL_SIX, ("GB",)))
            for markets, shown in plans:
                with console.status(f"training {task} on {','.join(markets)} 2020–2021 …"):
                    report, seconds = run(frame, registry, task, markets)
                console.print(f"{task} {','.join(markets)}: trained in {seconds:.0f} s")
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
