"""Training the price forecasts with XGBoost: splits, early stopping, quantiles, refit, export.

What :func:`train_forecast` does, for either task:

1. Puts the price frame on the step grid and computes the features of every
   decision point in the range (the very pipeline the live component runs).
2. Splits the decision points in time order: the first 70 % train, the next
   15 % validate (early stopping, band calibration), the last 15 % test.
   Training rows whose target lies in the validation period are dropped, and
   likewise at the test boundary, so no target leaks across a split.
3. Per horizon trains three ``hist`` boosters on the normalised target
   (see :mod:`models.features`): the median (absolute error: the MAE-optimal
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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import pandas as pd
import xgboost as xgb

from models.features import DAYAHEAD, PIPELINE_VERSION, FeatureBlock, PipelineConfig
from models.forecast_band import AdaptiveBand
from models.forecast_eval import (
    EvalReport,
    RawPredict,
    adaptive_band,
    compute_block,
    decision_points,
    grid_days,
    metrics_of,
    score_band,
)
from models.forecast_meta import (
    KIND,
    LOWER,
    POINT,
    UPPER,
    model_horizons,
    role_name,
)
from models.pipeline import Pipeline, make_pipeline
from models.price_grid import FloatArray, IntArray, PriceGrid, grid_from_frame
from models.price_window import to_normalised
from models.registry import ModelMeta, Registry
from models.training.export import export_checked

ProgressFn = Callable[[int, int, str], None]
_SAMPLE_ROWS: Final = 512


class TrainingError(RuntimeError):
    """Training cannot go on (no data in range, too few rows); the message says why."""


class TrainConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How to train one forecast model.

    Attributes:
        pipeline: the feature pipeline (task, markets, step, horizons …).
        first_day / last_day: delivery days to train on, inclusive (local days
            of the pipeline's timezone); None = all the data has.
        val_fraction / test_fraction: tail shares of the decision points, in
            time order, for early stopping + calibration and for the test score.
        quantiles: lower and upper quantile of the band.
        n_estimators: most boosting rounds per booster (early stopping ends sooner).
        learning_rate, max_depth, min_child_weight, subsample, colsample_bytree:
            xgboost parameters (``tree_method="hist"`` always).
        early_stopping_rounds: rounds without improvement on validation before stopping.
        refit: refit on the whole range after scoring (see the module docstring).
        band_adapt_rate: how fast the band's offset follows misses, per hour of
            outcomes (``models.forecast_band.AdaptiveBand``); 0 = a fixed band.
        seed: xgboost's random seed.
        n_threads: xgboost threads; 0 = every core.
    """

    pipeline: PipelineConfig
    first_day: date | None = None
    last_day: date | None = None
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    quantiles: tuple[float, float] = (0.1, 0.9)
    n_estimators: int = 500
    learning_rate: float = 0.05
    max_depth: int = 6
    min_child_weight: float = 20.0
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    early_stopping_rounds: int = 50
    refit: bool = True
    band_adapt_rate: float = 0.005
    seed: int = 0
    n_threads: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.val_fraction < 1 or not 0 <= self.test_fraction < 1:
            raise TrainingError("val_fraction must be in (0, 1) and test_fraction in [0, 1)")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise TrainingError("val_fraction + test_fraction must leave ≥ 10 % to train on")
        low, high = self.quantiles
        if not 0 < low < 0.5 < high < 1:
            raise TrainingError(
                f"quantiles must be low < 0.5 < high in (0, 1), got {self.quantiles}"
            )
        if self.n_estimators < 1:
            raise TrainingError("n_estimators must be ≥ 1")

    def params(self, objective: str, alpha: float | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "tree_method": "hist",
            "objective": objective,
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "min_child_weight": self.min_child_weight,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "seed": self.seed,
        }
        if self.n_threads:
            params["nthread"] = self.n_threads
        if alpha is not None:
            params["quantile_alpha"] = alpha
        return params


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


@dataclass
class _Rows:
    block: FeatureBlock
    target: FloatArray  # normalised


class _Progress(xgb.callback.TrainingCallback):
    """Reports each boosting round to the progress function."""

    def __init__(self, tick: Callable[[int, str], None], what: str) -> None:
        super().__init__()
        self.tick = tick
        self.what = what

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self.tick(1, self.what)
        return False


def _boundaries(origins: IntArray, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Origin steps where validation and test begin (time order over distinct origins)."""
    unique = np.unique(origins)
    n = len(unique)
    val_at = round(n * (1 - val_fraction - test_fraction))
    test_at = round(n * (1 - test_fraction))
    if val_at < 1 or test_at <= val_at or (test_fraction > 0 and test_at >= n):
        raise TrainingError(f"only {n} decision points: too few to split train/validation/test")
    test_start = int(unique[test_at]) if test_at < n else int(unique[-1]) + 1
    return int(unique[val_at]), test_start


def _conformal_offset(
    point: FloatArray, lower: FloatArray, upper: FloatArray, target: FloatArray, coverage: float
) -> float:
    """CQR: how far to move both band edges (normalised space) to cover ``coverage``."""
    low, high = np.minimum(lower, point), np.maximum(upper, point)
    conformity = np.maximum(low - target, target - high)
    level = min(coverage * (1 + 1 / len(target)), 1.0)
    return float(np.quantile(conformity, level))


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
            "target": "asinh((price − level) / scale), see models.features",
            "quantiles": list(config.quantiles),
            "band_offset": offsets,
            "band_adapt_rate": adapt_rate,
            "band_calibration": "conformalised quantile regression on the validation split, "
            "then adaptive conformal inference on the outcomes as they come",
            "rounds": best_rounds,
            "params": {k: v for k, v in msgspec.to_builtins(config).items() if k != "pipeline"},
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


def _rows(
    pipeline: Pipeline, grid: PriceGrid, first: date, last: date, horizon: int | None
) -> _Rows:
    block = compute_block(pipeline, grid, decision_points(pipeline, first, last, horizon), horizon)
    actual = grid.values(block.target_step, block.market)
    known = np.isfinite(actual)
    if not known.any():
        raise TrainingError("no rows with a known target in the range; is the data empty?")
    block = block.take(known)
    return _Rows(block=block, target=to_normalised(actual[known], block.level, block.scale))


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
