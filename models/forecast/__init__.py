"""Price forecasts served from ONNX.

The forecaster, its band, the live component, evaluation and the LEAR benchmark.
"""
