"""Backtests: a run on a simulated clock, its config, the recorder, the result and its metrics."""
