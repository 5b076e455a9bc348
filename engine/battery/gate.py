"""A battery at the day-ahead gate: what it knows of day D, and the day it commits.

The battery trading strategy (:mod:`engine.strategies.battery`) and the live
fleet (:class:`engine.battery.fleet.BatteryFleet`) both commit local delivery
day D once, just before D−1's gate closure, with the committed planner of
:mod:`engine.battery.commitment` (the perfect-foresight LP on a forecast). This module
is what they share:

- :class:`KnownPrices` — the prices seen so far, keyed by local delivery date
  and minute of the local day (Europe/Brussels: 23- and 25-hour days), and how
  far each day is known;
- :func:`day_forecast` — the forecast of D's periods from those prices:
  ``persistence`` is the most recent known price at the same local time of day
  (D−1 where D−1 is known by then, else D−2 …), ``weekly`` the price of D−7 at
  the same local time, persistence where D−7 is not known (the first week of
  a run: a battery trades from its second day on). A replay reveals a price
  only when its delivery starts, so at D−1 11:00 a strategy knows D−1 up to
  11:00 and persistence takes D−2 for D's afternoon; the live fleet holds
  every published price, so there it is D−1 throughout. An hour a
  spring-forward source day lacks takes the hour before it, as
  :func:`engine.battery.gate_forecast.lagged_forecast` does;
- :func:`commit_day` — the plan of D from the state of charge at the end of
  D−1's plan, carried forward plan to plan (never read from settlement);
- :func:`series_forecast` — the same forecast on a whole
  :class:`~engine.battery.price_series.PriceSeries`, made day by day from the steps
  known at each decision instant, so that ``run_committed`` on it plans exactly
  the days the strategy plans in a backtest (``tests/engine/test_battery_one_truth.py``).

Callers: the battery strategy, the battery fleet, the one-truth test, and any
evaluation that wants the backtest's information set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal
from zoneinfo import ZoneInfo

import numpy as np

from engine.battery.commitment import DayPlanner, GateClosureView
from engine.battery.controller import HISTORY_DAYS
from engine.battery.gate_forecast import DELIVERY_TIMEZONE, DeliveryDay
from engine.battery.physics import BatterySpec, BatteryStatus, step
from engine.battery.price_series import (
    US_PER_DAY,
    US_PER_MINUTE,
    FloatArray,
    PriceSeries,
    from_us,
    to_us,
)
from engine.market.timeline import MarketTimeline

ForecastKind = Literal["persistence", "weekly", "model"]
LocalKey = tuple[int, int]  # (proleptic ordinal of the local date, minute of the local day)

# How far back persistence looks for a known price at the same local time.
PERSISTENCE_DAYS: Final = 7
DECISION_LEAD: Final = timedelta(hours=1)  # DayAheadGate's default: the last hourly bar
_PERSISTENCE_LAGS: Final = tuple(range(1, PERSISTENCE_DAYS + 1))
_WEEKLY_LAGS: Final = (7, *range(1, 7))  # D−7, else the latest known day
_US_PER_HOUR: Final = 60 * US_PER_MINUTE


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=65_536)
def _local_hour(hour: int, timezone: str) -> tuple[int, int]:
    # Offsets change on the hour: one conversion per UTC hour (gate_forecast.local_keys' rule).
    local = datetime.fromtimestamp(hour * 3600, tz=_zone(timezone))
    return local.toordinal(), local.hour * 60


def local_key(start_us: int, timezone: str = DELIVERY_TIMEZONE) -> LocalKey:
    """Local date and minute of the local day of a period start (µs UTC)."""
    hour = start_us // _US_PER_HOUR
    ordinal, minute = _local_hour(hour, timezone)
    return ordinal, minute + (start_us - hour * _US_PER_HOUR) // US_PER_MINUTE


class KnownPrices:
    """Prices seen so far, by UTC start and by local key (the first price of a key wins).

    The first wins so that a fall-back day's repeated 02:00 is its first
    (summer-time) hour, as in :func:`engine.battery.gate_forecast.lagged_forecast`.
    """

    __slots__ = ("by_key", "by_us", "last_minute", "timezone")

    def __init__(self, timezone: str = DELIVERY_TIMEZONE) -> None:
        self.timezone = timezone
        self.by_us: dict[int, float] = {}
        self.by_key: dict[LocalKey, float] = {}
        self.last_minute: dict[int, int] = {}  # local date → latest minute known

    def add(self, start_us: int, price: float) -> None:
        if start_us in self.by_us:
            return  # a period is priced once (intraday ticks repeat)
        self.by_us[start_us] = price
        key = local_key(start_us, self.timezone)
        self.by_key.setdefault(key, price)
        day, minute = key
        if minute > self.last_minute.get(day, -1):
            self.last_minute[day] = minute

    def at(self, day: int, minute: int) -> float | None:
        """The price of local ``day`` at ``minute``; the hour before where the day lacks it."""
        found = self.by_key.get((day, minute))
        if found is None and minute >= 60 and self.last_minute.get(day, -1) >= minute:
            # The day is known past this minute yet lacks it: a spring-forward day.
            found = self.by_key.get((day, minute - 60))
        return found

    def forget_before(self, cutoff_us: int) -> None:
        """Drop what is older than ``cutoff_us`` (a week of history is all any forecast reads)."""
        for start in [s for s in self.by_us if s < cutoff_us]:
            del self.by_us[start]
        first_day = local_key(cutoff_us, self.timezone)[0]
        for key in [k for k in self.by_key if k[0] < first_day]:
            del self.by_key[key]
        for day in [d for d in self.last_minute if d < first_day]:
            del self.last_minute[day]


def day_forecast(
    known: KnownPrices,
    kind: ForecastKind,
    starts_us: Sequence[int],
    model: Mapping[int, float] | None = None,
) -> FloatArray:
    """The forecast of each period of D (NaN where nothing is known; module docstring).

    ``model`` maps period starts to a forecaster's prices (``kind="model"``);
    a period it lacks takes persistence.
    """
    out = np.full(len(starts_us), np.nan)
    for i, start in enumerate(starts_us):
        if kind == "model" and model is not None:
            guess = model.get(start)
            if guess is not None and np.isfinite(guess):
                out[i] = guess
                continue
        day, minute = local_key(start, known.timezone)
        lags = _WEEKLY_LAGS if kind == "weekly" else _PERSISTENCE_LAGS
        for lag in lags:
            found = known.at(day - lag, minute)
            if found is not None:
                out[i] = found
                break
    return out


def history_before(known: KnownPrices, start_us: int, step_minutes: int) -> FloatArray:
    """The week before ``start_us`` on the step grid: known prices, gaps carried forward.

    What a controller rolled over the forecast sees as the past
    (:class:`engine.battery.commitment.ControllerPlanner`); the LP does not read it.
    """
    step_us = step_minutes * US_PER_MINUTE
    count = HISTORY_DAYS * 24 * 60 // step_minutes
    values: list[float] = []
    last = float("nan")
    for k in range(count, 0, -1):
        found = known.by_us.get(start_us - k * step_us)
        if found is not None:
            last = found
        values.append(last)
    prices = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(prices)
    if not finite.any():
        return prices[:0]
    prices[: int(np.argmax(finite))] = prices[finite][0]  # before the first known: the first
    return prices


@dataclass(frozen=True, slots=True)
class CommittedDay:
    """One delivery day as committed: power and SoC after each period, per the plan."""

    day: date
    starts_us: tuple[int, ...]
    minutes: int
    power_mw: tuple[float, ...]
    soc_mwh: tuple[float, ...]
    planned: bool  # False: no forecast at all, the battery idles the day

    @property
    def dt_h(self) -> float:
        return self.minutes / 60.0


def commit_day(
    spec: BatterySpec,
    planner: DayPlanner,
    day: DeliveryDay,
    starts_us: Sequence[int],
    minutes: int,
    forecast: FloatArray,
    planned: BatteryStatus,
    history: FloatArray | None = None,
) -> CommittedDay:
    """Plan day D and step ``planned`` (the plan's state, updated in place) through it.

    As :func:`engine.battery.commitment.run_committed` does it, so a day plans the
    same here as there: a day with no finite forecast idles; NaN periods take
    the mean of the others; the committed power of each period is what
    :func:`engine.battery.physics.step` delivers of the plan from the plan's state.
    """
    times = np.asarray(starts_us, dtype=np.int64)
    utc_days = times // US_PER_DAY
    dt_h = minutes / 60.0
    values = np.asarray(forecast, dtype=np.float64).copy()
    finite = np.isfinite(values)
    power = np.zeros(len(times))
    if finite.any():
        values[~finite] = values[finite].mean()
        same_day = planned.day_number == int(utc_days[0])
        view = GateClosureView(
            spec=spec,
            day=day,
            step_minutes=minutes,
            times_us=times,
            history=history if history is not None else np.zeros(0),
            forecast=values,
            soc_mwh=planned.soc_mwh,
            discharged_today_mwh=planned.discharged_today_mwh if same_day else 0.0,
        )
        power = np.asarray(planner.plan(view), dtype=np.float64)
        if len(power) != len(times):
            raise ValueError(f"{planner.name} planned {len(power)} periods of {len(times)}")
    delivered: list[float] = []
    soc: list[float] = []
    for i in range(len(times)):
        result = step(spec, planned, float(power[i]), 0.0, dt_h, int(utc_days[i]))
        delivered.append(result.power_mw)
        soc.append(result.soc_mwh)
    return CommittedDay(
        day.day, tuple(times.tolist()), minutes, tuple(delivered), tuple(soc), bool(finite.any())
    )


def delivery_day(timeline: MarketTimeline, market: str, day: date) -> DeliveryDay:
    """The :class:`~engine.battery.gate_forecast.DeliveryDay` a planner is shown (steps 0..n)."""
    auction = timeline.day_ahead(market, day)
    minutes = timeline.mtu_minutes(market, day)
    steps = int((auction.delivery_end - auction.delivery_start) / timedelta(minutes=minutes))
    return DeliveryDay(day, 0, steps, to_us(auction.gate_closure))


def series_forecast(
    series: PriceSeries,
    kind: Literal["persistence", "weekly"],
    timeline: MarketTimeline | None = None,
    lead: timedelta = DECISION_LEAD,
) -> FloatArray:
    """:func:`day_forecast` for every step of ``series``, as a backtest's strategy makes it.

    Day D's values are made from the steps that start at or before D−1's gate
    closure minus ``lead`` (the strategy's decision bar), nothing later.
    """
    market_timeline = timeline or MarketTimeline()
    rules = market_timeline.rules(series.market)
    known = KnownPrices(rules.delivery_timezone or rules.timezone)
    times = series.times_us().tolist()
    prices = series.prices.tolist()
    out = np.full(len(series), np.nan)
    added = 0
    index = 0
    while index < len(times):
        day = market_timeline.delivery_day(series.market, from_us(times[index]))
        _, end = market_timeline.day_bounds(series.market, day)
        end_us = to_us(end)
        stop = index
        while stop < len(times) and times[stop] < end_us:
            stop += 1
        cut = to_us(market_timeline.day_ahead(series.market, day).gate_closure - lead)
        while added < len(times) and times[added] <= cut:
            known.add(times[added], prices[added])
            added += 1
        out[index:stop] = day_forecast(known, kind, times[index:stop])
        index = stop
    return out


__all__ = [
    "DECISION_LEAD",
    "CommittedDay",
    "ForecastKind",
    "KnownPrices",
    "commit_day",
    "day_forecast",
    "delivery_day",
    "history_before",
    "local_key",
    "series_forecast",
]
