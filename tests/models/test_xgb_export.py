"""Training: ONNX equals xgboost, time-ordered splits, metadata, band calibration."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

pytest.importorskip("xgboost")
pytest.importorskip("onnxmltools")

from models.features.pick import make_pipeline
from models.features.pipeline import PIPELINE_VERSION, PipelineConfig
from models.features.price_grid import grid_from_frame
from models.forecast.evaluation import compute_block, decision_points
from models.forecast.meta import LOWER, POINT, UPPER, role_name
from models.forecast.onnx_forecaster import OnnxForecaster
from models.training import TrainConfig, TrainingError, train_forecast
from models.training.export import booster_to_onnx, max_difference
from models.training.xgb import predict_with_boosters
from models.training.xgb_split import _boundaries
from tests.models.forecast_builders import saved_model, synthetic_prices, tiny_model


@pytest.mark.parametrize("task", ["dayahead", "intraday"])
def test_onnx_predictions_equal_xgboost_within_1e_4(tmp_path, task):
    trained = tiny_model(task)
    registry, model_id = saved_model(tmp_path, task)
    forecaster = OnnxForecaster.load(registry, model_id)
    pipeline = forecaster.pipeline
    grid = grid_from_frame(synthetic_prices(days=40, seed=11), pipeline.markets, 60)
    xgboost_predict = predict_with_boosters(trained.boosters)
    for horizon in forecaster.horizons:
        points = decision_points(pipeline, date(2023, 1, 20), date(2023, 2, 9), horizon)
        block = compute_block(pipeline, grid, points, horizon)
        assert len(block) > 100
        from_onnx = forecaster.predict(block.x.astype(np.float32), horizon)
        from_xgboost = xgboost_predict(block, horizon)
        for quantity in (POINT, LOWER, UPPER):
            gap = np.abs(from_onnx[quantity] - from_xgboost[quantity]).max()
            assert gap <= 1e-4, (task, horizon, quantity, gap)


def test_export_of_a_booster_with_nan_inputs_and_many_trees():
    from models.training.xgb import fit_booster

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 12)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    y = np.nan_to_num(x[:, 0]) * 2 + np.nan_to_num(x[:, 1]) + rng.normal(size=3000)
    booster = fit_booster(
        x,
        y,
        rounds=150,
        objective="reg:quantileerror",
        params={"quantile_alpha": 0.9, "nthread": 1},
    )
    booster.feature_names = [f"feat_{i}" for i in range(12)]  # onnxmltools wants f0…fN
    onnx_model = booster_to_onnx(booster, 12)
    assert max_difference(booster, onnx_model, x) <= 1e-4
    assert booster.feature_names[0] == "feat_0"  # the booster itself keeps its names


def test_metadata_records_pipeline_features_range_hash_and_metrics():
    trained = tiny_model("intraday")
    meta = trained.meta
    config = PipelineConfig(**meta.extra["pipeline"])
    assert meta.pipeline_version == PIPELINE_VERSION
    assert meta.features == make_pipeline(config).names
    assert meta.markets == ("DE", "FR", "NL") and meta.horizon == 5
    assert meta.data_hash == "sha256:test"
    assert meta.train_from is not None and meta.train_to is not None
    assert meta.train_from < meta.train_to
    for horizon in (1, 5):
        assert f"rmae_h{horizon}" in meta.metrics and f"coverage_h{horizon}" in meta.metrics
        for quantity in (POINT, LOWER, UPPER):
            assert role_name(quantity, horizon) in trained.onnx
    assert set(meta.extra["band_offset"]) == {"1", "5"}
    assert trained.importance and abs(sum(s for _, s in trained.importance) - 1) < 1e-9
    # A learnable synthetic market: the model must beat the weekly naive clearly.
    assert meta.metrics["rmae_h1"] < 0.8


def test_splits_are_in_time_order_and_leave_a_test_tail():
    origins = np.repeat(np.arange(100), 3)
    val_start, test_start = _boundaries(origins, 0.15, 0.15)
    assert (val_start, test_start) == (70, 85)
    with pytest.raises(TrainingError, match="too few"):
        _boundaries(np.arange(3), 0.15, 0.15)


def test_a_range_without_data_is_refused():
    frame = synthetic_prices(days=20)
    config = TrainConfig(
        pipeline=PipelineConfig(task="dayahead", markets=("DE",)),
        first_day=date(2030, 1, 1),
        last_day=date(2030, 2, 1),
    )
    with pytest.raises(TrainingError, match="no data"):
        train_forecast(frame, config)


def test_bands_are_ordered_and_calibrated_on_validation():
    trained = tiny_model("dayahead")
    test = trained.report.overall()
    assert test is not None
    assert 60 <= test.coverage_pct <= 97  # a tiny model on a short test split
    pipeline = make_pipeline(PipelineConfig(**trained.meta.extra["pipeline"]))
    grid = grid_from_frame(synthetic_prices(days=30, seed=5), pipeline.markets, 60)
    block = compute_block(pipeline, grid, [date(2023, 1, 25)], None)
    raw = predict_with_boosters(trained.boosters)(block, None)
    from models.forecast.band import band_to_prices

    band = band_to_prices(block, raw[POINT], raw[LOWER], raw[UPPER], -5.0)  # absurdly narrow
    assert (band.lower <= band.point).all() and (band.point <= band.upper).all()
