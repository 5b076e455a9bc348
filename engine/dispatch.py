"""Battery dispatch: what is known at decision time, who decides, and the step loop.

Every battery policy runs in the same information set and the same loop, so that
the rule, the MPC and the RL policy are judged on exactly the same terms:

- :class:`~engine.price_series.PriceSeries` — a market's prices on a regular grid
  (gaps filled);
- :class:`~engine.auction_rule.AuctionRule` — when day-ahead prices become known:
  all of day D's prices are published after the noon auction on D−1 (SDAC
  results at ~12:45 CET; from the 13:00 local step on, tomorrow is known);
- :class:`~engine.controller.DecisionContext` — what a controller may look at:
  the last week of prices and the published ones from now on, nothing later (a
  backtest hands it a slice that ends at the last published step, so peeking is
  impossible);
- :class:`~engine.controller.Controller` — ``decide(context) -> MW``; the rule
  (:mod:`engine.rule`), the MPC (:mod:`engine.mpc`) and
  :class:`~engine.controller.PolicyController` (an RL policy behind the
  :class:`~engine.ports.Policy` port) implement it;
- :func:`run_controller` — a backtest of one controller on one series;
- :class:`BatteryFleet` — the live kernel component: keeps the published
  day-ahead prices of each market, dispatches every battery when its delivery
  step starts and emits :class:`~engine.events.BatteryState` events.

This module owns the loop, backtest and live; the information set and the
controllers' protocol live in the modules named above.

Callers: ``gridtui eval battery``, ``bench/battery_eval.py``, the gymnasium
environment in ``models/battery_env.py`` and ``gridtui.wiring``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.auction_rule import AuctionRule
from engine.battery import BatterySpec, BatteryStatus, DispatchLog, battery_state, step
from engine.controller import HISTORY_DAYS, Controller, DecisionContext
from engine.events import BatteryState, Event, PriceKind, PriceTick
from engine.price_series import (
    US_PER_DAY,
    US_PER_MINUTE,
    FloatArray,
    IntArray,
    PriceSeries,
    from_us,
    to_us,
)

log = logging.getLogger(__name__)


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


__all__ = [
    "BatteryFleet",
    "BatteryUnit",
    "DispatchRun",
    "context_at",
    "run_controller",
]
