"""What to train for a price forecast: :class:`TrainConfig` and :class:`TrainingError`.

The xgboost parameters, the split shares and the band's quantiles that
:func:`models.training.xgb.train_forecast` runs with; the config checks itself
when it is built.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from models.features.pipeline import PipelineConfig


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
            outcomes (``models.forecast.band.AdaptiveBand``); 0 = a fixed band.
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
