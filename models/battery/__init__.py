"""Battery policies served from ONNX, and the gymnasium environment they are trained in."""
