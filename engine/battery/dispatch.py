"""Battery dispatch: what is known at decision time, who decides, and the step loop.

Every battery policy runs in the same information set and the same loop, so that
the rule, the MPC and the RL policy are judged on exactly the same terms:

- :class:`~engine.battery.price_series.PriceSeries` — a market's prices on a regular grid
  (gaps filled);
- :class:`~engine.battery.auction_calendar.AuctionCalendar` — when day-ahead prices become known:
  all of day D's prices are published after the noon auction on D−1 (SDAC
  results at ~12:45 CET; from the 13:00 local step on, tomorrow is known);
- :class:`~engine.battery.controller.DecisionContext` — what a controller may look at:
  the last week of prices and the published ones from now on, nothing later (a
  backtest hands it a slice that ends at the last published step, so peeking is
  impossible);
- :class:`~engine.battery.controller.Controller` — ``decide(context) -> MW``; the rule
  (:mod:`engine.battery.threshold`), the MPC (:mod:`engine.battery.mpc`) and
  :class:`~engine.battery.policy_controller.PolicyController` (an RL policy behind the
  :class:`~engine.ports.Policy` port) implement it;
- :func:`run_controller` — a backtest of one controller on one series;
- :class:`~engine.battery.fleet.BatteryFleet` (re-exported here) — the live
  kernel component. It does *not* run this loop: a live battery commits each
  day's schedule at the day-ahead gate and delivers it
  (:mod:`engine.battery.fleet`), because deciding a step knowing its
  day-ahead price is an upper bound, not something a trader can do.

This module owns the after-publication loop (the upper bounds ``gridtui eval
battery`` scores); the information set and the controllers' protocol live in
the modules named above.

Callers: ``gridtui eval battery``, ``bench/battery_eval.py``, the gymnasium
environment in ``models/battery/env.py`` and ``gridtui.wiring``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.battery.auction_calendar import AuctionCalendar
from engine.battery.controller import HISTORY_DAYS, Controller, DecisionContext
from engine.battery.fleet import BatteryFleet, BatteryUnit
from engine.battery.physics import BatterySpec, BatteryStatus, DispatchLog, step
from engine.battery.price_series import US_PER_DAY, IntArray, PriceSeries


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
    rule: AuctionCalendar | None = None,
    *,
    known_end: IntArray | None = None,
) -> DispatchRun:
    """Backtest ``controller`` on ``series``: decide, clip, settle, step by step."""
    ends = known_end if known_end is not None else (rule or AuctionCalendar()).known_end(series)
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


__all__ = [
    "BatteryFleet",
    "BatteryUnit",
    "DispatchRun",
    "context_at",
    "run_controller",
]
