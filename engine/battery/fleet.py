"""The live battery fleet: each battery commits its day-ahead schedule at the gate, delivers it.

:class:`BatteryFleet` is the kernel component ``gridtui.wiring`` adds when
``[battery] fleet`` names batteries. It keeps the published day-ahead prices
of each battery's market (:class:`_PriceBook`) and, like the battery trading
strategy, trades as a day-ahead battery can:

- **at the gate**: once per local delivery day D, from ``lead`` before D−1's
  gate closure (12:00 Europe/Brussels) on, each battery forecasts D from the
  prices published by then (:mod:`engine.battery.gate`: persistence is D−1's
  price at the same local time, all of D−1 being published the day before;
  weekly is D−7; ``model`` the latest Forecast events) and plans D with its
  :class:`~engine.battery.commitment.DayPlanner` (the perfect-foresight LP on the
  forecast by default) from the SoC at the end of D−1's plan. The plan is at
  the day-ahead MTU, or at the fleet's step where that is longer (a 60-min
  block of 15-min MTUs can always be bid);
- **at delivery**: every ``step_minutes`` step is delivered along the
  committed plan once its clearing price is known (or, failing that, once the
  step is over: settled at 0 with a warning), stepped through
  :func:`engine.battery.physics.step` at that price, and reported as a
  :class:`~engine.events.BatteryState` with the cumulative net revenue (wear
  and exchange fee per MWh counted: :func:`engine.battery.costs.trading_spec`).
  A step with nothing committed (the fleet started after that day's gate) is
  reported idle.

No battery here ever decides a step knowing that step's price: the per-step
controllers that do (:func:`engine.battery.dispatch.run_controller`) are upper bounds
for ``gridtui eval battery`` only. After a jump in time (a fast replay) the
missed steps are delivered in order, at most a day of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engine.battery.commitment import DayPlanner, LpPlanner
from engine.battery.controller import HISTORY_DAYS
from engine.battery.costs import trading_spec
from engine.battery.gate import (
    DECISION_LEAD,
    ForecastKind,
    KnownPrices,
    commit_day,
    day_forecast,
    history_before,
)
from engine.battery.gate_forecast import DeliveryDay
from engine.battery.physics import BatterySpec, BatteryStatus, battery_state, step
from engine.battery.price_series import US_PER_DAY, US_PER_MINUTE, from_us, to_us
from engine.events import BatteryState, Event, Forecast, PriceKind, PriceTick
from engine.market.timeline import Auction, MarketTimeline

log = logging.getLogger(__name__)

_MODEL_KEPT = 10_000  # Forecast targets kept per market (a few days of quarter-hours)


@dataclass(slots=True)
class BatteryUnit:
    """One battery of a fleet: its spec, its day planner and forecast, what it holds.

    ``status`` is the delivered state (SoC, revenue); ``planned`` the plan's
    state at ``planned_until_us``, the end of the last committed day; ``plan``
    the committed power per period start (with the period's minutes).
    """

    spec: BatterySpec
    planner: DayPlanner = field(default_factory=LpPlanner)
    forecast: ForecastKind = "weekly"
    status: BatteryStatus | None = None
    planned: BatteryStatus | None = None
    planned_until_us: int | None = None
    committed_for: date | None = None
    plan: dict[int, tuple[float, int]] = field(default_factory=dict)
    next_step_us: int | None = None
    unpriced: int = 0  # committed steps delivered without a known clearing price

    def power_at(self, step_us: int) -> float | None:
        """The committed power of the period holding ``step_us``; None: nothing committed."""
        for minutes in (60, 30, 15):
            period_us = minutes * US_PER_MINUTE
            found = self.plan.get(step_us - step_us % period_us)
            if found is not None and found[1] == minutes:
                return found[0]
        return None


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

    def known(self, timezone: str) -> KnownPrices:
        """Every fully published step, as :func:`engine.battery.gate.day_forecast` reads them."""
        found = KnownPrices(timezone)
        for bucket in sorted(self.minutes):
            price = self.price(bucket)
            if price is not None:
                found.add(bucket, price)
        return found

    def forget_before(self, cutoff_us: int) -> None:
        for bucket in [b for b in self.sums if b < cutoff_us]:
            del self.sums[bucket], self.minutes[bucket]


class BatteryFleet:
    """The kernel component that commits and delivers a fleet of batteries (module docstring).

    Args:
        units: the batteries (ids unique).
        step_minutes: the delivery step reported on.
        timeline: gate closures, delivery days and MTUs (``[market]``).
        fee_eur_mwh: the exchange fee per MWh traded, counted like the wear.
        lead: how long before the gate closure a day is committed.
    """

    name = "batteries"

    def __init__(
        self,
        units: Sequence[BatteryUnit],
        *,
        step_minutes: int = 60,
        timeline: MarketTimeline | None = None,
        fee_eur_mwh: float = 0.0,
        lead: timedelta = DECISION_LEAD,
    ) -> None:
        ids = [unit.spec.battery_id for unit in units]
        if len(set(ids)) != len(ids):
            raise ValueError(f"battery ids must be unique, got {ids}")
        self.units = list(units)
        self.step_minutes = step_minutes
        self.step_us = step_minutes * US_PER_MINUTE
        self.timeline = timeline or MarketTimeline()
        self.lead = lead
        self.fee_eur_mwh = fee_eur_mwh
        self._costed = {u.spec.battery_id: trading_spec(u.spec, fee_eur_mwh) for u in units}
        self.books: Mapping[str, _PriceBook] = {
            unit.spec.market: _PriceBook(self.step_us) for unit in units
        }
        self.model: dict[str, dict[int, float]] = {market: {} for market in self.books}

    def on_events(self, events: Sequence[Event], now: datetime) -> Sequence[Event]:
        for event in events:
            if (
                isinstance(event, PriceTick)
                and event.kind is PriceKind.DAY_AHEAD
                and event.market in self.books
            ):
                self.books[event.market].add(event)
            elif isinstance(event, Forecast) and event.market in self.model:
                self.model[event.market][to_us(event.target_ts)] = event.price_eur_mwh
        return self._advance(now)

    def on_timer(self, now: datetime) -> Sequence[Event]:
        return self._advance(now)

    def _advance(self, now: datetime) -> list[Event]:
        now_us = to_us(now)
        current = now_us // self.step_us * self.step_us
        out: list[Event] = []
        for unit in self.units:
            self._maybe_commit(unit, now)
            first = current if unit.next_step_us is None else unit.next_step_us
            first = max(first, current - US_PER_DAY + self.step_us)
            unit.next_step_us = first
            for step_us in range(first, current + 1, self.step_us):
                event = self._deliver(unit, step_us, now_us)
                if event is None:
                    break  # a committed step waits for its clearing price
                out.append(event)
                unit.next_step_us = step_us + self.step_us
        for market, book in self.books.items():
            book.forget_before(current - 2 * HISTORY_DAYS * US_PER_DAY)
            model = self.model[market]
            if len(model) > _MODEL_KEPT:
                self.model[market] = {t: p for t, p in model.items() if t >= current}
        return out

    # -- at the gate -----------------------------------------------------------------

    def _maybe_commit(self, unit: BatteryUnit, now: datetime) -> None:
        market = unit.spec.market
        auction = self.timeline.next_day_ahead(market, now)
        day = self.timeline.delivery_day(market, auction.delivery_start)
        if unit.committed_for == day or now < auction.gate_closure - self.lead:
            return
        unit.committed_for = day
        try:
            self._commit(unit, auction, day)
        except Exception:
            # A battery must never stall: a failing planner leaves the day uncommitted (idle).
            log.exception(
                "battery %s: planner %s failed for %s; idling that day",
                unit.spec.battery_id,
                unit.planner.name,
                day,
            )

    def _commit(self, unit: BatteryUnit, auction: Auction, day: date) -> None:
        spec = self._costed[unit.spec.battery_id]
        market = spec.market
        minutes = max(self.step_minutes, self.timeline.mtu_minutes(market, day))
        period_us = minutes * US_PER_MINUTE
        start_us, end_us = to_us(auction.delivery_start), to_us(auction.delivery_end)
        starts = list(range(start_us, end_us, period_us))
        rules = self.timeline.rules(market)
        known = self.books[market].known(rules.delivery_timezone or rules.timezone)
        forecast = day_forecast(known, unit.forecast, starts, self.model[market])
        # The plan starts where D−1's plan ends; with D−1 uncommitted the battery
        # idles until D, so it starts from the charge it holds now.
        if unit.planned is None or unit.planned_until_us != start_us:
            held = unit.status or BatteryStatus.initial(spec, start_us // US_PER_DAY)
            unit.planned = BatteryStatus(
                soc_mwh=held.soc_mwh,
                day_number=held.day_number,
                discharged_today_mwh=held.discharged_today_mwh,
            )
        history = (
            None
            if isinstance(unit.planner, LpPlanner)
            else history_before(known, start_us, minutes)
        )
        committed = commit_day(
            spec,
            unit.planner,
            DeliveryDay(day, 0, len(starts), to_us(auction.gate_closure)),
            starts,
            minutes,
            forecast,
            unit.planned,
            history,
        )
        unit.planned_until_us = end_us
        for start, power in zip(committed.starts_us, committed.power_mw, strict=True):
            unit.plan[start] = (power, minutes)

    # -- at delivery -----------------------------------------------------------------

    def _deliver(self, unit: BatteryUnit, step_us: int, now_us: int) -> BatteryState | None:
        spec = self._costed[unit.spec.battery_id]
        power = unit.power_at(step_us)
        price = self.books[spec.market].price(step_us)
        if power is not None and price is None and now_us < step_us + self.step_us:
            return None
        if power is not None and price is None:
            unit.unpriced += 1
            if unit.unpriced == 1:
                log.warning(
                    "battery %s: no clearing price for %s; its committed step settles at 0",
                    spec.battery_id,
                    from_us(step_us),
                )
        day = step_us // US_PER_DAY
        if unit.status is None:
            unit.status = BatteryStatus.initial(spec, day)
        status = unit.status
        result = step(spec, status, power or 0.0, price or 0.0, self.step_minutes / 60, day)
        for start in [s for s in unit.plan if s + US_PER_DAY < step_us]:
            del unit.plan[start]  # delivered a day ago
        return battery_state(
            unit.spec, status, result, from_us(step_us), committed=power is not None
        )


__all__ = ["BatteryFleet", "BatteryUnit"]
