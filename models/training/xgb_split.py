"""Time-ordered splits for the forecast training: the rows and the split boundaries.

:func:`_rows` computes the features and normalised targets of every decision
point of one horizon; :func:`_boundaries` says where validation and test begin
(see step 2 of :mod:`models.training.xgb`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from models.features.pick import Pipeline
from models.features.pipeline import FeatureBlock
from models.features.price_grid import FloatArray, IntArray, PriceGrid
from models.features.price_window import to_normalised
from models.forecast.evaluation import compute_block, decision_points
from models.training.xgb_config import TrainingError


@dataclass
class _Rows:
    block: FeatureBlock
    target: FloatArray  # normalised


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
