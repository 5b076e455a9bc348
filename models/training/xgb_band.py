"""Band calibration for the forecast training: conformalised quantile regression.

The offset that makes the validation band cover its nominal share (Romano et al.
2019), stored with the model and applied at inference (see step 4 of
:mod:`models.training.xgb`).
"""

from __future__ import annotations

import numpy as np

from models.features.price_grid import FloatArray


def _conformal_offset(
    point: FloatArray, lower: FloatArray, upper: FloatArray, target: FloatArray, coverage: float
) -> float:
    """CQR: how far to move both band edges (normalised space) to cover ``coverage``."""
    low, high = np.minimum(lower, point), np.maximum(upper, point)
    conformity = np.maximum(low - target, target - high)
    level = min(coverage * (1 + 1 / len(target)), 1.0)
    return float(np.quantile(conformity, level))
