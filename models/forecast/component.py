"""ForecastComponent: runs a forecast model inside the engine and publishes ``Forecast`` events.

An engine ``Component`` (see ``engine.kernel``): the kernel hands it every batch
of validated events; it keeps the history the model reads in a
:class:`~models.features.price_grid.LiveGrid` (a ring buffer, so memory stays flat on a
daemon that runs for months), and returns forecasts as derived events, which
the kernel publishes on the bus (topic ``forecasts``) and stores.

- **dayahead**: reads day-ahead ticks (published delivery periods, future ones
  included). When the clock passes the model's decision time on D−1 (10:00
  Europe/Brussels by default) it forecasts every step of D for every market
  with enough history — once; if nothing could be forecast yet, it tries again
  every 15 minutes (and when a step closes) until D starts. Each forecast
  reads what is known when it is issued, so an engine started after the
  decision time forecasts D as soon as it has closed a step of fundamentals
  (an hour, for the shipped model): a fresh dashboard gets tomorrow's curve
  that same afternoon, not the day after.
- **intraday**: reads ticks up to "now" (intraday ticks by default; day-ahead
  ticks at delivery time for a replay). When the first tick of a new step
  arrives, the previous step is closed and every horizon is forecast from it.

Each forecast's band adapts to the outcomes (:class:`~models.forecast.band.AdaptiveBand`):
when the price of a forecast step becomes known, a miss widens that market's
band and a hit narrows it, the same way ``gridtui eval forecast`` scores a model.
A forecast failure is logged (rate-limited) and never stops the kernel.
``gridtui.wiring`` builds one component per promoted model.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import numpy as np

from engine.events import Event, Forecast, Fundamentals, PriceKind, PriceTick
from models.features.dayahead import DayAheadPipeline
from models.features.intraday import IntradayPipeline
from models.features.pipeline import DAYAHEAD
from models.features.price_grid import FeatureError, FloatArray, IntArray, step_of, step_start
from models.forecast.onnx_forecaster import ForecastInputError, OnnxForecaster

log = logging.getLogger(__name__)

_RETRY: Final = timedelta(minutes=15)
_MAX_PENDING: Final = 10_000


@dataclass(frozen=True, slots=True)
class _Issued:
    """A band handed out, waiting for its outcome."""

    known_at: int  # the decision step from which the outcome is known
    market: IntArray
    target_step: IntArray
    lower: FloatArray
    upper: FloatArray


class ForecastComponent:
    """Publishes the forecasts of one model (see the module docstring).

    Args:
        forecaster: the loaded model.
        price_kind: which ticks feed it; default day-ahead for a day-ahead model
            and intraday for an intraday model.
    """

    def __init__(self, forecaster: OnnxForecaster, *, price_kind: PriceKind | None = None) -> None:
        self.forecaster = forecaster
        self.dayahead = forecaster.task == DAYAHEAD
        default = PriceKind.DAY_AHEAD if self.dayahead else PriceKind.INTRADAY
        self.price_kind = price_kind or default
        self.grid = forecaster.new_grid(deliveries=self.price_kind == PriceKind.DAY_AHEAD)
        self._fundamentals = bool(forecaster.config.fundamentals)
        self._step_s = forecaster.config.step_s
        self.bands = {h: forecaster.new_band(h) for h in forecaster.horizons}
        self._issued: dict[int | None, deque[_Issued]] = {h: deque() for h in forecaster.horizons}
        self._open_step: int | None = None
        self._days_done: set[date] = set()
        self._retry_at: dict[date, datetime] = {}
        self.published = 0
        self.failures = 0

    @property
    def name(self) -> str:
        return f"forecast-{self.forecaster.task}"

    @property
    def step_s(self) -> int:
        """The model's step, in seconds."""
        return self._step_s

    @property
    def warmup_steps(self) -> int:
        """Closed steps of a market needed before this model's first forecast of it.

        Intraday: one — a step is forecast from when the first tick of the next
        one closes it (missing older history is filled, see
        :func:`models.features.price_window.fill_window`). Day-ahead: it forecasts at
        the decision time from the day-ahead prices it has; a model that reads
        fundamentals needs one closed step of them first (an engine started
        after the decision time forecasts when its first step closes).
        """
        if self.dayahead:
            return 1 if self._fundamentals else 0
        return 1

    # -- kernel hooks ----------------------------------------------------------------------

    def on_events(self, events: Sequence[Event], now: datetime) -> Sequence[Event]:
        kind, grid, dayahead = self.price_kind, self.grid, self.dayahead
        closed: int | None = None
        for event in events:
            if type(event) is PriceTick:
                if event.kind != kind:
                    continue
                if not dayahead:
                    if event.ts > now:
                        continue  # a published future delivery is not an observation yet
                    step = int(event.ts.timestamp()) // self._step_s
                    if self._open_step is None:
                        self._open_step = step
                    elif step > self._open_step:
                        closed, self._open_step = self._open_step, step
                grid.add_price(event)
            elif type(event) is Fundamentals and self._fundamentals and event.ts <= now:
                grid.add_fundamentals(event)
        if dayahead:
            return self._dayahead(now)
        return self._intraday(closed, now) if closed is not None else []

    def on_timer(self, now: datetime) -> Sequence[Event]:
        return self._dayahead(now) if self.dayahead else []

    # -- forecasting -----------------------------------------------------------------------

    def forecast_now(self, now: datetime) -> list[Forecast]:
        """A fresh forecast on demand (the API's predict), from the history held so far.

        Intraday: every horizon from the last closed step; day-ahead: the day
        that is due. Nothing is published or remembered for the bands, so asking
        never changes what the component itself issues.

        Raises:
            ValueError: no price has been seen yet, or the features cannot be
                computed (the message says which).
        """
        if self.dayahead:
            return self._forecast_day(self.forecaster.due_day(now), now, remember=False)
        if self._open_step is None:
            raise ValueError("no intraday price has been seen yet")
        return self._forecast_steps(self._open_step - 1, now, remember=False)

    def _dayahead(self, now: datetime) -> list[Forecast]:
        forecaster = self.forecaster
        pipeline = forecaster.pipeline
        assert isinstance(pipeline, DayAheadPipeline)
        day = forecaster.due_day(now)
        if day in self._days_done or now < self._retry_at.get(day, now):
            return []
        _, end = pipeline.day_bounds(day)
        if int(now.timestamp()) // self._step_s >= end:
            return []
        origin = step_of(pipeline.decision_at(day), forecaster.config.step_minutes)
        self._learn(origin)
        events = self._guarded(lambda: self._forecast_day(day, now), f"day {day}")
        if events:
            self._days_done = {d for d in self._days_done if d >= day - timedelta(days=3)}
            self._days_done.add(day)
            self._retry_at.pop(day, None)
        else:
            # A step closing brings a step of fundamentals: try then, if that comes first.
            step_minutes = forecaster.config.step_minutes
            next_step = step_start(step_of(now, step_minutes) + 1, step_minutes)
            self._retry_at = {day: min(now + _RETRY, next_step)}
        return events

    def _forecast_day(self, day: date, now: datetime, *, remember: bool = True) -> list[Forecast]:
        """Day ``day``'s forecasts; ``remember`` keeps their bands to learn from the outcomes."""
        forecaster = self.forecaster
        pipeline = forecaster.pipeline
        assert isinstance(pipeline, DayAheadPipeline)
        block = pipeline.compute(self.grid, [day], issued_at=now)
        if not len(block):
            return []
        band = forecaster.predict_block(block, None, self.bands[None])
        if remember:
            origin = step_of(pipeline.decision_at(day), forecaster.config.step_minutes)
            self._remember(
                None, _Issued(origin + 1, block.market, block.target_step, band.lower, band.upper)
            )
        return forecaster.events_of(band, now, None)

    def _intraday(self, closed: int, now: datetime) -> list[Forecast]:
        self._learn(closed)
        return self._guarded(lambda: self._forecast_steps(closed, now), f"step {closed}")

    def _forecast_steps(
        self, closed: int, now: datetime, *, remember: bool = True
    ) -> list[Forecast]:
        """Every horizon from step ``closed``; ``remember`` as in :meth:`_forecast_day`."""
        forecaster = self.forecaster
        pipeline = forecaster.pipeline
        assert isinstance(pipeline, IntradayPipeline)
        events: list[Forecast] = []
        for horizon in forecaster.config.horizons:
            block = pipeline.compute(self.grid, np.array([closed], dtype=np.int64), horizon)
            if not len(block):
                continue
            band = forecaster.predict_block(block, horizon, self.bands[horizon])
            if remember:
                issued = _Issued(
                    closed + horizon, block.market, block.target_step, band.lower, band.upper
                )
                self._remember(horizon, issued)
            events += forecaster.events_of(band, now, horizon)
        return events

    def _remember(self, horizon: int | None, issued: _Issued) -> None:
        queue = self._issued[horizon]
        queue.append(issued)
        while len(queue) > _MAX_PENDING:
            queue.popleft()

    def _learn(self, origin: int) -> None:
        """Feed every outcome known at ``origin`` to the adaptive bands."""
        for horizon, queue in self._issued.items():
            while queue and queue[0].known_at <= origin:
                issued = queue.popleft()
                actual = self.grid.values(issued.target_step, issued.market)
                known = np.isfinite(actual)
                if known.any():
                    missed = (actual[known] < issued.lower[known]) | (
                        actual[known] > issued.upper[known]
                    )
                    self.bands[horizon].update(issued.market[known], missed)

    def _guarded(self, work: Callable[[], list[Forecast]], what: str) -> list[Forecast]:
        try:
            events = work()
        except (FeatureError, ForecastInputError) as exc:
            self.failures += 1
            if self.failures <= 5 or self.failures % 100 == 0:
                log.warning(
                    "%s: no forecast for %s (%s; %d failures so far)",
                    self.forecaster.model_id,
                    what,
                    exc,
                    self.failures,
                )
            return []
        self.published += len(events)
        return events
