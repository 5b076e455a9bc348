"""Committing to a delivery day before its day-ahead gate closes: what every strategy shares.

On a day-ahead market a strategy does not trade the hour in front of it: it
sends, before gate closure (12:00 CET on D−1), one order per delivery period
of day D, decided from what it knows then, and learns the clearing prices at
~12:45. :class:`DayAheadGate` tells a strategy when that moment has come for
a market (once per delivery day, on the last bar before the gate closes) and
turns a plan — MWh per period of D — into day-ahead orders.

Used by the battery, mining, technical, ML and fundamental strategies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engine.market.timeline import Auction, MarketTimeline, Product
from engine.strategies.base import Order, Side, StrategyContext


@dataclass(frozen=True, slots=True)
class Period:
    """One delivery period of a day."""

    start: datetime
    minutes: int


@dataclass(slots=True)
class DayAheadGate:
    """When to commit each market's next delivery day, and the orders that do it.

    Attributes:
        lead: how long before gate closure the strategy decides (its last bar
            before the gate: an hour on hourly data).
    """

    lead: timedelta = timedelta(hours=1)
    committed: dict[str, date] = field(default_factory=dict)

    def due(self, ctx: StrategyContext, market: str) -> Auction | None:
        """The auction to commit now for ``market``, once per delivery day; else None."""
        timeline = ctx.timeline
        auction = timeline.next_day_ahead(market, ctx.now)
        day = timeline.delivery_day(market, auction.delivery_start)
        if self.committed.get(market) == day or ctx.now < auction.gate_closure - self.lead:
            return None
        self.committed[market] = day
        return auction

    @staticmethod
    def periods(timeline: MarketTimeline, auction: Auction) -> list[Period]:
        """The delivery periods of the auction's day, at its MTU (23, 24 or 25 hours)."""
        day = timeline.delivery_day(auction.market, auction.delivery_start)
        minutes = timeline.mtu_minutes(auction.market, day)
        step = timedelta(minutes=minutes)
        found: list[Period] = []
        at = auction.delivery_start
        while at < auction.delivery_end:
            found.append(Period(at, minutes))
            at += step
        return found

    @staticmethod
    def orders(
        market: str,
        plan: Iterable[tuple[Period, float]],
        reason: str,
        **order_fields: object,
    ) -> list[Order]:
        """Day-ahead orders for a plan of signed MWh per period (> 0 buys)."""
        return [
            period_order(market, period, signed_mwh, Product.DAY_AHEAD, reason, **order_fields)
            for period, signed_mwh in plan
            if abs(signed_mwh) >= 1e-9
        ]


def period_order(
    market: str,
    period: Period,
    signed_mwh: float,
    product: Product,
    reason: str,
    **order_fields: object,
) -> Order:
    """An order for one delivery period: buy ``signed_mwh`` > 0, sell < 0."""
    return Order(
        market=market,
        side=Side.BUY if signed_mwh > 0 else Side.SELL,
        volume_mwh=abs(signed_mwh),
        reason=reason,
        product=product,
        delivery_start=period.start,
        delivery_minutes=period.minutes,
        **order_fields,  # type: ignore[arg-type]
    )


__all__ = ["DayAheadGate", "Period", "period_order"]
