"""The ONNX price forecaster: the engine's ``Forecaster`` port, run by onnxruntime only.

A forecast model in the registry is a set of ONNX files — per horizon a point
model (the median) and two quantile models (lower and upper band, 10 % and 90 %
by default) — plus metadata that names the feature pipeline that made it.
:class:`OnnxForecaster` loads them, refuses a model whose pipeline differs from
the running code, validates every input and turns predictions (made in the
pipeline's normalised price space) back into EUR/MWh with a calibrated band.

onnxruntime runs with one thread (intra and inter op) and one reused session per
file: a single row takes microseconds, and a forecast never competes with the
event loop for cores. xgboost is never imported here; it is only needed to
train (``models.training``).

Callers: :class:`models.forecast.component.ForecastComponent` (live),
:mod:`models.forecast.evaluation` (``gridtui eval forecast``, the benches) and
``gridtui.wiring`` (loads the promoted model).

Its parts live beside it: :mod:`models.forecast.meta` (kind, file roles,
errors), :mod:`models.forecast.session` (one ONNX file) and
:mod:`models.forecast.band` (the price band and its calibration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from engine.events import Event, Forecast, Fundamentals, PriceKind, PriceTick
from models.features.dayahead import DayAheadPipeline
from models.features.intraday import IntradayPipeline
from models.features.pick import Pipeline, capacity_steps, make_pipeline
from models.features.pipeline import DAYAHEAD, PIPELINE_VERSION, TASKS, FeatureBlock, PipelineConfig
from models.features.price_grid import (
    FeatureError,
    FloatArray,
    History,
    LiveGrid,
    step_of,
    step_start,
)
from models.forecast.band import AdaptiveBand, PriceBand, band_to_prices
from models.forecast.meta import (
    KIND,
    LOWER,
    POINT,
    QUANTITIES,
    UPPER,
    ForecastModelError,
    model_horizons,
    retrain_hint,
    role_name,
)
from models.forecast.session import OnnxSession
from models.registry import ModelMeta, Registry


class ForecastInputError(ValueError):
    """Features handed to a model are unusable; the message names the feature."""


class OnnxForecaster:
    """A registered forecast model, loaded for inference (implements ``engine.ports.Forecaster``).

    Raises (on construction):
        ForecastModelError: a file is missing or not ONNX, or the model was made
            by another feature pipeline; the message says how to retrain.
    """

    def __init__(self, meta: ModelMeta, files: Mapping[str, Path | bytes]) -> None:
        if meta.kind != KIND or meta.task not in TASKS:
            raise ForecastModelError(
                f"model {meta.model_id!r} is a {meta.kind}/{meta.task} model, not a price forecast"
            )
        if meta.pipeline_version != PIPELINE_VERSION:
            raise ForecastModelError(
                f"model {meta.model_id!r} was made by feature pipeline "
                f"v{meta.pipeline_version or '?'}, this gridtui computes v{PIPELINE_VERSION}: "
                f"{retrain_hint(meta)}"
            )
        try:
            config = msgspec.convert(meta.extra.get("pipeline"), PipelineConfig)
        except (msgspec.ValidationError, FeatureError) as exc:
            raise ForecastModelError(
                f"model {meta.model_id!r} has no usable pipeline settings ({exc}): "
                f"{retrain_hint(meta)}"
            ) from exc
        self.meta = meta
        self.config = config
        self.pipeline: Pipeline = make_pipeline(config)
        self.names: tuple[str, ...] = self.pipeline.names
        if tuple(meta.features) != self.names:
            theirs, ours = list(meta.features), list(self.names)
            differ = next(
                (f"{a!r} ≠ {b!r}" for a, b in zip(theirs, ours, strict=False) if a != b),
                f"{len(theirs)} features ≠ {len(ours)}",
            )
            raise ForecastModelError(
                f"model {meta.model_id!r} expects other features than this pipeline computes "
                f"({differ}): {retrain_hint(meta)}"
            )
        self._column = {name: i for i, name in enumerate(self.names)}
        self.horizons = model_horizons(config)
        offsets = meta.extra.get("band_offset", {})
        self.band_offset: dict[int | None, float] = {
            h: float(offsets.get(str(h), 0.0)) for h in self.horizons
        }
        quantiles = meta.extra.get("quantiles", [0.1, 0.9])
        self.miss_target = 1.0 - (float(quantiles[-1]) - float(quantiles[0]))
        self.adapt_rate = float(meta.extra.get("band_adapt_rate", 0.0))
        self.sessions: dict[tuple[str, int | None], OnnxSession] = {}
        for horizon in self.horizons:
            for quantity in QUANTITIES:
                role = role_name(quantity, horizon)
                if role not in files:
                    raise ForecastModelError(
                        f"model {meta.model_id!r} lacks its {role!r} file: {retrain_hint(meta)}"
                    )
                label = f"model {meta.model_id!r} file {role!r}"
                self.sessions[(quantity, horizon)] = OnnxSession(
                    files[role], len(self.names), label
                )

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, registry: Registry, model_id: str) -> OnnxForecaster:
        """Load a model from the registry (user models first, then the shipped ones)."""
        meta = registry.get(model_id)
        return cls(meta, {role: registry.path(model_id, role) for role in meta.files})

    @classmethod
    def promoted(cls, registry: Registry, task: str) -> OnnxForecaster | None:
        """The promoted model of ``task``, or None when none is promoted."""
        meta = registry.promoted(KIND, task)
        return None if meta is None else cls.load(registry, meta.model_id)

    @property
    def model_id(self) -> str:
        return self.meta.model_id

    @property
    def task(self) -> str:
        return self.config.task

    # -- predicting ------------------------------------------------------------------------

    def _horizon(self, horizon: int | None) -> int | None:
        if self.task == DAYAHEAD:
            return None
        if horizon not in self.horizons:
            raise ForecastInputError(
                f"model {self.model_id!r} forecasts horizons {list(self.horizons)}, not {horizon}"
            )
        return horizon

    def check(self, x: object) -> npt.NDArray[np.float32]:
        """``x`` as the models take it, or a :class:`ForecastInputError` that names the problem.

        Args:
            x: a 2-D float32 array, one column per feature in ``self.names`` order.
        """
        if not isinstance(x, np.ndarray):
            raise ForecastInputError(
                f"features must be a 2-D float32 numpy array, got {type(x).__name__}"
            )
        if x.ndim != 2 or x.shape[1] != len(self.names):
            raise ForecastInputError(
                f"features must be 2-D with {len(self.names)} columns "
                f"({', '.join(self.names[:4])}, …), got shape {x.shape}"
            )
        if x.dtype != np.float32:
            raise ForecastInputError(
                f"features must be float32, got {x.dtype} (feature {self.names[0]!r} onwards); "
                "use predict_frame() to pass other numeric types by name"
            )
        nan = np.isnan(x)
        if nan.any():
            row, column = (int(i) for i in np.argwhere(nan)[0])
            raise ForecastInputError(f"feature {self.names[column]!r} is NaN (row {row})")
        return x

    def predict(self, x: object, horizon: int | None = None) -> dict[str, FloatArray]:
        """Normalised predictions ``{"model", "lower", "upper"}`` for feature rows ``x``."""
        rows = self.check(x)
        h = self._horizon(horizon)
        return {q: self.sessions[(q, h)].run(rows) for q in QUANTITIES}

    def predict_point(self, x: npt.NDArray[np.float32], horizon: int | None = None) -> FloatArray:
        """The point model alone, on rows already checked: the latency-critical path."""
        return self.sessions[(POINT, None if self.task == DAYAHEAD else horizon)].run(x)

    def predict_frame(
        self, features: Mapping[str, Any], horizon: int | None = None
    ) -> dict[str, FloatArray]:
        """Like :meth:`predict`, with features by name (a DataFrame or a dict of columns).

        Raises:
            ForecastInputError: a feature is missing or unknown, not numeric, or NaN.
        """
        given = [str(name) for name in features]
        missing = [name for name in self.names if name not in given]
        extra = [name for name in given if name not in self._column]
        if missing:
            raise ForecastInputError(f"missing feature(s): {', '.join(missing)}")
        if extra:
            raise ForecastInputError(
                f"unknown feature(s): {', '.join(extra)} (the model takes {len(self.names)})"
            )
        columns: list[FloatArray] = []
        for name in self.names:
            column = np.asarray(features[name])
            if column.dtype.kind not in "biuf":
                raise ForecastInputError(
                    f"feature {name!r} has dtype {column.dtype}; it must be numeric"
                )
            columns.append(column.astype(np.float64).reshape(-1))
        lengths = {len(c) for c in columns}
        if len(lengths) != 1:
            raise ForecastInputError(f"feature columns differ in length: {sorted(lengths)}")
        return self.predict(np.stack(columns, axis=1).astype(np.float32), horizon)

    def predict_block(
        self,
        block: FeatureBlock,
        horizon: int | None = None,
        band: AdaptiveBand | None = None,
    ) -> PriceBand:
        """Prices with their band for the rows of a feature block.

        ``band``: the adaptive band state to take the offsets from; None = the
        offset calibrated at training time.
        """
        h = self._horizon(horizon)
        raw = self.predict(block.x.astype(np.float32), h)
        offset = self.band_offset[h] if band is None else band.offsets(block.market)
        return band_to_prices(block, raw[POINT], raw[LOWER], raw[UPPER], offset)

    def new_band(self, horizon: int | None = None) -> AdaptiveBand:
        """A fresh adaptive band for ``horizon``, starting at the calibrated offset."""
        h = self._horizon(horizon)
        return AdaptiveBand(
            len(self.config.markets), self.band_offset[h], self.adapt_rate, self.miss_target
        )

    # -- forecasts as events -----------------------------------------------------------------

    def events_of(self, band: PriceBand, now: datetime, horizon: int | None) -> list[Forecast]:
        """One ``Forecast`` event per row of ``band``, issued at ``now``."""
        step_minutes = self.config.step_minutes
        markets = self.config.markets
        block = band.block
        events: list[Forecast] = []
        for i in range(len(block)):
            target = int(block.target_step[i])
            events.append(
                Forecast(
                    ts=now,
                    market=markets[int(block.market[i])],
                    target_ts=step_start(target, step_minutes),
                    horizon_steps=horizon
                    if horizon is not None
                    else target - int(block.origin_step[i]),
                    price_eur_mwh=round(float(band.point[i]), 2),
                    lower_eur_mwh=round(float(band.lower[i]), 2),
                    upper_eur_mwh=round(float(band.upper[i]), 2),
                    model_id=self.model_id,
                )
            )
        return events

    def dayahead_forecasts(
        self,
        history: History,
        day: date,
        now: datetime,
        bands: Mapping[int | None, AdaptiveBand] | None = None,
    ) -> list[Forecast]:
        """Forecasts of every step of delivery day ``day`` from ``history``."""
        pipeline = self.pipeline
        assert isinstance(pipeline, DayAheadPipeline)
        block = pipeline.compute(history, [day])
        if not len(block):
            return []
        band = None if bands is None else bands.get(None)
        return self.events_of(self.predict_block(block, None, band), now, None)

    def intraday_forecasts(
        self,
        history: History,
        end_step: int,
        now: datetime,
        bands: Mapping[int | None, AdaptiveBand] | None = None,
    ) -> list[Forecast]:
        """Forecasts of every horizon after the closed step ``end_step``."""
        pipeline = self.pipeline
        assert isinstance(pipeline, IntradayPipeline)
        events: list[Forecast] = []
        for horizon in self.config.horizons:
            block = pipeline.compute(history, np.array([end_step], dtype=np.int64), horizon)
            if len(block):
                band = None if bands is None else bands.get(horizon)
                events += self.events_of(self.predict_block(block, horizon, band), now, horizon)
        return events

    def due_day(self, now: datetime) -> date:
        """Day-ahead: the delivery day whose decision time came last, at or before ``now``."""
        pipeline = self.pipeline
        assert isinstance(pipeline, DayAheadPipeline)
        today = pipeline.local_day(now)
        tomorrow = date.fromordinal(today.toordinal() + 1)
        return tomorrow if pipeline.decision_at(tomorrow) <= now else today

    def new_grid(self, *, deliveries: bool | None = None) -> LiveGrid:
        """An empty live grid of the shape this model reads."""
        return LiveGrid(
            self.config.markets,
            self.config.step_minutes,
            self.config.fundamentals,
            capacity_steps=capacity_steps(self.pipeline),
            deliveries=self.task == DAYAHEAD if deliveries is None else deliveries,
        )

    def forecast(self, history: Sequence[Event], now: datetime) -> Sequence[Forecast]:
        """The ``Forecaster`` port: forecasts due at ``now`` from a list of events.

        Day-ahead models read day-ahead ticks and forecast the delivery day whose
        decision time came last; intraday models read intraday ticks up to
        ``now`` and forecast from the last closed step. Long-running callers keep
        a :class:`LiveGrid` instead (see ``ForecastComponent``): this rebuilds one.
        """
        dayahead = self.task == DAYAHEAD
        kind = PriceKind.DAY_AHEAD if dayahead else PriceKind.INTRADAY
        grid = self.new_grid()
        for event in history:
            if isinstance(event, PriceTick) and event.kind == kind:
                if dayahead or event.ts <= now:
                    grid.add_price(event)
            elif isinstance(event, Fundamentals) and event.ts <= now:
                grid.add_fundamentals(event)
        if dayahead:
            return self.dayahead_forecasts(grid, self.due_day(now), now)
        closed = step_of(now, self.config.step_minutes) - 1
        return self.intraday_forecasts(grid, closed, now)
