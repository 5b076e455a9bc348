"""Training the price forecasts with XGBoost: splits, early stopping, quantiles, refit, export.

What :func:`train_forecast` does, for either task:

1. Puts the price frame on the step grid and computes the features of every
   decision point in the range (the very pipeline the live component runs).
2. Splits the decision points in time order: the first 70 % train, the next
   15 % validate (early stopping, band calibration), the last 15 % test.
   Training rows whose target lies in the validation period are dropped, and
   likewise at the test boundary, so no target leaks across a split.
3. Per horizon trains three ``hist`` boosters on the normalised target
   (see :mod:`models.features.pipeline`): the median (absolute error: the MAE-optimal
   point forecast) and the lower and upper quantiles (``reg:quantileerror``).
4. Calibrates the band on the validation split (conformalised quantile
   regression, Romano et al. 2019): the offset that makes the validation band
   cover its nominal share is stored and applied at inference.
5. Scores the test split (MAE, RMSE, sMAPE, rMAE, coverage) — those are the
   metrics recorded with the model.
6. Refits every booster on the whole range with the early-stopped number of
   rounds (grown with the square root of the extra data), so the model knows
   the most recent prices, which matter most when the market shifts; then
   exports each to ONNX, checked against xgboost within 1e-4.

The config lives in :mod:`models.training.xgb_config`, the rows and split
boundaries of step 2 in :mod:`models.training.xgb_split`, the calibration of
step 4 in :mod:`models.training.xgb_band`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pandas as pd
import xgboost as xgb

from models.features.pick import make_pipeline
from models.features.pipeline import DAYAHEAD, PIPELINE_VERSION, FeatureBlock
from models.features.price_grid import FloatArray, grid_from_frame
from models.forecast.band import AdaptiveBand
from models.forecast.evaluation import (
    EvalReport,
    RawPredict,
    adaptive_band,
    grid_days,
    metrics_of,
    score_band,
)
from models.forecast.meta import (
    KIND,
    LOWER,
    POINT,
    UPPER,
    model_horizons,
    role_name,
)
from models.registry import ModelMeta, Registry
from models.training.export import export_checked
from models.training.xgb_band import _conformal_offset
from models.training.xgb_config import TrainConfig, TrainingError
from models.training.xgb_split import _boundaries, _rows

ProgressFn = Callable[[int, int, str], None]
_SAMPLE_ROWS: Final = 512


@dataclass
class TrainedForecast:
    """A trained model, ready for :func:`save_trained`.

    ``meta`` has no id or version yet (the registry assigns them); ``onnx`` maps
    a registry role to the ONNX bytes; ``boosters`` are the same models in
    xgboost (tests compare them); ``report`` scores the test split.
    """

    meta: ModelMeta
    onnx: dict[str, bytes]
    boosters: dict[str, xgb.Booster]
    report: EvalReport
    importance: list[tuple[str, float]]
    sample: dict[str, np.ndarray] = field(default_factory=dict)


class _Progress(xgb.callback.TrainingCallback):
    """Reports each boosting round to the progress function."""

    def __init__(self, tick: Callable[[int, str], None], what: str) -> None:
        super().__init__()
        self.tick = tick
        self.what = what

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self.tick(1, self.what)
        return False


def train_forecast(
    frame: pd.DataFrame,
    config: TrainConfig,
    *,
    data_hash: str = "",
    progress: ProgressFn | None = None,
) -> TrainedForecast:
    """Train, score and export one forecast model (see the module docstring).

    Args:
        frame: long prices (``timestamp``, ``market``, ``price_eur_mwh``, and the
            fundamentals columns the pipeline names).
        config: what to train.
        data_hash: fingerprint of the data, recorded in the metadata.
        progress: called as ``progress(done, total, what)`` while training.

    Raises:
        TrainingError: nothing to train on in the range, or too little to split.
    """
    pipeline = make_pipeline(config.pipeline)
    pcfg = config.pipeline
    grid = grid_from_frame(frame, pcfg.markets, pcfg.step_minutes, pcfg.fundamentals)
    first_grid, last_grid = grid_days(grid, pipeline)
    first = max(config.first_day or first_grid, first_grid)
    last = min(config.last_day or last_grid, last_grid)
    if last < first:
        raise TrainingError(f"no data between {config.first_day} and {config.last_day}")
    horizons = model_horizons(pcfg)
    stages = 2 if config.refit else 1
    total = len(horizons) * 3 * config.n_estimators * stages + len(horizons)
    done = 0

    def tick(steps: int, what: str = "") -> None:
        nonlocal done
        done = min(done + steps, total)
        if progress is not None:
            progress(done, total, what)

    boosters: dict[str, xgb.Booster] = {}
    onnx: dict[str, bytes] = {}
    offsets: dict[str, float] = {}
    best_rounds: dict[str, int] = {}
    gains: dict[str, float] = {}
    scores = []
    sample: dict[str, np.ndarray] = {}
    nominal = config.quantiles[1] - config.quantiles[0]
    adapt_rate = config.band_adapt_rate * pcfg.step_minutes / 60  # per outcome
    for horizon in horizons:
        label = "day-ahead" if horizon is None else f"horizon {horizon}"
        rows = _rows(pipeline, grid, first, last, horizon)
        tick(1, f"features {label}")
        origins = rows.block.origin_step
        val_start, test_start = _boundaries(origins, config.val_fraction, config.test_fraction)
        targets = rows.block.target_step
        train = (origins < val_start) & (targets < val_start)
        val = (origins >= val_start) & (origins < test_start) & (targets < test_start)
        test = origins >= test_start
        if train.sum() < 50 or val.sum() < 20:
            raise TrainingError(
                f"{label}: {int(train.sum())} training and {int(val.sum())} validation rows "
                "are too few; give a longer range"
            )
        x = rows.block.x.astype(np.float32)
        d_train = xgb.DMatrix(x[train], rows.target[train], feature_names=list(pipeline.names))
        d_val = xgb.DMatrix(x[val], rows.target[val], feature_names=list(pipeline.names))
        d_all = xgb.DMatrix(x, rows.target, feature_names=list(pipeline.names))
        preds_val: dict[str, FloatArray] = {}
        preds_test: dict[str, FloatArray] = {}
        finals: dict[str, xgb.Booster] = {}
        for quantity, objective, alpha in (
            (POINT, "reg:absoluteerror", None),
            (LOWER, "reg:quantileerror", config.quantiles[0]),
            (UPPER, "reg:quantileerror", config.quantiles[1]),
        ):
            what = f"{label}: {quantity}"
            params = config.params(objective, alpha)
            booster = xgb.train(
                params,
                d_train,
                num_boost_round=config.n_estimators,
                evals=[(d_val, "validation")],
                early_stopping_rounds=config.early_stopping_rounds,
                verbose_eval=False,
                callbacks=[_Progress(tick, what)],
            )
            rounds = booster.best_iteration + 1
            tick(config.n_estimators - booster.num_boosted_rounds(), what)
            booster = booster[:rounds]
            preds_val[quantity] = np.asarray(booster.inplace_predict(x[val]), dtype=np.float64)
            preds_test[quantity] = np.asarray(booster.inplace_predict(x[test]), dtype=np.float64)
            if config.refit:
                grown = math.ceil(rounds * math.sqrt(len(x) / max(int(train.sum()), 1)))
                grown = min(grown, config.n_estimators)
                booster = xgb.train(
                    params,
                    d_all,
                    num_boost_round=grown,
                    callbacks=[_Progress(tick, f"{what} (refit)")],
                )
                tick(config.n_estimators - grown, what)
                rounds = grown
            role = role_name(quantity, horizon)
            finals[role] = booster
            best_rounds[role] = rounds
        offset = _conformal_offset(
            preds_val[POINT], preds_val[LOWER], preds_val[UPPER], rows.target[val], nominal
        )
        offsets[str(horizon)] = round(offset, 6)
        if test.any():
            test_block = rows.block.take(test)
            band = adaptive_band(
                test_block,
                preds_test,
                grid.values(test_block.target_step, test_block.market),
                AdaptiveBand(len(pcfg.markets), offset, adapt_rate, 1.0 - nominal),
                dayahead=horizon is None,
            )
            scores += score_band(band, grid, pcfg.markets, horizon)
        picks = np.linspace(0, len(x) - 1, min(_SAMPLE_ROWS, len(x))).astype(np.int64)
        sample[str(horizon)] = x[picks]
        for role, booster in finals.items():
            onnx[role] = export_checked(booster, x[picks], role)
            boosters[role] = booster
        for name, gain in (
            finals[role_name(POINT, horizon)].get_score(importance_type="total_gain").items()
        ):
            value = gain if isinstance(gain, float) else float(np.sum(gain))
            gains[name] = gains.get(name, 0.0) + value
    total_gain = sum(gains.values()) or 1.0
    importance = sorted(((n, g / total_gain) for n, g in gains.items()), key=lambda t: -t[1])
    report = EvalReport(
        model_id="",
        task=pcfg.task,
        first_day=first,
        last_day=last,
        band=f"{100 * config.quantiles[0]:.0f}–{100 * config.quantiles[1]:.0f} %",
        scores=scores,
    )
    zone = ZoneInfo(pcfg.timezone)
    meta = ModelMeta(
        model_id="pending",
        kind=KIND,
        task=pcfg.task,
        markets=pcfg.markets,
        horizon=pcfg.steps_per_day if pcfg.task == DAYAHEAD else max(pcfg.horizons),
        features=pipeline.names,
        pipeline_version=PIPELINE_VERSION,
        train_from=datetime.combine(first, time(), tzinfo=zone).astimezone(UTC),
        train_to=datetime.combine(last, time(), tzinfo=zone).astimezone(UTC),
        data_hash=data_hash,
        metrics=metrics_of(report),
        extra={
            "pipeline": msgspec.to_builtins(pcfg),
            "algorithm": "xgboost hist → ONNX (onnxmltools), onnxruntime inference",
            "target": "asinh((price − level) / scale), see models.features.pipeline",
            "quantiles": list(config.quantiles),
            "band_offset": offsets,
            "band_adapt_rate": adapt_rate,
            "band_calibration": "conformalised quantile regression on the validation split, "
            "then adaptive conformal inference on the outcomes as they come",
            "rounds": best_rounds,
            "params": {k: v for k, v in msgspec.to_builtins(config).items() if k != "pipeline"},
            # Inclusive local delivery days whose prices were training targets: what
            # `gridtui eval battery` checks an evaluated period against (no overlap).
            "train_days": [first.isoformat(), last.isoformat()],
            "metrics_on": "the last "
            f"{100 * config.test_fraction:.0f} % of the range (test split), scored before "
            + ("the final refit on the whole range" if config.refit else "saving"),
            "importance": [[name, round(share, 5)] for name, share in importance[:25]],
        },
    )
    if progress is not None:
        progress(total, total, "done")
    return TrainedForecast(
        meta=meta,
        onnx=onnx,
        boosters=boosters,
        report=report,
        importance=importance,
        sample=sample,
    )


def save_trained(
    registry: Registry,
    trained: TrainedForecast,
    *,
    model_id: str | None = None,
    promote: bool = False,
    created: datetime | None = None,
) -> ModelMeta:
    """Register a trained model (id and version assigned here); optionally promote it."""
    meta = trained.meta
    version = registry.next_version(meta.kind, meta.task)
    stamp = created or datetime.now(UTC)
    new_id = model_id or f"forecast-{meta.task}-v{version}-{stamp:%Y%m%d-%H%M%S}"
    report = msgspec.structs.replace(trained.report, model_id=new_id)
    trained.report = report
    saved = registry.save(
        msgspec.structs.replace(meta, model_id=new_id, version=version, created=stamp),
        dict(trained.onnx),
    )
    if promote:
        registry.promote(saved.model_id)
    return saved


def predict_with_boosters(boosters: dict[str, xgb.Booster]) -> RawPredict:
    """A scoring ``predict`` that runs xgboost (tests and benches compare it with ONNX)."""

    def predict(block: FeatureBlock, horizon: int | None) -> dict[str, FloatArray]:
        x = block.x.astype(np.float32)
        return {
            q: np.asarray(boosters[role_name(q, horizon)].inplace_predict(x), dtype=np.float64)
            for q in (POINT, LOWER, UPPER)
        }

    return predict


def fit_booster(
    x: np.ndarray,
    y: np.ndarray,
    *,
    rounds: int,
    max_depth: int = 6,
    objective: str = "reg:absoluteerror",
    params: dict[str, Any] | None = None,
) -> xgb.Booster:
    """A plain booster of ``rounds`` trees on ``x``/``y``, for benches and export tests:
    callers outside ``models/training`` never import xgboost themselves."""
    settings: dict[str, Any] = {
        "tree_method": "hist",
        "max_depth": max_depth,
        "objective": objective,
    }
    return xgb.train(settings | (params or {}), xgb.DMatrix(x, y), num_boost_round=rounds)
