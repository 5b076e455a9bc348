"""Trading a signal on the market timeline: what the technical, ML and fundamental strategies share.

A signal strategy turns what it knows into a *target*: long, short or flat so
many MWh per delivery hour. Where it can hold that target depends on the feed:

- **day-ahead only** (a replay of real history): once per delivery day D, on
  its last bar before D's gate closure (12:00 CET on D−1,
  :class:`~engine.strategies.day_ahead.DayAheadGate`), it commits a position
  for every period of D from what it knows then (:func:`commit_day`). The
  position fills at the clearing price and, with no other market to close it
  in, settles at that same price: it earns minus its fees. That is the honest
  result of a price signal on day-ahead prices alone.
- **continuous intraday** (the simulator): it holds its target in the first
  delivery period still open (:func:`first_open_period`, :func:`hold_intraday`);
  each period's position settles at delivery at the reference price, so a
  period bought at p₁ and delivered at p₂ earns (p₂ − p₁) x MWh − costs.

:class:`Venues` remembers which of the two a strategy traded each market in,
for its ``describe()``. Callers: :mod:`engine.strategies.technical`,
:mod:`engine.strategies.ml`, :mod:`engine.strategies.fundamental`; mining
uses :func:`first_open_period`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from engine.events import Trade
from engine.market.timeline import Auction, Product
from engine.strategies.base import StrategyContext
from engine.strategies.day_ahead import DayAheadGate, Period, period_order
from engine.strategies.execution import period_start_us
from engine.time_us import from_us

_FLAT_MWH = 1e-9


class Venue(enum.StrEnum):
    """Where a signal strategy holds its target: the day-ahead auction or continuous intraday."""

    DAY_AHEAD = "day-ahead"
    INTRADAY = "intraday"


@dataclass(slots=True)
class Venues:
    """Where a strategy has traded each market (the feed decides, not the config)."""

    by_market: dict[str, Venue] = field(default_factory=dict)

    def note(self, market: str, venue: Venue) -> None:
        self.by_market[market] = venue

    def words(self) -> str:
        """How it trades, in a phrase: what it did so far, else what it would do."""
        found = set(self.by_market.values())
        if found == {Venue.DAY_AHEAD}:
            return "commits each day D at the day-ahead gate (D-1 12:00 CET)"
        if found == {Venue.INTRADAY}:
            return "trades intraday, the first delivery period still open"
        if found:
            parts = [f"{m} {v.value}" for m, v in sorted(self.by_market.items())]
            return "trades " + ", ".join(parts)
        return "commits D at the day-ahead gate on a day-ahead-only feed, else intraday"


def first_open_period(ctx: StrategyContext, market: str) -> Period:
    """The first delivery period continuous intraday still trades at ``ctx.now``."""
    timeline = ctx.timeline
    now = ctx.now
    minutes = timeline.mtu_minutes(market, timeline.delivery_day(market, now))
    lead = timedelta(minutes=timeline.rules(market).intraday_lead_minutes)
    # The period must start strictly after now + lead: at now + lead it has just closed.
    start = from_us(period_start_us(now + lead, minutes)) + timedelta(minutes=minutes)
    return Period(start, minutes)


def hold_intraday(
    ctx: StrategyContext,
    market: str,
    period: Period,
    target_mwh_per_h: float,
    reason: str,
    **order_fields: object,
) -> list[Trade]:
    """Trade ``period``'s position towards ``target_mwh_per_h`` x its hours, on intraday."""
    wanted = target_mwh_per_h * period.minutes / 60.0
    delta = wanted - ctx.position_at(market, period.start)
    if abs(delta) < _FLAT_MWH:
        return []
    return ctx.submit(period_order(market, period, delta, Product.INTRADAY, reason, **order_fields))


def commit_day(
    ctx: StrategyContext,
    market: str,
    auction: Auction,
    target_mwh_per_h: Callable[[Period], float],
    reason: str,
    **order_fields: object,
) -> int:
    """Send day-ahead orders for every period of ``auction``'s day; return how many.

    ``target_mwh_per_h(period)`` is the signed position wanted in each period
    (MWh per hour of delivery); what is already held there is subtracted.
    """
    plan: list[tuple[Period, float]] = []
    for period in DayAheadGate.periods(ctx.timeline, auction):
        wanted = target_mwh_per_h(period) * period.minutes / 60.0
        plan.append((period, wanted - ctx.position_at(market, period.start)))
    orders = DayAheadGate.orders(market, plan, reason, **order_fields)
    if orders:
        ctx.submit(*orders)
    return len(orders)


def trade_target(
    ctx: StrategyContext,
    market: str,
    target_mwh_per_h: float,
    reason: str,
    gate: DayAheadGate,
    venues: Venues,
) -> None:
    """Hold a target where the feed allows: intraday if open, else commit D at the gate."""
    if ctx.has_intraday(market):
        venues.note(market, Venue.INTRADAY)
        hold_intraday(ctx, market, first_open_period(ctx, market), target_mwh_per_h, reason)
        return
    auction = gate.due(ctx, market)
    if auction is not None:
        venues.note(market, Venue.DAY_AHEAD)
        day = ctx.timeline.delivery_day(market, auction.delivery_start)
        commit_day(
            ctx, market, auction, lambda _: target_mwh_per_h, f"{reason}: day-ahead for {day}"
        )


__all__ = [
    "Venue",
    "Venues",
    "commit_day",
    "first_open_period",
    "hold_intraday",
    "trade_target",
]
