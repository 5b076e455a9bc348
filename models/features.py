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

Bump :data:`PIPELINE_VERSION` whenever a feature's definition changes: models
record it, and the forecaster refuses a model made by another version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import numpy.typing as npt

from models.holidays import is_holiday
from models.price_grid import (
    STEP_MINUTES_ALLOWED,
    FeatureError,
    FloatArray,
    History,
    IntArray,
    step_of,
)

BoolArray = npt.NDArray[np.bool_]

PIPELINE_VERSION: Final = "1"
DAYAHEAD: Final = "dayahead"
INTRADAY: Final = "intraday"
TASKS: Final = (DAYAHEAD, INTRADAY)
FUNDAMENTAL_COLUMNS: Final = ("load_mw", "wind_mw", "solar_mw")
DEFAULT_HORIZONS: Final = (1, 5, 15, 60)

_MAD_TO_SIGMA: Final = 1.4826
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_FILL_DAYS: Final = 7
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


# -- window arithmetic ----------------------------------------------------------------


def _ffill(values: FloatArray) -> FloatArray:
    """Forward-fill NaN along axis 1 of ``[n, L, M]``."""
    length = values.shape[1]
    positions = np.arange(length, dtype=np.int64)[None, :, None]
    index = np.where(np.isnan(values), 0, positions)
    np.maximum.accumulate(index, axis=1, out=index)
    return np.take_along_axis(values, index, axis=1)


def _bfill(values: FloatArray) -> FloatArray:
    return _ffill(values[:, ::-1])[:, ::-1]


def fill_window(prices: FloatArray, steps_per_day: int) -> FloatArray:
    """Fill the gaps of ``[n, L, M]`` price windows (see the module docstring)."""
    filled = prices.copy()
    length = filled.shape[1]
    for days_back in range(1, _FILL_DAYS + 1):
        shift = days_back * steps_per_day
        missing = np.isnan(filled)
        if shift >= length or not missing.any():
            break
        earlier = np.full_like(filled, np.nan)
        earlier[:, shift:] = filled[:, :-shift]
        filled = np.where(missing, earlier, filled)
    if np.isnan(filled).any():
        filled = _bfill(_ffill(filled))
    missing = np.isnan(filled)
    if missing.any():  # a market without any data in the window: the others' mean
        known = ~missing
        total = np.where(known, filled, 0.0).sum(axis=2)
        count = known.sum(axis=2)
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        filled = np.where(missing, mean[:, :, None], filled)
    return filled


def _norm_stats(filled: FloatArray, steps_per_day: int) -> tuple[FloatArray, FloatArray]:
    """Level (mean of the last day) and scale (robust spread of the last week): ``[n, M]``."""
    day = filled[:, -steps_per_day:, :]
    week = filled[:, -7 * steps_per_day :, :]
    level = day.mean(axis=1)
    median = np.median(week, axis=1)
    mad = np.median(np.abs(week - median[:, None, :]), axis=1)
    # A floor keeps flat stretches (a week at one price) from exploding the transform.
    scale = np.maximum(_MAD_TO_SIGMA * mad, 1.0 + 0.05 * np.abs(level))
    return level, scale


def to_normalised(values: FloatArray, level: FloatArray, scale: FloatArray) -> FloatArray:
    return np.arcsinh((values - level) / scale)


def to_price(values: FloatArray, level: FloatArray, scale: FloatArray) -> FloatArray:
    return level + scale * np.sinh(values)


@lru_cache(maxsize=1 << 17)
def _utc_offset_s(timezone: str, utc_hour: int) -> int:
    """Seconds ``timezone`` is ahead of UTC during the UTC hour ``utc_hour`` (since the epoch)."""
    offset = datetime.fromtimestamp(utc_hour * 3600, tz=ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _local_calendar(
    steps: IntArray, step_s: int, timezone: str
) -> tuple[FloatArray, IntArray, IntArray]:
    """Local hour of day (fractional), weekday (0 = Monday) and local day number
    (days since 1970-01-01) of step starts. Plain integer arithmetic on cached UTC
    offsets: this runs on every live forecast, where pandas' tz machinery costs
    milliseconds."""
    seconds = steps.astype(np.int64) * step_s
    utc_hours, where = np.unique(seconds // 3600, return_inverse=True)
    offsets = np.array([_utc_offset_s(timezone, int(h)) for h in utc_hours], dtype=np.int64)
    local = seconds + offsets[where.reshape(seconds.shape)]
    day_number = local // 86_400
    hours = (local - day_number * 86_400) / 3600.0
    weekday = (day_number + 3) % 7  # 1970-01-01 was a Thursday
    return hours, weekday, day_number


def _holidays(market: str, days: Sequence[date] | IntArray) -> FloatArray:
    """1.0 where a day (a ``date`` or a local day number) is a public holiday of ``market``."""
    cache: dict[object, float] = {}
    out = np.empty(len(days))
    for i, day in enumerate(days.tolist() if isinstance(days, np.ndarray) else days):
        if day not in cache:
            as_date = day if isinstance(day, date) else date.fromordinal(_EPOCH_ORDINAL + day)
            cache[day] = 1.0 if is_holiday(market, as_date) else 0.0
        out[i] = cache[day]
    return out


def _fundamental_features(
    fund: FloatArray, names: Sequence[str], cut: IntArray, steps_per_day: int
) -> tuple[list[str], FloatArray]:
    """Last value and mean of the day before ``cut`` (exclusive), per market: ``[n, M, F]``.

    Raises:
        FeatureError: a fundamental has no value at all in that day.
    """
    n, length, n_markets, _ = fund.shape
    positions = np.arange(length)[None, :]
    known = (positions < cut[:, None]) & (positions >= cut[:, None] - steps_per_day)
    masked = np.where(known[:, :, None, None], fund, np.nan)
    valid = np.isfinite(masked)
    count = valid.sum(axis=1)  # [n, M, K]
    mean = np.where(valid, masked, 0.0).sum(axis=1) / np.maximum(count, 1)
    last = _ffill(masked.reshape(n, length, -1)).reshape(masked.shape)
    last_index = np.clip(cut - 1, 0, length - 1)
    last_value = last[np.arange(n), last_index]  # [n, M, K]
    names_out: list[str] = []
    columns: list[FloatArray] = []
    for k, name in enumerate(names):
        stem = name.removesuffix("_mw")
        names_out += [f"{stem}_last_mw", f"{stem}_mean24_mw"]
        columns += [last_value[:, :, k], np.where(count[:, :, k] > 0, mean[:, :, k], np.nan)]
    if {"load_mw", "wind_mw", "solar_mw"} <= set(names):
        load, wind, solar = (list(names).index(c) for c in ("load_mw", "wind_mw", "solar_mw"))
        for label, source in (("last", last_value), ("mean24", mean)):
            share = (source[:, :, wind] + source[:, :, solar]) / np.maximum(source[:, :, load], 1.0)
            names_out.append(f"renewables_share_{label}")
            columns.append(share)
    stacked = np.stack(columns, axis=2) if columns else np.zeros((n, n_markets, 0))
    return names_out, stacked


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


class DayAheadPipeline(_Base):
    """Features for the day-ahead task; one row per market and delivery step of day D."""

    lookback_days = 14
    own_lags_days: Final = (1, 2, 3, 7)

    def __init__(self, config: PipelineConfig) -> None:
        if config.task != DAYAHEAD:
            raise FeatureError(f"DayAheadPipeline needs task {DAYAHEAD!r}, got {config.task!r}")
        super().__init__(config)
        self.zone = ZoneInfo(config.timezone)
        self.max_steps_per_day = 25 * config.steps_per_hour
        names = [f"market_{m}" for m in self.markets]
        names += ["local_hour", "weekday", "holiday", "holiday_before"]
        names += [f"own_d{k}" for k in self.own_lags_days]
        names += ["own_last", "own_d1_mean", "own_d1_min", "own_d1_max", "own_week_mean"]
        names += [f"region_{m}_d1" for m in self.markets]
        names += [f"region_{m}_d1_mean" for m in self.markets]
        names += ["level_eur_mwh", "scale_eur_mwh"]
        names += self._fundamental_names()
        self.names = tuple(names)

    # Delivery days in local time and their UTC steps.
    def day_bounds(self, day: date) -> tuple[int, int]:
        """First step of local day ``day`` and the first step after it."""
        step_s = self.config.step_s
        start = datetime.combine(day, time(), tzinfo=self.zone).timestamp()
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone).timestamp()
        return int(start) // step_s, int(end) // step_s

    def decision_at(self, day: date) -> datetime:
        """When the forecast for delivery day ``day`` is made (UTC)."""
        local = datetime.combine(day - timedelta(days=1), self.config.decision(), tzinfo=self.zone)
        return local.astimezone(UTC)

    def local_day(self, when: datetime) -> date:
        return when.astimezone(self.zone).date()

    def days_between(self, first: date, last: date) -> list[date]:
        """Every local day from ``first`` to ``last`` inclusive."""
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def compute(self, history: History, days: Sequence[date]) -> FeatureBlock:
        """Feature rows for the delivery days ``days``, as known at each one's decision time."""
        self._check(history)
        chunk = self._chunk()
        blocks = [self._compute(history, days[i : i + chunk]) for i in range(0, len(days), chunk)]
        return FeatureBlock.concat(blocks, len(self.names))

    def _compute(self, history: History, days: Sequence[date]) -> FeatureBlock:
        cfg = self.config
        per_day = cfg.steps_per_day
        n, n_markets, length = len(days), len(self.markets), self.lookback_steps
        bounds = np.array([self.day_bounds(d) for d in days], dtype=np.int64).reshape(n, 2)
        day_start, day_end = bounds[:, 0], bounds[:, 1]
        decision = np.array(
            [step_of(self.decision_at(d), cfg.step_minutes) for d in days], dtype=np.int64
        )
        raw, fund = history.windows(day_start - 1, length)
        observed_d1 = np.isfinite(raw[:, -per_day:, :]).sum(axis=1)  # [n, M]
        prices = fill_window(raw, per_day)
        level, scale = _norm_stats(prices, per_day)  # [n, M]

        slots = self.max_steps_per_day
        slot = np.arange(slots, dtype=np.int64)
        target = day_start[:, None] + slot[None, :]  # [n, S]
        in_day = target < day_end[:, None]

        def at(offset_steps: int) -> FloatArray:
            """Prices at target − offset, clipped to the window end: ``[n, S, M]``."""
            index = np.minimum(length + slot - offset_steps, length - 1)
            index = np.maximum(index, 0)
            return prices[:, index, :]

        d1_block = prices[:, -per_day:, :]
        d1_mean, d1_min, d1_max = d1_block.mean(axis=1), d1_block.min(axis=1), d1_block.max(axis=1)
        week_mean = prices[:, -7 * per_day :, :].mean(axis=1)
        last = prices[:, -1, :]
        lag_d1 = at(per_day)
        lags = [lag_d1] + [at(k * per_day) for k in self.own_lags_days[1:]]

        hours, _, _ = _local_calendar(target, cfg.step_s, cfg.timezone)
        weekday = np.array([d.weekday() for d in days], dtype=np.float64)
        if fund.shape[-1]:
            cut = decision - (day_start - length)
            _, fund_features = _fundamental_features(fund, cfg.fundamentals, cut, per_day)
        else:
            fund_features = np.zeros((n, n_markets, 0))

        blocks: list[FeatureBlock] = []
        for m, market in enumerate(self.markets):
            ok_day = observed_d1[:, m] * 2 >= per_day
            rows = in_day & ok_day[:, None]
            if not rows.any():
                continue
            lv = np.broadcast_to(level[:, m, None], (n, slots))
            sc = np.broadcast_to(scale[:, m, None], (n, slots))

            def z(values: FloatArray, lv: FloatArray = lv, sc: FloatArray = sc) -> FloatArray:
                return to_normalised(values, lv, sc)

            def per_day_value(values: FloatArray) -> FloatArray:
                return np.broadcast_to(values[:, None], (n, slots))

            holiday = _holidays(market, days)
            holiday_before = _holidays(market, [d - timedelta(days=1) for d in days])
            columns: list[FloatArray] = [
                np.full((n, slots), 1.0 if j == m else 0.0) for j in range(n_markets)
            ]
            columns += [
                hours,
                per_day_value(weekday),
                per_day_value(holiday),
                per_day_value(holiday_before),
            ]
            columns += [z(lag[:, :, m]) for lag in lags]
            columns += [
                z(per_day_value(last[:, m])),
                z(per_day_value(d1_mean[:, m])),
                z(per_day_value(d1_min[:, m])),
                z(per_day_value(d1_max[:, m])),
                z(per_day_value(week_mean[:, m])),
            ]
            columns += [z(lag_d1[:, :, j]) for j in range(n_markets)]
            columns += [z(per_day_value(d1_mean[:, j])) for j in range(n_markets)]
            columns += [lv, sc]
            columns += [
                per_day_value(fund_features[:, m, k]) for k in range(fund_features.shape[2])
            ]
            # Rows without the fundamentals the model needs are left out: no forecast.
            if fund_features.shape[2]:
                has_fundamentals = ~np.isnan(fund_features[:, m, :]).any(axis=1)
                rows = rows & has_fundamentals.reshape(n, 1)
            x = np.stack(columns, axis=2)[rows]
            blocks.append(
                FeatureBlock(
                    x=x,
                    market=np.full(int(rows.sum()), m, dtype=np.int64),
                    target_step=target[rows],
                    origin_step=np.broadcast_to(decision[:, None], (n, slots))[rows],
                    level=lv[rows],
                    scale=sc[rows],
                )
            )
        return FeatureBlock.concat(blocks, len(self.names))


class IntradayPipeline(_Base):
    """Features for the intraday task: one row per market after each closed step."""

    lookback_days = 10

    def __init__(self, config: PipelineConfig) -> None:
        if config.task != INTRADAY:
            raise FeatureError(f"IntradayPipeline needs task {INTRADAY!r}, got {config.task!r}")
        super().__init__(config)
        sph = config.steps_per_hour
        self.own_lags = tuple(sorted({0, 1, 2, 3, 6 * sph, 12 * sph}))
        names = [f"market_{m}" for m in self.markets]
        names += ["local_hour", "target_local_hour", "target_weekday", "target_holiday"]
        names += [f"own_lag{k}" for k in self.own_lags]
        names += ["own_target_day_before", "own_target_week_before"]
        names += ["own_mean24", "own_std24", "own_min24", "own_max24", "own_mean168"]
        names += [f"region_{m}_now" for m in self.markets]
        names += [f"region_{m}_mean24" for m in self.markets]
        names += ["level_eur_mwh", "scale_eur_mwh"]
        names += self._fundamental_names()
        self.names = tuple(names)

    def compute(self, history: History, end_steps: IntArray, horizon: int) -> FeatureBlock:
        """Feature rows for ``horizon`` steps ahead of each closed step in ``end_steps``."""
        self._check(history)
        if horizon not in self.config.horizons:
            raise FeatureError(f"horizon {horizon} is not one of {self.config.horizons}")
        chunk = self._chunk()
        blocks = [
            self._compute(history, end_steps[i : i + chunk], horizon)
            for i in range(0, len(end_steps), chunk)
        ]
        return FeatureBlock.concat(blocks, len(self.names))

    def _compute(self, history: History, end_steps: IntArray, horizon: int) -> FeatureBlock:
        cfg = self.config
        per_day = cfg.steps_per_day
        n, n_markets, length = len(end_steps), len(self.markets), self.lookback_steps
        raw, fund = history.windows(end_steps, length)
        observed_now = np.isfinite(raw[:, -1, :])  # [n, M]
        prices = fill_window(raw, per_day)
        level, scale = _norm_stats(prices, per_day)
        last_day = prices[:, -per_day:, :]
        mean24, std24 = last_day.mean(axis=1), last_day.std(axis=1)
        min24, max24 = last_day.min(axis=1), last_day.max(axis=1)
        mean168 = prices[:, -7 * per_day :, :].mean(axis=1)
        days_back = -(-horizon // per_day)
        target_day_before = prices[:, length - 1 + horizon - days_back * per_day, :]
        target_week_before = prices[:, length - 1 + horizon - 7 * per_day, :]

        target = end_steps + horizon
        now_hour, _, _ = _local_calendar(end_steps, cfg.step_s, cfg.timezone)
        target_hour, target_weekday, target_days = _local_calendar(target, cfg.step_s, cfg.timezone)
        if fund.shape[-1]:
            cut = np.full(n, length, dtype=np.int64)
            _, fund_features = _fundamental_features(fund, cfg.fundamentals, cut, per_day)
        else:
            fund_features = np.zeros((n, n_markets, 0))

        blocks: list[FeatureBlock] = []
        for m, market in enumerate(self.markets):
            rows = observed_now[:, m]
            if not rows.any():
                continue
            lv, sc = level[:, m], scale[:, m]

            def z(values: FloatArray, lv: FloatArray = lv, sc: FloatArray = sc) -> FloatArray:
                return to_normalised(values, lv, sc)

            columns: list[FloatArray] = [
                np.full(n, 1.0 if j == m else 0.0) for j in range(n_markets)
            ]
            columns += [
                now_hour,
                target_hour,
                target_weekday.astype(np.float64),
                _holidays(market, target_days),
            ]
            columns += [z(prices[:, length - 1 - k, m]) for k in self.own_lags]
            columns += [z(target_day_before[:, m]), z(target_week_before[:, m])]
            columns += [
                z(mean24[:, m]),
                std24[:, m] / sc,
                z(min24[:, m]),
                z(max24[:, m]),
                z(mean168[:, m]),
            ]
            columns += [z(prices[:, -1, j]) for j in range(n_markets)]
            columns += [z(mean24[:, j]) for j in range(n_markets)]
            columns += [lv, sc]
            columns += [fund_features[:, m, k] for k in range(fund_features.shape[2])]
            if fund_features.shape[2]:
                rows = rows & ~np.isnan(fund_features[:, m, :]).any(axis=1)
            x = np.stack(columns, axis=1)[rows]
            count = int(rows.sum())
            blocks.append(
                FeatureBlock(
                    x=x,
                    market=np.full(count, m, dtype=np.int64),
                    target_step=target[rows],
                    origin_step=end_steps[rows],
                    level=lv[rows],
                    scale=sc[rows],
                )
            )
        return FeatureBlock.concat(blocks, len(self.names))


Pipeline = DayAheadPipeline | IntradayPipeline


def make_pipeline(config: PipelineConfig) -> Pipeline:
    """The pipeline of ``config.task``."""
    if config.task == DAYAHEAD:
        return DayAheadPipeline(config)
    return IntradayPipeline(config)


def capacity_steps(pipeline: Pipeline) -> int:
    """Ring-buffer size a live grid needs: the lookback plus room for published future days."""
    return pipeline.lookback_steps + 3 * pipeline.config.steps_per_day
