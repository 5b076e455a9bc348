"""Offline training of the forecast models: xgboost and the ONNX export.

Imported only by ``gridtui train`` (and the tests and benches that train): it
needs the ``train`` extra (xgboost, onnxmltools). Inference never comes here —
it runs the exported ONNX files with onnxruntime (:mod:`models.forecast.onnx_forecaster`).
"""

from models.training.xgb import TrainedForecast, save_trained, train_forecast
from models.training.xgb_config import TrainConfig, TrainingError

__all__ = ["TrainConfig", "TrainedForecast", "TrainingError", "save_trained", "train_forecast"]
