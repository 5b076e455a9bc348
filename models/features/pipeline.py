"""The one feature pipeline of the price forecasts, for training and for live inference.

Everything a forecast model sees is computed here, by one function per task that
works on *windows* of history: an array ``[decisions, lookback steps, markets]``
of prices on a regular UTC step grid (NaN where nothing is known) plus, where a
model uses them, the fundamentals on the same grid. Training cuts those windows
out of a whole price file (:class:`PriceGrid`); the live component cuts them out
of a ring buffer it fills tick by tick (:class:`LiveGrid`). Both hand them to the
same :meth:`DayAheadPipeline.compute` / :meth:`IntradayPipeline.compute`, so a
feature can only differ between training and live if the history differs — and
``tests/models/test_features.py`` proves that a tick-by-tick :class:`LiveGrid`
holds exactly what a :class:`PriceGrid` built from the same ticks holds.

Two tasks:

- **dayahead**: at ``decision_time`` (local, default 10:00 Europe/Brussels) on
  day D−1, predict every step of the local delivery day D (23/24/25 hours, or
  92/96/100 quarters). The window ends with the last step of D−1, whose prices
  are known since the auction of D−2; fundamentals only up to the decision time.
  One row per market and delivery step.
- **intraday**: after step t has closed, predict step t + h for each horizon h.
  The window ends with step t. One row per market.

Prices go into the models in a normalised space, the variance-stabilising
transform of the electricity price forecasting literature (Uniejewski, Weron &
Ziel 2018)::

    z(x) = asinh((x − level) / scale)

with ``level`` the target market's mean price over the last day of the window and
``scale`` its robust spread (1.4826 × median absolute deviation) over the last
week. The model learns the *shape* of prices relative to where they are now, so
a tree trained on 2020–2021 price levels still works when 2022 trebles them;
:meth:`Pipeline.to_price` maps a prediction back with ``level + scale·sinh(y)``.

Missing history (gaps, DST, whole missing days) is filled inside each window, and
only there, so the fill cannot differ between training and live: a missing step
takes the value one day earlier (then two, … up to seven), then the last earlier
value, then the first later one; a market missing from the whole window takes the
mean of the other markets. A row is only produced when its own market has real
data where it matters (half of D−1 for day-ahead; step t itself for intraday).

Where things live: this module holds what the pipelines share (tasks,
:class:`PipelineConfig`, :class:`FeatureBlock`, the pipeline base and
:data:`PIPELINE_VERSION`); :mod:`models.features.price_window` fills and normalises
windows; :mod:`models.features.calendar` and :mod:`models.features.fundamentals`
compute those inputs; :mod:`models.features.dayahead` and
:mod:`models.features.intraday` are the two tasks; :mod:`models.features.pick` picks
one by task (:func:`~models.features.pick.make_pipeline`).

Bump :data:`PIPELINE_VERSION` whenever a feature's definition changes: models
record it, and the forecaster refuses a model made by another version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from models.features.fundamentals import _fundamental_features
from models.features.price_grid import (
    STEP_MINUTES_ALLOWED,
    FeatureError,
    FloatArray,
    History,
    IntArray,
)

PIPELINE_VERSION: Final = "2"
DAYAHEAD: Final = "dayahead"
INTRADAY: Final = "intraday"
TASKS: Final = (DAYAHEAD, INTRADAY)
FUNDAMENTAL_COLUMNS: Final = ("load_mw", "wind_mw", "solar_mw")
DEFAULT_HORIZONS: Final = (1, 5, 15, 60)

_CHUNK_CELLS: Final = 4_000_000  # window cells per compute chunk: bounds memory


class PipelineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What defines a feature pipeline; stored with every model it trained.

    Attributes:
        task: ``"dayahead"`` or ``"intraday"``.
        markets: the markets the model forecasts; each one's prices are also a
            regional input to the others (column order of the regional features).
        step_minutes: the grid step: 60 for hourly prices, 15 for quarter-hours.
        fundamentals: fundamentals columns used (subset of ``load_mw``,
            ``wind_mw``, ``solar_mw``); empty for price-only models.
        horizons: intraday: steps ahead to forecast.
        decision_time: day-ahead: local wall-clock time on D−1 when the forecast
            for D is made (before the auction at noon).
        timezone: day-ahead: the zone whose local days are the delivery days;
            also the zone of the calendar features.
    """

    task: str
    markets: tuple[str, ...]
    step_minutes: int = 60
    fundamentals: tuple[str, ...] = ()
    horizons: tuple[int, ...] = DEFAULT_HORIZONS
    decision_time: str = "10:00"
    timezone: str = "Europe/Brussels"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise FeatureError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        if not self.markets or len(set(self.markets)) != len(self.markets):
            raise FeatureError(f"markets must be a non-empty list without repeats: {self.markets}")
        if self.step_minutes not in STEP_MINUTES_ALLOWED:
            raise FeatureError(f"step_minutes must be one of {STEP_MINUTES_ALLOWED}")
        unknown = sorted(set(self.fundamentals) - set(FUNDAMENTAL_COLUMNS))
        if unknown:
            raise FeatureError(f"unknown fundamentals {unknown}; known: {FUNDAMENTAL_COLUMNS}")
        week = 7 * 24 * 60 // self.step_minutes
        if not self.horizons or any(not 0 < h < week for h in self.horizons):
            raise FeatureError(f"horizons must be 1..{week - 1} steps, got {self.horizons}")
        self.decision()  # validates
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError) as exc:
            raise FeatureError(f"unknown timezone {self.timezone!r}") from exc

    def decision(self) -> time:
        """The decision time as a ``time``."""
        try:
            hours, minutes = (int(part) for part in self.decision_time.split(":"))
            return time(hours, minutes)
        except ValueError as exc:
            raise FeatureError(f"decision_time must be HH:MM, got {self.decision_time!r}") from exc

    @property
    def steps_per_hour(self) -> int:
        return 60 // self.step_minutes

    @property
    def steps_per_day(self) -> int:
        return 24 * self.steps_per_hour

    @property
    def step_s(self) -> int:
        return self.step_minutes * 60


@dataclass(frozen=True, slots=True)
class FeatureBlock:
    """Feature rows and what each row is about.

    ``x[i]`` are the features (column order = the pipeline's ``names``);
    ``market[i]`` indexes the pipeline's markets; ``target_step`` is the absolute
    step forecast; ``origin_step`` the step the forecast is made at; ``level`` and
    ``scale`` map a normalised prediction back to EUR/MWh.
    """

    x: FloatArray
    market: IntArray
    target_step: IntArray
    origin_step: IntArray
    level: FloatArray
    scale: FloatArray

    def __len__(self) -> int:
        return len(self.x)

    def take(self, keep: np.ndarray) -> FeatureBlock:
        """The rows ``keep`` selects (a boolean mask or indices)."""
        return FeatureBlock(
            self.x[keep],
            self.market[keep],
            self.target_step[keep],
            self.origin_step[keep],
            self.level[keep],
            self.scale[keep],
        )

    @staticmethod
    def concat(blocks: Sequence[FeatureBlock], n_features: int) -> FeatureBlock:
        if not blocks:
            empty_i = np.zeros(0, dtype=np.int64)
            empty_f = np.zeros(0)
            return FeatureBlock(
                np.zeros((0, n_features)), empty_i, empty_i, empty_i, empty_f, empty_f
            )
        return FeatureBlock(
            np.concatenate([b.x for b in blocks]),
            np.concatenate([b.market for b in blocks]),
            np.concatenate([b.target_step for b in blocks]),
            np.concatenate([b.origin_step for b in blocks]),
            np.concatenate([b.level for b in blocks]),
            np.concatenate([b.scale for b in blocks]),
        )


class _Base:
    """What both tasks share: configuration, feature names, the target transform."""

    lookback_days: int = 14

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.markets = config.markets
        self.lookback_steps = self.lookback_days * config.steps_per_day
        self.names: tuple[str, ...] = ()

    def _check(self, history: History) -> None:
        if tuple(history.markets) != self.markets:
            raise FeatureError(
                f"history holds markets {list(history.markets)}, "
                f"the pipeline wants {list(self.markets)}"
            )

    def _fundamental_names(self) -> list[str]:
        dummy = np.zeros((1, 2, len(self.markets), len(self.config.fundamentals)))
        names, _ = _fundamental_features(
            dummy, self.config.fundamentals, np.array([1]), self.config.steps_per_day
        )
        return names

    def _chunk(self, n_markets_rows: int = 1) -> int:
        return max(_CHUNK_CELLS // (self.lookback_steps * len(self.markets) * n_markets_rows), 1)
