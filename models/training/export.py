"""XGBoost → ONNX: every booster that serves goes through here (onnxmltools).

onnxmltools maps features by position and wants the names ``f0 … fN``, so a copy
of the booster without feature names is converted; the input is a 2-D float32
tensor, which is what :class:`models.forecast.session.OnnxSession` feeds it. An exported
model is checked against xgboost on sample rows before it is accepted.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import onnxmltools
import xgboost as xgb
from onnxmltools.convert.common.data_types import FloatTensorType

from models.forecast.session import OnnxSession

# The newest main-domain opset this onnxmltools converts XGBoost to.
TARGET_OPSET: Final = 15
TOLERANCE: Final = 1e-4


class ExportError(RuntimeError):
    """An exported model does not predict what the booster predicts."""


def booster_to_onnx(booster: xgb.Booster, n_features: int, name: str = "forecast") -> bytes:
    """The serialised ONNX model of ``booster`` (all of its trees)."""
    anonymous = booster.copy()
    anonymous.feature_names = None
    anonymous.feature_types = None
    model = onnxmltools.convert_xgboost(
        anonymous,
        name=name,
        initial_types=[("features", FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
    )
    data: bytes = model.SerializeToString()
    return data


def max_difference(booster: xgb.Booster, onnx_model: bytes, x: npt.NDArray[np.float32]) -> float:
    """Largest absolute gap between xgboost and onnxruntime predictions on rows ``x``."""
    session = OnnxSession(onnx_model, x.shape[1], "exported model")
    expected = np.asarray(booster.inplace_predict(x), dtype=np.float64).reshape(-1)
    return float(np.abs(session.run(x) - expected).max(initial=0.0))


def export_checked(booster: xgb.Booster, x_sample: npt.NDArray[np.float32], name: str) -> bytes:
    """Export and verify on ``x_sample``; raises :class:`ExportError` beyond 1e-4."""
    onnx_model = booster_to_onnx(booster, x_sample.shape[1], name)
    gap = max_difference(booster, onnx_model, x_sample)
    if gap > TOLERANCE:
        raise ExportError(f"{name}: ONNX differs from xgboost by {gap:.2e} (> {TOLERANCE})")
    return onnx_model
