"""Scoring price forecasts: MAE, RMSE, sMAPE, rMAE against the weekly naive, band coverage.

One scoring path for every caller: ``gridtui train forecast`` scores its held-out
test split with it, ``gridtui eval forecast`` and ``bench/forecast_eval.py`` score
a registered (ONNX) model on any price file with it. The caller hands in a
``predict`` function (feature block → prices with band), so the same code scores
xgboost boosters during training and onnxruntime sessions afterwards.

Definitions (per market, and pooled over markets as ``all``):

- MAE, RMSE in EUR/MWh; sMAPE = mean of 2·|y − ŷ| / (|y| + |ŷ|), in % (0 where
  both are 0);
- rMAE = MAE of the model / MAE of the weekly-seasonal naive forecast (the price
  of the same step one week earlier) on the same points — below 1 beats the naive;
- coverage = share of actual prices inside the forecast band, in %.

Only points where the actual price *and* the naive forecast exist are scored, so
model and naive are always compared on the same set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from models.features.dayahead import DayAheadPipeline
from models.features.intraday import IntradayPipeline
from models.features.pick import Pipeline
from models.features.pipeline import DAYAHEAD, FeatureBlock
from models.features.price_grid import FloatArray, IntArray, PriceGrid
from models.features.price_window import to_normalised
from models.forecast.band import AdaptiveBand, PriceBand, band_to_prices
from models.forecast.meta import LOWER, POINT, UPPER
from models.forecast.onnx_forecaster import OnnxForecaster

# Normalised predictions {"model", "lower", "upper"} for a block's rows.
RawPredict = Callable[[FeatureBlock, int | None], dict[str, FloatArray]]
ALL: Final = "all"
WARMUP_DAYS: Final = 28


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """How well a model did on one market (or ``all``) and horizon."""

    market: str
    horizon: int | None = None
    n: int
    mae_eur_mwh: float
    rmse_eur_mwh: float
    smape_pct: float
    rmae: float
    naive_mae_eur_mwh: float
    coverage_pct: float


class EvalReport(msgspec.Struct, kw_only=True):
    """Scores of one model on one stretch of data."""

    model_id: str
    task: str
    first_day: date | None
    last_day: date | None
    band: str
    scores: list[Score]

    def overall(self, horizon: int | None = None) -> Score | None:
        return next(
            (s for s in self.scores if s.market == ALL and s.horizon == horizon),
            None,
        )


def _score(
    market: str, horizon: int | None, band: PriceBand, actual: FloatArray, naive: FloatArray
) -> Score:
    return point_score(market, band.point, actual, naive, horizon, band.lower, band.upper)


def point_score(
    market: str,
    point: FloatArray,
    actual: FloatArray,
    naive: FloatArray,
    horizon: int | None = None,
    lower: FloatArray | None = None,
    upper: FloatArray | None = None,
) -> Score:
    """Scores of forecasts ``point`` against ``actual``, the naive's on the same points.

    Without a band (``lower``/``upper`` None) the coverage is NaN. Callers that
    hold plain forecast series (``bench/forecast_eval.py`` comparing models)
    score them here, by the same definitions as every model.
    """
    error = point - actual
    denominator = np.abs(actual) + np.abs(point)
    smape = np.where(
        denominator > 0, 2 * np.abs(error) / np.where(denominator > 0, denominator, 1), 0
    )
    mae = float(np.abs(error).mean())
    naive_mae = float(np.abs(naive - actual).mean())
    return Score(
        market=market,
        horizon=horizon,
        n=len(actual),
        mae_eur_mwh=mae,
        rmse_eur_mwh=float(np.sqrt((error**2).mean())),
        smape_pct=float(100 * smape.mean()),
        rmae=mae / naive_mae if naive_mae > 0 else float("nan"),
        naive_mae_eur_mwh=naive_mae,
        coverage_pct=float(100 * ((actual >= lower) & (actual <= upper)).mean())
        if lower is not None and upper is not None
        else float("nan"),
    )


def _subset(band: PriceBand, keep: np.ndarray) -> PriceBand:
    return PriceBand(
        block=band.block.take(keep),
        point=band.point[keep],
        lower=band.lower[keep],
        upper=band.upper[keep],
    )


def score_band(
    band: PriceBand, grid: PriceGrid, markets: Sequence[str], horizon: int | None
) -> list[Score]:
    """Scores per market and pooled, against the actual prices in ``grid``."""
    block = band.block
    week = 7 * 24 * 60 // grid.step_minutes
    actual = grid.values(block.target_step, block.market)
    naive = grid.values(block.target_step - week, block.market)
    usable = np.isfinite(actual) & np.isfinite(naive)
    scores: list[Score] = []
    for m, market in enumerate(markets):
        keep = usable & (block.market == m)
        if keep.any():
            scores.append(_score(market, horizon, _subset(band, keep), actual[keep], naive[keep]))
    if usable.any():
        scores.append(_score(ALL, horizon, _subset(band, usable), actual[usable], naive[usable]))
    return scores


def local_midnight_step(day: date, pipeline: Pipeline) -> int:
    zone = ZoneInfo(pipeline.config.timezone)
    return int(datetime.combine(day, time(), tzinfo=zone).timestamp()) // pipeline.config.step_s


def grid_days(grid: PriceGrid, pipeline: Pipeline) -> tuple[date, date]:
    """First and last local day the grid touches."""
    zone = ZoneInfo(pipeline.config.timezone)
    step_s = pipeline.config.step_s
    first = datetime.fromtimestamp(grid.first_step * step_s, tz=zone).date()
    last = datetime.fromtimestamp(grid.last_step * step_s, tz=zone).date()
    return first, last


def decision_points(
    pipeline: Pipeline, first_day: date, last_day: date, horizon: int | None
) -> list[date] | IntArray:
    """Day-ahead: delivery days; intraday: closed steps whose target lies in the days."""
    if isinstance(pipeline, DayAheadPipeline):
        return pipeline.days_between(first_day, last_day)
    assert horizon is not None
    start = local_midnight_step(first_day, pipeline)
    end = local_midnight_step(last_day + timedelta(days=1), pipeline)
    return np.arange(start - horizon, end - horizon, dtype=np.int64)


def compute_block(
    pipeline: Pipeline, grid: PriceGrid, points: list[date] | IntArray, horizon: int | None
) -> FeatureBlock:
    if isinstance(pipeline, DayAheadPipeline):
        assert isinstance(points, list)
        return pipeline.compute(grid, points)
    assert isinstance(pipeline, IntradayPipeline) and horizon is not None
    return pipeline.compute(grid, np.asarray(points, dtype=np.int64), horizon)


def adaptive_band(
    block: FeatureBlock,
    raw: Mapping[str, FloatArray],
    actual: FloatArray,
    band: AdaptiveBand,
    *,
    dayahead: bool,
) -> PriceBand:
    """Bands as they would have been issued, decision by decision, with an adaptive offset.

    The rows are replayed in the order of their decision steps. Before each
    decision, every outcome known by then updates ``band``: a day-ahead price is
    known from the next decision on (its auction is over by then), an intraday
    one once its step is reached. So a band only ever learns from the past.
    """
    n = len(block)
    point, lower, upper = raw[POINT], raw[LOWER], raw[UPPER]
    low, high = np.minimum(lower, point), np.maximum(upper, point)
    observed = to_normalised(actual, block.level, block.scale)
    order = np.argsort(block.origin_step, kind="stable")
    origins = block.origin_step[order]
    known_at = block.origin_step + 1 if dayahead else block.target_step
    by_known = np.argsort(known_at, kind="stable")
    known_sorted = known_at[by_known]
    offsets = np.zeros(n)
    starts = np.flatnonzero(np.r_[True, np.diff(origins) != 0]) if n else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], n].astype(np.int64)
    resolved = 0
    for first, stop in zip(starts.tolist(), ends.tolist(), strict=True):
        now_known = int(np.searchsorted(known_sorted, origins[first], side="right"))
        if now_known > resolved:
            rows = by_known[resolved:now_known]
            resolved = now_known
            rows = rows[np.isfinite(observed[rows])]
            edge_low = np.minimum(low[rows] - offsets[rows], point[rows])
            edge_high = np.maximum(high[rows] + offsets[rows], point[rows])
            missed = (observed[rows] < edge_low) | (observed[rows] > edge_high)
            band.update(block.market[rows], missed)
        issued = order[first:stop]
        offsets[issued] = band.offsets(block.market[issued])
    return band_to_prices(block, point, lower, upper, offsets)


def evaluate_grid(
    predict: RawPredict,
    pipeline: Pipeline,
    grid: PriceGrid,
    *,
    model_id: str,
    new_band: Callable[[int | None], AdaptiveBand],
    first_day: date | None = None,
    last_day: date | None = None,
    band: str = "10–90 %",
    warmup_days: int = WARMUP_DAYS,
) -> EvalReport:
    """Score ``predict`` on every delivery day from ``first_day`` to ``last_day`` (inclusive).

    The adaptive band starts ``warmup_days`` before ``first_day`` where the grid
    has data, as it would have live; only the days asked for are scored.
    """
    grid_first, grid_last = grid_days(grid, pipeline)
    first = max(first_day or grid_first, grid_first)
    last = min(last_day or grid_last, grid_last)
    warm_first = max(first - timedelta(days=warmup_days), grid_first)
    scored_from = local_midnight_step(first, pipeline)
    config = pipeline.config
    horizons: tuple[int | None, ...] = (None,) if config.task == DAYAHEAD else config.horizons
    scores: list[Score] = []
    for horizon in horizons:
        points = decision_points(pipeline, warm_first, last, horizon)
        block = compute_block(pipeline, grid, points, horizon)
        if not len(block):
            continue
        actual = grid.values(block.target_step, block.market)
        issued = adaptive_band(
            block, predict(block, horizon), actual, new_band(horizon), dayahead=horizon is None
        )
        keep = block.target_step >= scored_from
        scores += score_band(_subset(issued, keep), grid, config.markets, horizon)
    return EvalReport(
        model_id=model_id,
        task=config.task,
        first_day=first,
        last_day=last,
        band=band,
        scores=scores,
    )


def evaluate_model(
    forecaster: OnnxForecaster,
    grid: PriceGrid,
    first_day: date | None = None,
    last_day: date | None = None,
) -> EvalReport:
    """Score a registered model (through onnxruntime) on a price grid."""
    quantiles = forecaster.meta.extra.get("quantiles", [0.1, 0.9])

    def predict(block: FeatureBlock, horizon: int | None) -> dict[str, FloatArray]:
        return forecaster.predict(block.x.astype(np.float32), horizon)

    return evaluate_grid(
        predict,
        forecaster.pipeline,
        grid,
        model_id=forecaster.model_id,
        new_band=forecaster.new_band,
        first_day=first_day,
        last_day=last_day,
        band=f"{100 * quantiles[0]:.0f}–{100 * quantiles[-1]:.0f} %",
    )


# Prices in EUR/MWh, sMAPE and band cover in %; "h" is the horizon (D+1: day-ahead).
TABLE_HEADERS: Final = ("market", "h", "n", "MAE", "RMSE", "sMAPE", "rMAE", "naive MAE", "cover")


def table_rows(report: EvalReport) -> list[tuple[str, ...]]:
    """The report as text cells under :data:`TABLE_HEADERS`."""
    return [
        (
            s.market,
            "D+1" if s.horizon is None else str(s.horizon),
            f"{s.n:,}",
            f"{s.mae_eur_mwh:.2f}",
            f"{s.rmse_eur_mwh:.2f}",
            f"{s.smape_pct:.1f}",
            f"{s.rmae:.3f}",
            f"{s.naive_mae_eur_mwh:.2f}",
            f"{s.coverage_pct:.1f}",
        )
        for s in report.scores
    ]


def metrics_of(report: EvalReport) -> dict[str, float]:
    """Flat metrics for the registry: pooled figures (per horizon) and rMAE per market."""
    metrics: dict[str, float] = {}
    for s in report.scores:
        suffix = "" if s.horizon is None else f"_h{s.horizon}"
        if s.market == ALL:
            metrics[f"mae{suffix}"] = round(s.mae_eur_mwh, 4)
            metrics[f"rmse{suffix}"] = round(s.rmse_eur_mwh, 4)
            metrics[f"smape{suffix}"] = round(s.smape_pct, 4)
            metrics[f"rmae{suffix}"] = round(s.rmae, 4)
            metrics[f"naive_mae{suffix}"] = round(s.naive_mae_eur_mwh, 4)
            metrics[f"coverage{suffix}"] = round(s.coverage_pct, 2)
        else:
            metrics[f"rmae_{s.market}{suffix}"] = round(s.rmae, 4)
    if report.task != DAYAHEAD:  # one headline figure: the mean over horizons
        pooled = [s for s in report.scores if s.market == ALL]
        if pooled:
            metrics["rmae"] = round(float(np.mean([s.rmae for s in pooled])), 4)
            metrics["coverage"] = round(float(np.mean([s.coverage_pct for s in pooled])), 2)
    return metrics
