"""Forecast serving latency: onnxruntime against xgboost's own ``inplace_predict``, same run.

A 300-tree, depth-6 ``hist`` booster is trained on the day-ahead features of
the mock simulator's prices (the real pipeline, 6 markets, fundamentals
included), exported to ONNX and served the way the engine serves it: one
onnxruntime session, one thread, float32 rows. Both predictors get the same rows.

Printed: single-row latency (p50/p99/mean over many calls, each on a different
row) and a batch of 1,000 rows, for onnxruntime and for xgboost (one thread, its
fastest setting for one row), the speed-up, and for context the whole live
path: a full day-ahead forecast (features from a live grid + three models for
six markets × 24 hours) and one intraday step (four horizons).
Targets (issue 5): onnxruntime ≥ 20× faster than xgboost on one row, p99 ≤ 100 µs.

Run: ``.venv/bin/python bench/forecast_latency.py [--calls 5000]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from engine.events import Fundamentals, PriceKind, PriceTick
from feeds.mock.model import simulate_hourly_prices
from models.features.dayahead import DayAheadPipeline
from models.features.pipeline import FUNDAMENTAL_COLUMNS, PIPELINE_VERSION, PipelineConfig
from models.features.price_grid import grid_from_frame
from models.forecast.meta import KIND
from models.forecast.onnx_forecaster import OnnxForecaster
from models.forecast.session import OnnxSession
from models.registry import ModelMeta
from models.training.export import booster_to_onnx, max_difference
from models.training.xgb import fit_booster

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


def timings_us(call: Callable[[int], object], calls: int) -> npt.NDArray[np.float64]:
    for i in range(min(200, calls)):  # warm up
        call(i)
    out = np.empty(calls)
    gc.disable()
    try:
        for i in range(calls):
            started = time.perf_counter_ns()
            call(i)
            out[i] = (time.perf_counter_ns() - started) / 1000
    finally:
        gc.enable()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000, help="single-row calls per predictor")
    parser.add_argument("--trees", type=int, default=300)
    args = parser.parse_args()
    console = Console()

    frame = simulate_hourly_prices(
        MARKETS, datetime(2024, 1, 1, tzinfo=UTC), 400, 7, with_fundamentals=True
    )
    frame["market"] = frame["market"].astype(str)
    config = PipelineConfig(task="dayahead", markets=MARKETS, fundamentals=FUNDAMENTAL_COLUMNS)
    pipeline = DayAheadPipeline(config)
    grid = grid_from_frame(frame, MARKETS, 60, FUNDAMENTAL_COLUMNS)
    days = pipeline.days_between(date(2024, 1, 20), date(2025, 1, 31))
    block = pipeline.compute(grid, days)
    x = block.x.astype(np.float32)
    y = np.sin(x[:, 0]) + x[:, len(MARKETS) + 4]  # any target: latency only depends on the trees
    with console.status(f"training a {args.trees}-tree booster on {len(x):,} rows …"):
        booster = fit_booster(x, y, rounds=args.trees)
    booster.set_param({"nthread": 1})
    onnx_model = booster_to_onnx(booster, x.shape[1])
    session = OnnxSession(onnx_model, x.shape[1], "bench")
    gap = max_difference(booster, onnx_model, x[:2000])
    rows = [x[i : i + 1].copy() for i in range(min(len(x), 4096))]

    def ort_one(i: int) -> object:
        return session.run(rows[i % len(rows)])

    def xgb_one(i: int) -> object:
        return booster.inplace_predict(rows[i % len(rows)])

    batch = x[:1000].copy()
    ort_single = timings_us(ort_one, args.calls)
    xgb_single = timings_us(xgb_one, max(args.calls // 5, 500))
    ort_batch = timings_us(lambda i: session.run(batch), 200)
    xgb_batch = timings_us(lambda i: booster.inplace_predict(batch), 200)

    # The whole live path, for context: the component's work at one decision.
    n_features = x.shape[1]
    meta = ModelMeta(
        model_id="bench",
        kind=KIND,
        task="dayahead",
        markets=MARKETS,
        features=pipeline.names,
        pipeline_version=PIPELINE_VERSION,
        extra={"pipeline": {"task": "dayahead", "markets": list(MARKETS),
                            "fundamentals": list(FUNDAMENTAL_COLUMNS)}},
    )  # fmt: skip
    forecaster = OnnxForecaster(
        meta, {"model": onnx_model, "lower": onnx_model, "upper": onnx_model}
    )
    assert n_features == len(forecaster.names)
    live = forecaster.new_grid()

    recent = frame[frame["timestamp"] >= datetime(2024, 12, 1, tzinfo=UTC)]
    columns = [recent[c].tolist() for c in ("market", "price_eur_mwh", *FUNDAMENTAL_COLUMNS)]
    times = list(pd.DatetimeIndex(recent["timestamp"]).to_pydatetime())
    for ts, market, price, load, wind, solar in zip(times, *columns, strict=True):
        live.add_price(
            PriceTick(
                ts=ts,
                market=market,
                price_eur_mwh=price,
                kind=PriceKind.DAY_AHEAD,
                delivery_minutes=60,
            )
        )
        live.add_fundamentals(
            Fundamentals(ts=ts, market=market, load_mw=load, wind_mw=wind, solar_mw=solar)
        )
    day = date(2025, 1, 2)
    now = pipeline.decision_at(day) + timedelta(minutes=1)
    full_day = timings_us(lambda i: forecaster.dayahead_forecasts(live, day, now), 100)

    def stats(values: npt.NDArray[np.float64]) -> tuple[str, str, str]:
        return (
            f"{np.percentile(values, 50):,.1f}",
            f"{np.percentile(values, 99):,.1f}",
            f"{values.mean():,.1f}",
        )

    table = Table(
        title=f"{args.trees} trees, depth 6, {n_features} features; µs per call (one thread each)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for header in ("what", "p50 µs", "p99 µs", "mean µs"):
        table.add_column(header, justify="left" if header == "what" else "right")
    table.add_row("onnxruntime, 1 row", *stats(ort_single))
    table.add_row("xgboost inplace_predict, 1 row", *stats(xgb_single))
    table.add_row("onnxruntime, 1,000 rows", *stats(ort_batch))
    table.add_row("xgboost inplace_predict, 1,000 rows", *stats(xgb_batch))
    table.add_row("full day-ahead forecast (6 × 24 h, 3 models)", *stats(full_day))
    console.print(table)
    speedup = np.percentile(xgb_single, 50) / np.percentile(ort_single, 50)
    p99 = np.percentile(ort_single, 99)
    console.print(
        f"single row: onnxruntime {speedup:.1f}× faster than xgboost (p50), p99 {p99:.1f} µs; "
        f"batch of 1,000: {np.percentile(xgb_batch, 50) / np.percentile(ort_batch, 50):.1f}×; "
        f"ONNX vs xgboost max |Δ| = {gap:.1e}"
    )
    console.print("targets: ≥ 20× faster on one row, p99 ≤ 100 µs")
    return 0 if speedup >= 20 and p99 <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
