"""Transmission rights held: bought at auction, settled one delivery period at a time.

A right on a border direction (:mod:`engine.spreads.transmission` has the borders and
the prices) pays max(0, p_to − p_from) per MWh for every delivery period of
its delivery, once both day-ahead prices of the period are known, and costs
its price (plus fee) per MWh. It is a cash flow, not energy: it sits beside
the :class:`~engine.market.ledger.PositionLedger`, never in it.
:class:`RightsBook` keeps one strategy's rights and settles them in delivery
order; :mod:`engine.strategies.orders` books the purchase and turns each
settled period into a Trade.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import msgspec

from engine.time_us import US_PER_MINUTE, to_us


class RightPurchase(msgspec.Struct, frozen=True, kw_only=True):
    """A right bought at auction: ``mw`` on ``from_market``→``to_market`` for [start, end).

    Attributes:
        period_minutes: the delivery period it pays on (the day-ahead MTU).
        price_eur_mwh: its auction price per MWh (MW x hours).
        fee_eur_mwh: cost per MWh on top of the price.
    """

    from_market: str
    to_market: str
    mw: float
    delivery_start: datetime
    delivery_end: datetime
    price_eur_mwh: float
    reason: str
    period_minutes: int = 60
    fee_eur_mwh: float = 0.0

    @property
    def border(self) -> str:
        return f"{self.from_market}-{self.to_market}"

    @property
    def hours(self) -> float:
        return (self.delivery_end - self.delivery_start).total_seconds() / 3600.0

    @property
    def mwh(self) -> float:
        """Its size in MW·h: MW x hours of delivery."""
        return self.mw * self.hours


class PeriodPayoff(NamedTuple):
    """One delivery period of a held right, settled."""

    right: RightPurchase
    start_us: int
    from_price_eur_mwh: float | None
    to_price_eur_mwh: float | None
    payoff_eur_mwh: float  # 0 when a price is missing
    pnl_eur: float  # MW x hours x (payoff − price − fee)


@dataclass(slots=True)
class _Held:
    right: RightPurchase
    next_us: int
    end_us: int
    step_us: int


class RightsBook:
    """The rights one strategy holds, each settled period by period in delivery order."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: list[_Held] = []

    def __len__(self) -> int:
        return len(self._held)

    def __iter__(self) -> Iterator[RightPurchase]:
        return (held.right for held in self._held)

    def add(self, right: RightPurchase) -> None:
        step_us = right.period_minutes * US_PER_MINUTE
        self._held.append(
            _Held(right, to_us(right.delivery_start), to_us(right.delivery_end), step_us)
        )

    def due(self, now_us: int, price_of: Callable[[str, int], float | None]) -> list[PeriodPayoff]:
        """Settle every period whose two prices are known, or that was delivered without them.

        ``price_of(market, period_start_us)`` is the period's day-ahead price, if known.
        """
        settled: list[PeriodPayoff] = []
        for held in self._held:
            right = held.right
            hours = held.step_us / (60 * US_PER_MINUTE)
            while held.next_us < held.end_us:
                start_us = held.next_us
                from_price = price_of(right.from_market, start_us)
                to_price = price_of(right.to_market, start_us)
                if from_price is not None and to_price is not None:
                    payoff = max(0.0, to_price - from_price)
                elif start_us + held.step_us > now_us:
                    break  # not delivered yet: its prices may still come
                else:
                    payoff = 0.0  # delivered without a price: the right paid nothing
                pnl = right.mw * hours * (payoff - right.price_eur_mwh - right.fee_eur_mwh)
                settled.append(PeriodPayoff(right, start_us, from_price, to_price, payoff, pnl))
                held.next_us = start_us + held.step_us
        self._held = [held for held in self._held if held.next_us < held.end_us]
        return settled


__all__ = ["PeriodPayoff", "RightPurchase", "RightsBook"]
