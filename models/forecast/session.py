"""One ONNX regressor file, run by onnxruntime on one thread: :class:`OnnxSession`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from models.features.price_grid import FloatArray
from models.forecast.meta import ForecastModelError
from models.onnx_row import BoundRow


def session_options() -> ort.SessionOptions:
    """One thread, sequential: predictable microsecond latency beside the event loop."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return options


class OnnxSession:
    """One ONNX regressor: a reused onnxruntime session, 2-D float32 in, a vector out."""

    def __init__(self, source: Path | bytes, n_features: int, label: str) -> None:
        try:
            self.session = ort.InferenceSession(
                str(source) if isinstance(source, Path) else source,
                session_options(),
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime raises its own, unexported exception types
            raise ForecastModelError(f"{label}: not a loadable ONNX model ({exc})") from exc
        inputs = self.session.get_inputs()
        width = inputs[0].shape[-1] if inputs and inputs[0].shape else None
        if len(inputs) != 1 or (isinstance(width, int) and width != n_features):
            raise ForecastModelError(
                f"{label}: the ONNX graph takes {width} features, the metadata names {n_features}"
            )
        self.input_name: str = inputs[0].name
        self.output_names: list[str] = [self.session.get_outputs()[0].name]
        self._one_row = BoundRow(self.session, n_features)  # the live case

    def run(self, x: npt.NDArray[np.float32]) -> FloatArray:
        if x.shape[0] == 1:
            return self._one_row.run(x).astype(np.float64)
        out = self.session.run(self.output_names, {self.input_name: x})[0]
        return np.asarray(out, dtype=np.float64).reshape(-1)
