"""Day-ahead forecasts in one shape for their downstream users: a price Series per market.

Every day-ahead forecaster of the project hands its forecasts of a stretch of
delivery days over the same way, so a consumer (the committed-battery bench,
``bench/forecast_eval.py``) can swap one for another:

    ``dict[market, pd.Series]``, each Series float, indexed by the tz-aware UTC
    start of every hourly delivery period of the local (Europe/Brussels) days
    ``first_day``..``last_day`` — 23, 24 or 25 entries a day — NaN where the
    forecaster gives no forecast (its own market lacks most of D−1, or too
    little history to calibrate on).

Information set: the forecast for delivery day D is made on D−1 at the decision
time (10:00 Europe/Brussels, before the 12:00 gate closure) from the day-ahead
prices known then, which are those of delivery days up to D−1 (D−1's were
published on D−2 at ~12:45). Prices of day D or later are never read, whatever
``frame`` holds; ``tests/models/test_dayahead_forecasts.py`` checks both
functions by changing them and comparing bit for bit.

- :func:`lear_forecasts`: the LEAR benchmark (:mod:`models.forecast.lear`), recalibrated
  every day on the days before D.
- :func:`model_forecasts`: the project's ONNX forecaster (its point forecast),
  features from the very pipeline it serves with
  (:meth:`DayAheadPipeline.compute`, the rows ``gridtui eval forecast`` scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from models.features.dayahead import DayAheadPipeline
from models.features.price_grid import FeatureError, grid_from_frame
from models.forecast.lear import CONTINENTAL, SLOTS, daily_prices, lear_daily
from models.forecast.onnx_forecaster import OnnxForecaster

TIMEZONE = "Europe/Brussels"


def delivery_index(first_day: date, last_day: date, timezone: str = TIMEZONE) -> pd.DatetimeIndex:
    """UTC starts of every hourly delivery period of local days first_day..last_day."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first_day, time(), tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone)
    return pd.date_range(
        pd.Timestamp(start).tz_convert("UTC"),
        pd.Timestamp(end).tz_convert("UTC"),
        freq="h",
        inclusive="left",
    )


def _markets_in(frame: pd.DataFrame) -> set[str]:
    return set(frame["market"].astype(str).unique())


def lear_forecasts(
    frame: pd.DataFrame,
    markets: Sequence[str],
    first_day: date,
    last_day: date,
    *,
    calibration_days: int = 728,
    criterion: str = "aic",
    n_jobs: int = 1,
) -> dict[str, pd.Series]:
    """LEAR forecasts of local days first_day..last_day (shape: see the module docstring).

    Args:
        frame: long prices (``timestamp``, ``market``, ``price_eur_mwh``), as
            ``prices_real_train.parquet``; the coupled zones' prices are taken
            from it too (the other continental zones it holds).
        markets: the markets to forecast.
        calibration_days: the calibration window: at most this many days before D.
        criterion: LassoLarsIC's ``"aic"`` (the paper's) or ``"bic"``.
        n_jobs: joblib workers (markets and blocks of days run in parallel).
    """
    if last_day < first_day:
        raise ValueError(f"last_day {last_day} is before first_day {first_day}")
    present = _markets_in(frame)
    missing = [m for m in markets if m not in present]
    if missing:
        raise FeatureError(f"no prices for {missing} in the frame")
    columns = list(dict.fromkeys([*markets, *(z for z in CONTINENTAL if z in present)]))
    daily = daily_prices(grid_from_frame(frame, columns, 60), TIMEZONE, last_day)
    values = lear_daily(
        daily,
        markets,
        first_day,
        last_day,
        calibration_days=calibration_days,
        criterion=criterion,
        n_jobs=n_jobs,
    )
    index = delivery_index(first_day, last_day)
    local = index.tz_convert(TIMEZONE)
    day_row = np.array([(d - first_day).days for d in local.date], dtype=np.int64)
    slot = np.asarray(local.hour, dtype=np.int64)  # floor of the local hour: LEAR's slot
    assert slot.max(initial=0) < SLOTS
    return {
        m: pd.Series(values[m][day_row, slot], index=index, name=m, dtype=np.float64)
        for m in markets
    }


def model_forecasts(
    forecaster: OnnxForecaster,
    frame: pd.DataFrame,
    markets: Sequence[str],
    first_day: date,
    last_day: date,
) -> dict[str, pd.Series]:
    """The ONNX forecaster's point forecasts of local days first_day..last_day.

    One forecast per delivery day, as made at its decision time
    (``PipelineConfig.decision_time`` on D−1); ``frame`` needs the markets the
    model reads (its ``config.markets``) and any fundamentals it uses.
    """
    pipeline = forecaster.pipeline
    if not isinstance(pipeline, DayAheadPipeline):
        raise FeatureError(f"model {forecaster.model_id!r} is not a day-ahead model")
    config = forecaster.config
    unknown = [m for m in markets if m not in config.markets]
    if unknown:
        raise FeatureError(f"model {forecaster.model_id!r} does not forecast {unknown}")
    if config.timezone != TIMEZONE or config.step_minutes != 60:
        raise FeatureError("model_forecasts serves hourly models of Europe/Brussels days")
    grid = grid_from_frame(frame, config.markets, config.step_minutes, config.fundamentals)
    block = pipeline.compute(grid, pipeline.days_between(first_day, last_day))
    index = delivery_index(first_day, last_day)
    point = forecaster.predict_block(block).point if len(block) else np.zeros(0)
    starts = pd.to_datetime(block.target_step * config.step_s, unit="s", utc=True)
    out: dict[str, pd.Series] = {}
    for market in markets:
        mine = block.market == config.markets.index(market)
        found = pd.Series(point[mine], index=starts[mine], dtype=np.float64)
        out[market] = found.reindex(index).rename(market)
    return out
