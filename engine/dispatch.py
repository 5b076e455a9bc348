"""Battery dispatch: what is known at decision time, who decides, and the step loop.

This module owns the information set and the loop that every battery policy runs
in, so that the rule, the MPC and the RL policy are judged on exactly the same
terms:

- :class:`PriceSeries` — a market's prices on a regular grid (gaps filled);
- :class:`AuctionRule` — when day-ahead prices become known: all of day D's
  prices are published after the noon auction on D−1 (SDAC results at ~12:45
  CET; from the 13:00 local step on, tomorrow is known);
- :class:`DecisionContext` — what a controller may look at: the last week of
  prices and the published ones from now on, nothing later (a backtest hands it
  a slice that ends at the last published step, so peeking is impossible);
- :class:`Controller` — ``decide(context) -> MW``; the rule
  (:mod:`engine.rule`), the MPC (:mod:`engine.mpc`) and :class:`PolicyController`
  (an RL policy behind the :class:`~engine.ports.Policy` port) implement it;
- :func:`run_controller` — a backtest of one controller on one series;
- :class:`BatteryFleet` — the live kernel component: keeps the published
  day-ahead prices of each market, dispatches every battery when its delivery
  step starts and emits :class:`~engine.events.BatteryState` events.

Callers: ``gridtui eval battery``, ``bench/battery_eval.py``, the gymnasium
environment in ``models/battery_env.py`` and ``gridtui.wiring``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from engine.battery import BatterySpec, BatteryStatus, DispatchLog, StepResult, step
from engine.events import BatteryState, Event, PriceKind, PriceTick
from engine.ports import Policy

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

US_PER_MINUTE: Final = 60_000_000
US_PER_DAY: Final = 86_400_000_000
HISTORY_DAYS: Final = 7  # days of past prices a controller sees
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """A tz-aware datetime → microseconds since the epoch (UTC)."""
    if moment.tzinfo is None:
        raise ValueError("battery dispatch needs tz-aware timestamps (UTC)")
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """One market's prices on a regular grid of ``step_minutes``, starting at ``start_us``.

    ``filled`` marks steps that were missing from the source and filled in by
    :meth:`from_points` (the real data lacks a few whole days and the DST hours).
    """

    market: str
    start_us: int
    step_minutes: int
    prices: FloatArray
    filled: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.prices)

    @property
    def step_us(self) -> int:
        return self.step_minutes * US_PER_MINUTE

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0

    @property
    def steps_per_day(self) -> int:
        return (24 * 60) // self.step_minutes

    def times_us(self) -> IntArray:
        return self.start_us + np.arange(len(self.prices), dtype=np.int64) * self.step_us

    def day_numbers(self) -> IntArray:
        """UTC day (days since the epoch) of each step: what the cycle cap counts in."""
        return self.times_us() // US_PER_DAY

    def window(self, start: int, stop: int) -> PriceSeries:
        return PriceSeries(
            market=self.market,
            start_us=self.start_us + start * self.step_us,
            step_minutes=self.step_minutes,
            prices=self.prices[start:stop],
            filled=self.filled[start:stop],
        )

    @classmethod
    def from_points(
        cls,
        market: str,
        times_us: Sequence[int] | IntArray,
        prices: Sequence[float] | FloatArray,
        step_minutes: int = 60,
    ) -> PriceSeries:
        """Put (time, price) points on a regular grid and fill the gaps.

        A missing step takes the price one day earlier (or later, at the very
        start), else the last price before it: a whole missing day becomes a
        copy of its neighbour, which keeps the daily shape every policy
        trades on. Duplicated steps keep their mean.
        """
        times = np.asarray(times_us, dtype=np.int64)
        values = np.asarray(prices, dtype=np.float64)
        if len(times) == 0:
            raise ValueError(f"{market}: no prices")
        step_us = step_minutes * US_PER_MINUTE
        start = int(times.min()) // step_us * step_us
        index = (times - start) // step_us
        n = int(index.max()) + 1
        sums = np.bincount(index, weights=values, minlength=n)
        counts = np.bincount(index, minlength=n)
        grid = np.full(n, np.nan)
        present = counts > 0
        grid[present] = sums[present] / counts[present]
        filled = ~present
        day = (24 * 60) // step_minutes
        for shift in (day, -day):
            gap = np.isnan(grid)
            if not gap.any():
                break
            source = np.arange(n) - shift
            ok = gap & (source >= 0) & (source < n)
            ok[ok] &= ~np.isnan(grid[source[ok]])
            grid[ok] = grid[source[ok]]
        if np.isnan(grid).any():
            last = np.maximum.accumulate(np.where(np.isnan(grid), 0, np.arange(n)))
            grid = grid[last]
        return cls(market, start, step_minutes, grid, filled)


@dataclass(frozen=True, slots=True)
class AuctionRule:
    """When a day-ahead price becomes known.

    Attributes:
        timezone: the auction's local time (delivery days are local days).
        publication_hour: local hour of the first decision that knows the next
            delivery day. SDAC closes at 12:00 CET and publishes at about 12:45,
            so 13 by default.
    """

    timezone: str = "Europe/Brussels"
    publication_hour: int = 13

    def known_end(self, series: PriceSeries) -> IntArray:
        """For each step t, the index one past the last price published at t's start."""
        return self.known_end_for(series.times_us())

    def known_end_for(self, times_us: IntArray) -> IntArray:
        zone = ZoneInfo(self.timezone)
        # One tz conversion per hour is plenty (offsets change on the hour).
        hours = times_us // (60 * US_PER_MINUTE)
        unique_hours, inverse = np.unique(hours, return_inverse=True)
        local_day = np.empty(len(unique_hours), dtype=np.int64)
        local_hour = np.empty(len(unique_hours), dtype=np.int64)
        for i, hour in enumerate(unique_hours.tolist()):
            local = datetime.fromtimestamp(hour * 3600, tz=zone)
            local_day[i] = local.toordinal()
            local_hour[i] = local.hour
        delivery_day = local_day[inverse]
        last_known_day = delivery_day + (local_hour[inverse] >= self.publication_hour)
        # Delivery days are non-decreasing along the series.
        return np.searchsorted(delivery_day, last_known_day, side="right").astype(np.int64)

    def last_known_us(self, now_us: int) -> int:
        """The end (exclusive, epoch µs) of the last delivery day published at ``now_us``."""
        zone = ZoneInfo(self.timezone)
        local = datetime.fromtimestamp(now_us / 1e6, tz=zone)
        days_ahead = 2 if local.hour >= self.publication_hour else 1
        end_local = datetime.combine(
            local.date() + timedelta(days=days_ahead), datetime.min.time(), tzinfo=zone
        )
        return to_us(end_local.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """Everything a controller may know when it decides one step.

    ``prices[:now]`` are past prices (up to :data:`HISTORY_DAYS`), ``prices[now]``
    is the price of the step being decided (a day-ahead price, known), and
    ``prices[now + 1:]`` are the published future prices — nothing beyond the
    last published step is in the array.
    """

    spec: BatterySpec
    soc_mwh: float
    discharged_today_mwh: float
    step_us: int
    step_minutes: int
    prices: FloatArray
    now: int

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0

    @property
    def steps_per_day(self) -> int:
        return (24 * 60) // self.step_minutes

    @property
    def known_steps(self) -> int:
        """Published steps from now on, this one included."""
        return len(self.prices) - self.now

    @property
    def day_number(self) -> int:
        return self.step_us // US_PER_DAY


class Controller(Protocol):
    """Decides a battery's power for one step from what is known then."""

    @property
    def name(self) -> str: ...

    def decide(self, context: DecisionContext) -> float:
        """The set-point in MW (> 0 discharges). The battery clips it to what is feasible."""
        ...


def seasonal_naive(context: DecisionContext, steps: int) -> FloatArray:
    """Prices for ``steps`` steps from now: published ones, then the last published day repeated.

    The naive seasonal forecast of a day-ahead curve: the step one day earlier
    (two days, …) that is already known. It keeps the daily shape, which is what
    a battery trades on, and needs no model.
    """
    prices = context.prices
    known = len(prices)
    wanted = context.now + np.arange(steps)
    period = context.steps_per_day
    beyond = np.maximum(wanted - (known - 1), 0)
    source = wanted - period * ((beyond + period - 1) // period)
    source = np.clip(source, 0, known - 1)
    return np.asarray(prices[source], dtype=np.float64)


class PolicyController:
    """An RL policy behind the :class:`~engine.ports.Policy` port, as a controller.

    The policy sees the observation of :mod:`engine.battery_obs` and answers a
    fraction of rated power in [−1, 1]; anything outside is clipped here.
    """

    def __init__(self, policy: Policy) -> None:
        from engine.battery_obs import build_observation

        self.policy = policy
        self._build = build_observation

    @property
    def name(self) -> str:
        return f"rl:{self.policy.policy_id}"

    def decide(self, context: DecisionContext) -> float:
        action = self.policy.act(self._build(context))
        if not math.isfinite(action):
            return 0.0
        return min(max(action, -1.0), 1.0) * context.spec.power_mw


@dataclass(slots=True)
class DispatchRun:
    """One controller's run over one series."""

    controller: str
    status: BatteryStatus
    log: DispatchLog

    @property
    def net_revenue_eur(self) -> float:
        return self.status.net_revenue_eur


def context_at(
    spec: BatterySpec, series: PriceSeries, known_end: IntArray, t: int, status: BatteryStatus
) -> DecisionContext:
    """The context of step ``t`` of a backtest: a week back, up to the last published step."""
    start = max(t - HISTORY_DAYS * series.steps_per_day, 0)
    step_us = series.start_us + t * series.step_us
    same_day = status.day_number == step_us // US_PER_DAY
    return DecisionContext(
        spec=spec,
        soc_mwh=status.soc_mwh,
        discharged_today_mwh=status.discharged_today_mwh if same_day else 0.0,
        step_us=step_us,
        step_minutes=series.step_minutes,
        prices=series.prices[start : max(int(known_end[t]), t + 1)],
        now=t - start,
    )


def run_controller(
    spec: BatterySpec,
    series: PriceSeries,
    controller: Controller,
    rule: AuctionRule | None = None,
    *,
    known_end: IntArray | None = None,
) -> DispatchRun:
    """Backtest ``controller`` on ``series``: decide, clip, settle, step by step."""
    ends = known_end if known_end is not None else (rule or AuctionRule()).known_end(series)
    days = series.day_numbers()
    status = BatteryStatus.initial(spec, int(days[0]) if len(days) else 0)
    record = DispatchLog()
    for t in range(len(series)):
        context = context_at(spec, series, ends, t, status)
        requested = controller.decide(context)
        record.add(
            step(spec, status, requested, float(series.prices[t]), series.dt_h, int(days[t]))
        )
    return DispatchRun(controller.name, status, record)


@dataclass(slots=True)
class BatteryUnit:
    """One battery of a fleet: its spec, its controller, what it holds."""

    spec: BatterySpec
    controller: Controller
    status: BatteryStatus | None = None
    last_step_us: int | None = None


@dataclass(slots=True)
class _PriceBook:
    """Published day-ahead prices of one market, bucketed into dispatch steps."""

    step_us: int
    sums: dict[int, float] = field(default_factory=dict)
    minutes: dict[int, float] = field(default_factory=dict)

    def add(self, tick: PriceTick) -> None:
        start = to_us(tick.ts)
        length = (tick.delivery_minutes or 60) * US_PER_MINUTE
        # A delivery period may be shorter (15 min into an hour) or longer
        # (an hourly price spread over quarter-hour steps) than a step.
        at = start
        while at < start + length:
            bucket = at // self.step_us * self.step_us
            until = min(start + length, bucket + self.step_us)
            share = (until - at) / US_PER_MINUTE
            self.sums[bucket] = self.sums.get(bucket, 0.0) + tick.price_eur_mwh * share
            self.minutes[bucket] = self.minutes.get(bucket, 0.0) + share
            at = until

    def price(self, bucket: int) -> float | None:
        minutes = self.minutes.get(bucket)
        if minutes is None or minutes * US_PER_MINUTE < self.step_us - 1:
            return None  # not all of the step is published yet
        return self.sums[bucket] / minutes

    def window(self, now_us: int, history_steps: int) -> tuple[FloatArray, int] | None:
        """Past and published prices around ``now_us``: (prices, index of now)."""
        if self.price(now_us) is None:
            return None
        past: list[float] = []
        for k in range(history_steps, 0, -1):
            value = self.price(now_us - k * self.step_us)
            if value is not None:
                past.append(value)
            elif past:
                past.append(past[-1])
        future: list[float] = []
        at = now_us
        while (value := self.price(at)) is not None:
            future.append(value)
            at += self.step_us
        return np.asarray(past + future, dtype=np.float64), len(past)

    def forget_before(self, cutoff_us: int) -> None:
        for bucket in [b for b in self.sums if b < cutoff_us]:
            del self.sums[bucket], self.minutes[bucket]


class BatteryFleet:
    """The kernel component that runs a fleet of batteries on day-ahead prices.

    Each battery trades the day-ahead prices of its own market. When a delivery
    step of ``step_minutes`` starts (on the engine's clock) and its price is
    published, every battery asks its controller for a set-point, is stepped
    through :func:`engine.battery.step` and emits a
    :class:`~engine.events.BatteryState` with its cumulative net revenue. A step
    without a published price is skipped (the battery idles). After a jump in
    time (a fast replay) the missed steps are dispatched in order, at most a day
    of them.
    """

    name = "batteries"

    def __init__(self, units: Sequence[BatteryUnit], *, step_minutes: int = 60) -> None:
        ids = [unit.spec.battery_id for unit in units]
        if len(set(ids)) != len(ids):
            raise ValueError(f"battery ids must be unique, got {ids}")
        self.units = list(units)
        self.step_minutes = step_minutes
        self.step_us = step_minutes * US_PER_MINUTE
        self.books: Mapping[str, _PriceBook] = {
            unit.spec.market: _PriceBook(self.step_us) for unit in units
        }
        self.history_steps = HISTORY_DAYS * (24 * 60) // step_minutes

    def on_events(self, events: Sequence[Event], now: datetime) -> Sequence[Event]:
        for event in events:
            if (
                isinstance(event, PriceTick)
                and event.kind is PriceKind.DAY_AHEAD
                and event.market in self.books
            ):
                self.books[event.market].add(event)
        return self._advance(now)

    def on_timer(self, now: datetime) -> Sequence[Event]:
        return self._advance(now)

    def _advance(self, now: datetime) -> list[Event]:
        current = to_us(now) // self.step_us * self.step_us
        out: list[Event] = []
        for unit in self.units:
            first = current if unit.last_step_us is None else unit.last_step_us + self.step_us
            first = max(first, current - US_PER_DAY + self.step_us)
            for step_us in range(first, current + 1, self.step_us):
                event = self._dispatch(unit, step_us)
                if event is not None:
                    out.append(event)
            unit.last_step_us = current
        for book in self.books.values():
            book.forget_before(current - 2 * HISTORY_DAYS * US_PER_DAY)
        return out

    def _dispatch(self, unit: BatteryUnit, step_us: int) -> BatteryState | None:
        spec = unit.spec
        window = self.books[spec.market].window(step_us, self.history_steps)
        if window is None:
            return None
        prices, now_index = window
        day = step_us // US_PER_DAY
        if unit.status is None:
            unit.status = BatteryStatus.initial(spec, day)
        status = unit.status
        if day != status.day_number:  # a new UTC day: a fresh cycle budget
            status.day_number, status.discharged_today_mwh = day, 0.0
        context = DecisionContext(
            spec=spec,
            soc_mwh=status.soc_mwh,
            discharged_today_mwh=status.discharged_today_mwh,
            step_us=step_us,
            step_minutes=self.step_minutes,
            prices=prices,
            now=now_index,
        )
        try:
            requested = unit.controller.decide(context)
        except Exception:
            log.exception(
                "battery %s: controller %s failed; idling", spec.battery_id, unit.controller.name
            )
            requested = 0.0
        result = step(
            spec, status, requested, float(prices[now_index]), self.step_minutes / 60, day
        )
        return battery_state(spec, status, result, from_us(step_us))


def battery_state(
    spec: BatterySpec, status: BatteryStatus, result: StepResult, ts: datetime
) -> BatteryState:
    """The event for a settled step; ``revenue_eur`` is the cumulative net revenue."""
    return BatteryState(
        ts=ts,
        battery_id=spec.battery_id,
        market=spec.market,
        soc_mwh=status.soc_mwh,
        soc_fraction=status.soc_mwh / spec.capacity_mwh,
        power_mw=result.power_mw,
        mode=result.mode,
        revenue_eur=status.net_revenue_eur,
    )


__all__ = [
    "HISTORY_DAYS",
    "AuctionRule",
    "BatteryFleet",
    "BatteryUnit",
    "Controller",
    "DecisionContext",
    "DispatchRun",
    "PolicyController",
    "PriceSeries",
    "battery_state",
    "context_at",
    "from_us",
    "run_controller",
    "seasonal_naive",
    "to_us",
]
