"""Day-ahead forecasts as Series (models.forecast.dayahead): the ONNX model's side.

LEAR's side (``lear_forecasts``) is tested in ``test_lear.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from models.features.price_grid import FeatureError, grid_from_frame
from models.forecast.dayahead import delivery_index, model_forecasts
from models.forecast.onnx_forecaster import OnnxForecaster
from tests.models.forecast_builders import drop_day, saved_model, synthetic_prices

pytest.importorskip("xgboost")  # the tiny model is trained on the spot

MARKETS = ("DE", "FR", "NL")


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory) -> OnnxForecaster:
    registry, model_id = saved_model(tmp_path_factory.mktemp("reg"), "dayahead")
    return OnnxForecaster.load(registry, model_id)


@pytest.fixture(scope="module")
def frame():
    # 2023-01-02 … 2023-04-01: the 23-hour day 2023-03-26 is inside.
    return synthetic_prices(MARKETS, days=90, seed=11)


def _local_day(frame: pd.DataFrame) -> pd.Series:
    days: pd.Series = frame["timestamp"].dt.tz_convert("Europe/Brussels").dt.date
    return days


def test_model_forecasts_ignore_every_price_of_day_d_and_later(forecaster, frame):
    day = date(2023, 3, 10)
    before = model_forecasts(forecaster, frame, MARKETS, day, day)
    later = _local_day(frame) >= day
    changed = frame.copy()
    changed.loc[later, "price_eur_mwh"] = np.random.default_rng(0).normal(
        400, 200, int(later.sum())
    )
    for altered in (changed, frame.loc[~later]):
        after = model_forecasts(forecaster, altered, MARKETS, day, day)
        for market in MARKETS:
            assert np.isfinite(before[market]).all()
            np.testing.assert_array_equal(after[market].to_numpy(), before[market].to_numpy())


def test_series_span_local_days_and_match_the_live_path(forecaster, frame):
    first, last = date(2023, 3, 25), date(2023, 3, 27)
    out = model_forecasts(forecaster, frame, ["FR", "NL"], first, last)
    assert set(out) == {"FR", "NL"}
    series = out["FR"]
    assert series.index.equals(delivery_index(first, last)) and series.dtype == np.float64
    per_day = series.groupby(
        pd.DatetimeIndex(series.index).tz_convert("Europe/Brussels").date
    ).size()
    assert per_day.tolist() == [24, 23, 24]
    # The live component's forecasts of the same day (events, rounded to cents).
    day = date(2023, 3, 26)
    grid = grid_from_frame(frame, MARKETS, 60)
    now = datetime(2023, 3, 25, 9, 0, tzinfo=UTC)
    live = {
        pd.Timestamp(e.target_ts): e.price_eur_mwh
        for e in forecaster.dayahead_forecasts(grid, day, now)
        if e.market == "FR"
    }
    assert len(live) == 23
    mine = series[list(live)]
    np.testing.assert_allclose(mine.to_numpy(), list(live.values()), atol=0.006)


def test_a_day_without_its_d1_has_no_forecast(forecaster, frame):
    gappy = drop_day(frame, "NL", "2023-03-09")  # NL lacks most of D−1 for 2023-03-10
    out = model_forecasts(forecaster, gappy, MARKETS, date(2023, 3, 10), date(2023, 3, 11))
    nl = out["NL"].groupby(pd.DatetimeIndex(out["NL"].index).tz_convert("Europe/Brussels").date)
    assert nl.apply(lambda s: s.isna().all()).tolist() == [True, False]
    assert np.isfinite(out["DE"]).all()


def test_refuses_markets_the_model_does_not_forecast(forecaster, frame):
    with pytest.raises(FeatureError, match="does not forecast"):
        model_forecasts(forecaster, frame, ["AT"], date(2023, 3, 1), date(2023, 3, 1))
