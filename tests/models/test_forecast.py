"""The ONNX forecaster: loading and refusing models, input validation, the port, scoring."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import msgspec
import numpy as np
import pandas as pd
import pytest

from engine.events import Forecast, PriceKind
from models.features.pipeline import PIPELINE_VERSION
from models.features.price_grid import grid_from_frame
from models.forecast.band import AdaptiveBand
from models.forecast.evaluation import adaptive_band, evaluate_model, table_rows
from models.forecast.meta import ForecastModelError
from models.forecast.onnx_forecaster import ForecastInputError, OnnxForecaster
from models.registry import SHIPPED_ROOT, ModelMeta, Registry
from tests.models.forecast_builders import as_ticks, saved_model, synthetic_prices

pytest.importorskip("xgboost")  # the tiny models are trained on the spot


@pytest.fixture(scope="module")
def dayahead(tmp_path_factory):
    registry, model_id = saved_model(tmp_path_factory.mktemp("reg"), "dayahead")
    return OnnxForecaster.load(registry, model_id)


def test_bad_input_errors_name_the_feature(dayahead):
    names = dayahead.names
    good = np.zeros((2, len(names)), dtype=np.float32)
    assert dayahead.predict(good)["model"].shape == (2,)
    with pytest.raises(ForecastInputError, match="float32"):
        dayahead.predict(good.astype(np.float64))
    with pytest.raises(ForecastInputError, match=rf"{len(names)} columns"):
        dayahead.predict(good[:, :-1])
    with pytest.raises(ForecastInputError, match="numpy array"):
        dayahead.predict(good.tolist())
    nan = good.copy()
    nan[1, names.index("own_d7")] = np.nan
    with pytest.raises(ForecastInputError, match=r"'own_d7' is NaN \(row 1\)"):
        dayahead.predict(nan)

    frame = pd.DataFrame(good, columns=list(names))
    assert dayahead.predict_frame(frame)["upper"].shape == (2,)
    with pytest.raises(ForecastInputError, match=r"missing feature.*weekday"):
        dayahead.predict_frame(frame.drop(columns=["weekday"]))
    with pytest.raises(ForecastInputError, match=r"unknown feature.*moon_phase"):
        dayahead.predict_frame(frame.assign(moon_phase=0.0))
    with pytest.raises(ForecastInputError, match="'holiday' has dtype"):
        dayahead.predict_frame(frame.assign(holiday=["no", "yes"]))
    with pytest.raises(ForecastInputError, match="'own_hour_mean7' is NaN"):
        dayahead.predict_frame(frame.assign(own_hour_mean7=[1.0, np.nan]))


def _rewrite_meta(registry: Registry, model_id: str, **changes) -> None:
    path = registry.root / model_id / "meta.json"
    meta = msgspec.json.decode(path.read_bytes(), type=ModelMeta)
    path.write_bytes(msgspec.json.encode(msgspec.structs.replace(meta, **changes)))


def test_a_model_from_another_pipeline_is_refused_with_how_to_retrain(tmp_path):
    registry, model_id = saved_model(tmp_path, "dayahead")
    _rewrite_meta(registry, model_id, pipeline_version="0")
    with pytest.raises(ForecastModelError, match=r"pipeline v0.*v" + PIPELINE_VERSION) as info:
        OnnxForecaster.load(registry, model_id)
    assert "gridtui train forecast --task dayahead --markets DE,FR,NL" in str(info.value)

    _rewrite_meta(registry, model_id, pipeline_version=PIPELINE_VERSION, features=("a", "b"))
    with pytest.raises(ForecastModelError, match=r"other features.*retrain"):
        OnnxForecaster.load(registry, model_id)


def test_a_model_with_a_missing_or_broken_file_is_refused(tmp_path):
    registry, model_id = saved_model(tmp_path, "dayahead")
    (registry.root / model_id / "upper.onnx").write_bytes(b"not onnx")
    with pytest.raises(ForecastModelError, match=r"'upper'.*not a loadable ONNX"):
        OnnxForecaster.load(registry, model_id)
    meta = registry.get(model_id)
    files = {role: registry.path(model_id, role) for role in meta.files if role != "lower"}
    with pytest.raises(ForecastModelError, match="lacks its 'lower' file"):
        OnnxForecaster(meta, files)


def test_the_port_turns_events_into_dayahead_forecasts_with_bands(dayahead):
    frame = synthetic_prices(days=30, seed=9)
    now = datetime(2023, 1, 25, 12, tzinfo=UTC)  # after 10:00 Brussels: tomorrow is due
    published = frame[frame["timestamp"] < "2023-01-26"]
    events = as_ticks(published, PriceKind.DAY_AHEAD, delivery_minutes=60)
    forecasts = dayahead.forecast(events, now)
    assert len(forecasts) == 24 * 3
    assert all(isinstance(f, Forecast) and f.model_id == dayahead.model_id for f in forecasts)
    first = min(f.target_ts for f in forecasts)
    assert first == datetime(2023, 1, 25, 23, tzinfo=UTC)  # midnight in Brussels
    for f in forecasts:
        assert f.ts == now and f.lower_eur_mwh <= f.price_eur_mwh <= f.upper_eur_mwh
        assert f.horizon_steps >= 14  # from the 10:00 decision to the delivery hour
    assert dayahead.forecast([], now) == []


def test_intraday_port_forecasts_each_horizon_from_the_last_closed_step(tmp_path):
    forecaster = OnnxForecaster.load(*saved_model(tmp_path, "intraday"))
    frame = synthetic_prices(days=20, seed=4)
    now = datetime(2023, 1, 20, 6, 30, tzinfo=UTC)
    events = as_ticks(frame[frame["timestamp"] <= now])
    forecasts = forecaster.forecast(events, now)
    assert sorted({f.horizon_steps for f in forecasts}) == [1, 5]
    targets = {f.horizon_steps: f.target_ts for f in forecasts}
    assert targets == {
        1: datetime(2023, 1, 20, 6, tzinfo=UTC),
        5: datetime(2023, 1, 20, 10, tzinfo=UTC),
    }
    good = np.zeros((1, len(forecaster.names)), dtype=np.float32)
    with pytest.raises(ForecastInputError, match=r"horizons \[1, 5\], not 7"):
        forecaster.predict(good, horizon=7)


def test_adaptive_band_widens_after_misses_and_narrows_after_hits():
    band = AdaptiveBand(2, start=0.1, rate=0.01, miss_target=0.2)
    band.update(np.array([0, 0, 0]), np.array([True, True, True]))
    band.update(np.array([1, 1]), np.array([False, False]))
    assert band.offset[0] == pytest.approx(0.1 + 3 * 0.008)
    assert band.offset[1] == pytest.approx(0.1 - 2 * 0.002)


def test_evaluation_bands_learn_only_from_outcomes_already_known(dayahead):
    grid = grid_from_frame(synthetic_prices(days=40, seed=2), dayahead.config.markets, 60)
    block = dayahead.pipeline.compute(grid, [date(2023, 1, 20), date(2023, 1, 21)])
    raw = dayahead.predict(block.x.astype(np.float32))
    actual = grid.values(block.target_step, block.market)
    wild = actual.copy()
    day_two = block.origin_step == block.origin_step.max()
    wild[day_two] += 1e4  # outcomes of day two cannot change day two's own band
    calm = adaptive_band(block, raw, actual, dayahead.new_band(), dayahead=True)
    shocked = adaptive_band(block, raw, wild, dayahead.new_band(), dayahead=True)
    np.testing.assert_array_equal(calm.lower, shocked.lower)
    # …but day one's misses do move day two's band.
    wild_one = actual.copy()
    wild_one[~day_two] += 1e4
    moved = adaptive_band(block, raw, wild_one, dayahead.new_band(), dayahead=True)
    assert (moved.upper[day_two] > calm.upper[day_two]).all()


def test_evaluate_model_scores_every_market_against_the_weekly_naive(dayahead):
    grid = grid_from_frame(synthetic_prices(days=60, seed=8), dayahead.config.markets, 60)
    report = evaluate_model(dayahead, grid, date(2023, 2, 1), date(2023, 2, 28))
    markets = [s.market for s in report.scores]
    assert markets == ["DE", "FR", "NL", "all"]
    overall = report.overall()
    assert overall is not None and overall.n == 28 * 24 * 3
    assert 0 < overall.rmae < 1 and 50 < overall.coverage_pct < 100
    assert overall.naive_mae_eur_mwh > overall.mae_eur_mwh
    assert len(table_rows(report)) == 4
    json.dumps(msgspec.to_builtins(report))  # --json works


def test_the_shipped_default_models_load_and_are_small():
    registry = Registry(SHIPPED_ROOT, shipped=None)
    for task in ("dayahead", "intraday"):
        meta = registry.promoted("forecast", task)
        if meta is None:
            pytest.skip(f"no shipped {task} model")
        forecaster = OnnxForecaster.load(registry, meta.model_id)
        assert set(forecaster.config.markets) == {"DE", "FR", "NL", "BE", "AT", "GB"}
        for name in meta.files.values():
            assert (SHIPPED_ROOT / meta.model_id / name).stat().st_size < 2_000_000


def test_one_row_gives_the_same_answer_on_the_fast_path_and_from_another_thread(dayahead):
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    rows = rng.normal(50, 20, (20, len(dayahead.names))).astype(np.float32)
    batch = dayahead.predict_point(rows)  # several rows: onnxruntime's plain run()
    here = [dayahead.predict_point(rows[i : i + 1])[0] for i in range(len(rows))]
    with ThreadPoolExecutor(1) as pool:
        there = list(pool.map(lambda i: dayahead.predict_point(rows[i : i + 1])[0], range(20)))
    np.testing.assert_allclose(here, batch, rtol=1e-6)
    np.testing.assert_allclose(there, batch, rtol=1e-6)
