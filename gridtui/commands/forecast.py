"""``gridtui train forecast`` and ``gridtui eval forecast``: price forecast models.

``train forecast`` builds the features of a price file (or of the mock
simulator) with the one feature pipeline the live component runs, trains
XGBoost boosters for the median and the band (``models/training``), exports
each to ONNX, and registers the model in the user's registry (``--promote`` to
make the runtime load it), with a progress bar and the evaluation table of its
held-out test split at the end. ``eval forecast`` scores a registered model —
through onnxruntime only, as it runs live — on any other price file, prints the
same table (``--json`` for scripts), and lists, compares and promotes models.

The shipped defaults (``models/artifacts``) are reproduced with::

    gridtui train forecast --task dayahead --data mock --model-id forecast-dayahead-mock \\
        --registry models/artifacts --promote
    gridtui train forecast --task intraday --data mock --model-id forecast-intraday-mock \\
        --registry models/artifacts --promote

(``--data mock``: 730 days of the simulator from 2024-01-01, seed 7, six markets,
with fundamentals; delete the old directory first.)
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gridtui.commands.common import add_common
from gridtui.commands.forecast_data import MOCK, MOCK_DAYS, MOCK_SEED, load_frame, mock_frame
from gridtui.commands.forecast_output import (
    print_comparison,
    print_json,
    print_models,
    print_report,
    print_trained,
    train_progress,
)
from gridtui.days import day_arg
from gridtui.settings.loader import Settings

if TYPE_CHECKING:
    import pandas as pd

    from models.registry import Registry

TRAIN_HELP = """\
Train a price forecast: XGBoost (hist) on normalised prices, a median and a
10–90 % band per horizon, early stopping on a time-ordered validation split,
scored on the last 15 % of the range, refit on all of it, exported to ONNX and
registered.

tasks:
  dayahead   at 10:00 Europe/Brussels on D−1, every hour (or quarter) of D
  intraday   after each closed step, 1, 5, 15 and 60 steps ahead

examples:
  gridtui train forecast --task dayahead --data prices.parquet --markets DE,FR,NL,BE,AT \\
      --from 2020-01-01 --to 2022-01-01 --promote
  gridtui train forecast --task intraday --data mock        # the simulator, with fundamentals
"""

EVAL_HELP = """\
Score a registered forecast model on a price file, through onnxruntime as it
runs live: MAE, RMSE, sMAPE, rMAE against the weekly naive forecast (the same
step a week earlier) and how often the band held the price. Also lists,
compares and promotes models.

examples:
  gridtui eval forecast --model forecast-dayahead-v1-20260101-120000 \\
      --data prices.parquet --from 2022-01-01 --to 2023-01-01
  gridtui eval forecast --model promoted --task dayahead --data prices.parquet --json
  gridtui eval forecast --list
  gridtui eval forecast --compare ID1,ID2
  gridtui eval forecast --promote ID
"""


# -- arguments -------------------------------------------------------------------------------


def _add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="start", type=day_arg, metavar="DAY", help="first delivery day (local)"
    )
    parser.add_argument(
        "--to", dest="end", type=day_arg, metavar="DAY", help="day after the last one (exclusive)"
    )
    parser.add_argument(
        "--registry", metavar="DIR", help="model registry root (default: DATA_DIR/models)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    add_common(parser)


def register_train(targets: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = targets.add_parser(
        "forecast",
        help="XGBoost price forecasts (intraday horizons or the day-ahead auction) → ONNX",
        description=TRAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default=MOCK,
        metavar="FILE",
        help="price file (parquet/CSV, long or wide), or `mock` for the simulator (default)",
    )
    parser.add_argument("--task", choices=["dayahead", "intraday"], default="dayahead")
    parser.add_argument(
        "--horizons", default="1,5,15,60", metavar="LIST", help="intraday: steps ahead"
    )
    parser.add_argument(
        "--decision-time", default="10:00", metavar="HH:MM", help="day-ahead: local time on D−1"
    )
    parser.add_argument("--timezone", default="Europe/Brussels", help="local time of the days")
    parser.add_argument(
        "--fundamentals",
        default="auto",
        metavar="LIST",
        help="auto (those in the data), none, or a list of load_mw,wind_mw,solar_mw",
    )
    parser.add_argument("--quantiles", default="0.1,0.9", metavar="LO,HI", help="band quantiles")
    parser.add_argument("--n-estimators", type=int, default=500, help="most rounds per booster")
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--max-depth", type=int, default=6)
    parser.add_argument(
        "--no-refit", action="store_true", help="keep the early-stopped model, no final refit"
    )
    parser.add_argument("--seed", type=int, default=0, help="xgboost seed")
    parser.add_argument("--threads", type=int, default=0, help="xgboost threads (0: all cores)")
    parser.add_argument("--mock-days", type=int, default=MOCK_DAYS, help="--data mock: days")
    parser.add_argument("--mock-seed", type=int, default=MOCK_SEED, help="--data mock: seed")
    parser.add_argument("--model-id", help="registry id (default: forecast-TASK-vN-TIMESTAMP)")
    parser.add_argument(
        "--promote", action="store_true", help="make it the model the runtime loads"
    )
    _add_range(parser)
    parser.set_defaults(handler=run_train)


def register_eval(targets: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = targets.add_parser(
        "forecast",
        help="score a forecast model on any price file; list, compare, promote models",
        description=EVAL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", metavar="ID", help="model id, or `promoted` (see --task)")
    parser.add_argument(
        "--task", choices=["dayahead", "intraday"], default="dayahead", help="with --model promoted"
    )
    parser.add_argument("--data", metavar="FILE", help="price file (parquet/CSV, long or wide)")
    parser.add_argument("--list", action="store_true", help="list the registered forecast models")
    parser.add_argument("--compare", metavar="IDS", help="comma list of model ids: their metrics")
    parser.add_argument("--promote", metavar="ID", help="make ID the model the runtime loads")
    _add_range(parser)
    parser.set_defaults(handler=run_eval)


def _registry(args: argparse.Namespace, settings: Settings) -> Registry:
    from models.registry import Registry

    root = Path(args.registry) if args.registry else Path(settings.data_dir) / "models"
    return Registry(root)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _fail(message: str) -> int:
    print(f"gridtui: {message}", file=sys.stderr)
    return 2


# -- data ------------------------------------------------------------------------------------


def _data(
    args: argparse.Namespace, markets: list[str] | None, *, allow_mock: bool
) -> tuple[pd.DataFrame, str]:
    if args.data == MOCK and allow_mock:
        return mock_frame(markets, args.mock_days, args.mock_seed)
    return load_frame(args.data, markets)


# -- train -----------------------------------------------------------------------------------


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from models.training import TrainConfig, TrainingError, save_trained, train_forecast
    except ImportError as exc:
        return _fail(
            f"training needs the `train` extra ({exc.name} is missing): "
            "pip install 'gridtui[train]'"
        )
    from engine.ports import FeedError
    from models.features.pipeline import FUNDAMENTAL_COLUMNS, PipelineConfig
    from models.features.price_grid import FeatureError, infer_step_minutes
    from models.registry import RegistryError

    requested = _split(args.markets) if args.markets else None
    try:
        frame, data_hash = _data(args, requested, allow_mock=True)
    except FeedError as exc:
        return _fail(str(exc))
    present = sorted(set(frame["market"].astype(str)))
    markets = [m for m in (requested or settings.markets) if m in present]
    if not markets:
        return _fail(f"none of the markets {requested or list(settings.markets)} is in the data")
    if args.fundamentals == "auto":
        fundamentals = [
            c for c in FUNDAMENTAL_COLUMNS if c in frame.columns and frame[c].notna().any()
        ]
    elif args.fundamentals == "none":
        fundamentals = []
    else:
        fundamentals = _split(args.fundamentals)
    try:
        quantiles = tuple(float(q) for q in _split(args.quantiles))
        pipeline = PipelineConfig(
            task=args.task,
            markets=tuple(markets),
            step_minutes=infer_step_minutes(frame),
            fundamentals=tuple(fundamentals),
            horizons=tuple(int(h) for h in _split(args.horizons)),
            decision_time=args.decision_time,
            timezone=args.timezone,
        )
        if len(quantiles) != 2:
            raise TrainingError("--quantiles takes two values, e.g. 0.1,0.9")
        config = TrainConfig(
            pipeline=pipeline,
            first_day=args.start,
            last_day=args.end - timedelta(days=1) if args.end else None,
            quantiles=(quantiles[0], quantiles[1]),
            n_estimators=args.n_estimators,
            learning_rate=args.learning_rate,
            max_depth=args.max_depth,
            refit=not args.no_refit,
            seed=args.seed,
            n_threads=args.threads,
        )
    except (FeatureError, TrainingError, ValueError) as exc:
        return _fail(str(exc))

    what = f"{args.task} on {','.join(markets)}"
    with train_progress(disable=args.json) as bar:
        task_id = bar.add_task(what, total=None)

        def progress(done: int, total: int, stage: str) -> None:
            bar.update(task_id, completed=done, total=total, description=stage or what)

        try:
            trained = train_forecast(frame, config, data_hash=data_hash, progress=progress)
            saved = save_trained(
                _registry(args, settings), trained, model_id=args.model_id, promote=args.promote
            )
        except (TrainingError, FeatureError, RegistryError) as exc:
            return _fail(str(exc))
    if args.json:
        print_json({"model": saved, "test": trained.report})
        return 0
    print_trained(trained, saved, promoted=args.promote)
    return 0


# -- eval ------------------------------------------------------------------------------------


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    from models.registry import RegistryError

    registry = _registry(args, settings)
    try:
        if args.promote:
            meta = registry.promote(args.promote)
            print(f"promoted {meta.model_id} for {meta.kind}/{meta.task}")
            return 0
        if args.list:
            return _list(registry, args.json)
        if args.compare:
            return _compare(registry, _split(args.compare), args.json)
        return _evaluate(args, registry)
    except RegistryError as exc:
        return _fail(str(exc))


def _list(registry: Registry, as_json: bool) -> int:
    from models.forecast.meta import KIND, describe

    rows = [describe(meta) for meta in registry.models(KIND)]
    promoted = {
        task: (meta.model_id if (meta := registry.promoted(KIND, task)) else None)
        for task in ("dayahead", "intraday")
    }
    if as_json:
        print_json({"models": rows, "promoted": promoted})
        return 0
    print_models(rows, promoted)
    return 0


def _compare(registry: Registry, model_ids: list[str], as_json: bool) -> int:
    rows = registry.compare(model_ids)
    if as_json:
        print_json(rows)
        return 0
    print_comparison(rows)
    return 0


def _evaluate(args: argparse.Namespace, registry: Registry) -> int:
    from engine.ports import FeedError
    from models.features.price_grid import FeatureError, grid_from_frame
    from models.forecast.evaluation import evaluate_model
    from models.forecast.onnx_forecaster import OnnxForecaster

    if not args.model or not args.data:
        return _fail("eval forecast needs --model ID (or `promoted`) and --data FILE")
    if args.model == "promoted":
        forecaster = OnnxForecaster.promoted(registry, args.task)
        if forecaster is None:
            return _fail(f"no {args.task} forecast model is promoted; see --list")
    else:
        forecaster = OnnxForecaster.load(registry, args.model)
    config = forecaster.config
    try:
        frame, _ = load_frame(args.data, list(config.markets))
        lacking = [c for c in config.fundamentals if c not in frame.columns]
        if lacking:
            return _fail(
                f"{forecaster.model_id} reads fundamentals ({', '.join(lacking)}) that "
                f"{args.data} does not have; score a model trained without them "
                "(`gridtui train forecast --fundamentals none …`)"
            )
        grid = grid_from_frame(frame, config.markets, config.step_minutes, config.fundamentals)
    except (FeedError, FeatureError) as exc:
        return _fail(str(exc))
    last = args.end - timedelta(days=1) if args.end else None
    report = evaluate_model(forecaster, grid, args.start, last)
    if not report.scores:
        return _fail("no day in the range had both prices and their history; check --from/--to")
    if args.json:
        print_json(report)
        return 0
    print_report(
        report,
        f"{forecaster.model_id} on {Path(args.data).name}, "
        f"{report.first_day} … {report.last_day} (band {report.band})",
    )
    return 0
