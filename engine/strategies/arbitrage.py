"""Cross-border arbitrage through monthly transmission rights: it earns what the rights pay.

Under market coupling the day-ahead spread between two zones is congestion
rent, and it goes to the TSOs: buying in one zone and selling in the other at
their day-ahead prices earns nothing. What a trader can buy is a transmission
right on an interconnector — a monthly option that pays max(0, p_to − p_from)
per MWh for each delivery period of the month, for its auction price
(:mod:`engine.spreads.transmission`). This strategy

1. keeps each border direction's payoff per delivery period from the day-ahead
   prices it is handed (:class:`~engine.spreads.transmission.PayoffHistory`);
2. at the monthly auction for month M — by default the last day of M−1 at
   12:00 Europe/Brussels, before any price of M is published — on its last
   bar before the auction (``decision_lead_minutes``), prices each configured
   direction's right (:class:`~engine.spreads.transmission.RightsPricing`, by default
   the mean payoff of M−1 as known then) and buys ``volume_mw`` of it, at
   most the direction's capacity, where the mean payoff of the last
   ``lookback_days`` beats price and fee by more than ``min_edge_eur_mwh``: a right
   is cheap when the spread has lately moved above last month's mean;
3. holds it through M: the order path books the purchase and pays out each
   period once both of its day-ahead prices are known
   (:meth:`~engine.strategies.base.StrategyContext.buy_right`).

It buys only directions of listed interconnectors, each once a month and
never above its capacity. It moves no energy, so it holds no position.

The defaults — a 7-day look-back, no margin — have the best worst-year Sharpe
of a grid (look-back 1-28 days x margin 0-5 €/MWh) on 2020 (train, Sharpe
3.5) and 2021 (validation, 4.0) in ``bench/arbitrage_rights.py``; 2022 was not
looked at.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta
from typing import ClassVar

from engine.events import Event, PriceKind, PriceTick
from engine.market.rights import RightPurchase
from engine.spreads.transmission import (
    Direction,
    PayoffHistory,
    RightsPricing,
    TransmissionConfig,
    month_bounds,
    month_of,
    next_month,
    parse_direction,
)
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.execution import period_start_us
from engine.time_us import to_us

log = logging.getLogger(__name__)


class ArbitrageConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    transmission: the interconnectors, their capacities and how rights are
        priced (``[strategies.arbitrage.transmission]``).
    borders: the directions it buys rights on (``"FROM-TO"``); empty = both
        directions of every interconnector. A pair with no interconnector is
        refused.
    volume_mw: MW bought per direction and month; None = the whole capacity.
    lookback_days: the recent payoff is the mean over this many days before the auction.
    min_edge_eur_mwh: buy when recent payoff − price − fee exceeds this.
    min_coverage: the share of the look-back's periods that must have a
        payoff (both prices); less, and the direction is not judged.
    decision_lead_minutes: decide on the first bar this close to the auction.
    """

    transmission: TransmissionConfig = TransmissionConfig()
    borders: tuple[str, ...] = ()
    volume_mw: float | None = None
    lookback_days: float = 7.0
    min_edge_eur_mwh: float = 0.0
    min_coverage: float = 0.5
    decision_lead_minutes: int = 60

    def __post_init__(self) -> None:
        for key in self.borders:
            if not self.transmission.has_border(*parse_direction(key)):
                raise ValueError(
                    f"arbitrage.borders: {key} has no interconnector in transmission.borders "
                    f"{list(self.transmission.borders)}"
                )
        if self.volume_mw is not None and not self.volume_mw > 0:
            raise ValueError(f"arbitrage.volume_mw must be > 0 (or unset), got {self.volume_mw}")
        if not (self.lookback_days > 0 and 0 <= self.min_coverage <= 1):
            raise ValueError("arbitrage.lookback_days must be > 0 and min_coverage within 0..1")
        if self.decision_lead_minutes <= 0:
            raise ValueError("arbitrage.decision_lead_minutes must be > 0")


class ArbitrageStrategy(Strategy):
    """Cross-border arbitrage through transmission rights: buys a border's right ahead and earns its
    payoff.

    Hosted by :class:`~engine.strategies.manager.StrategyManager`.
    """

    kind = "arbitrage"
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick,)
    inputs: ClassVar[frozenset[str]] = frozenset({"prices"})
    auctions: ClassVar[frozenset[str]] = frozenset()  # it buys rights, it bids in no auction
    uses_bars = True

    def __init__(self, config: ArbitrageConfig | None = None, name: str | None = None) -> None:
        self.settings = config or ArbitrageConfig()
        super().__init__(self.settings, name)
        transmission = self.settings.transmission
        listed = (
            [parse_direction(key) for key in self.settings.borders]
            if self.settings.borders
            else list(transmission.directions())
        )
        self.directions: tuple[Direction, ...] = tuple(
            d for d in listed if self.trades_market(d[0]) and self.trades_market(d[1])
        )
        self.history = PayoffHistory(
            transmission.directions(), keep_days=max(70, math.ceil(self.settings.lookback_days) + 7)
        )
        self.pricing = RightsPricing(transmission, self.history)
        self.purchases: list[RightPurchase] = []
        self._decided: set[date] = set()
        self._lead = timedelta(minutes=self.settings.decision_lead_minutes)

    def describe(self) -> str:
        settings = self.settings
        size = "capacity" if settings.volume_mw is None else f"{settings.volume_mw:g} MW"
        return (
            f"monthly transmission rights on {len(self.directions)} border directions, {size}, "
            f"when the {settings.lookback_days:g}-day payoff beats the "
            f"{settings.transmission.pricing} price by {settings.min_edge_eur_mwh:g} €/MWh"
        )

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        assert type(event) is PriceTick
        if event.kind is not PriceKind.DAY_AHEAD:
            return  # rights pay on day-ahead prices only
        minutes = event.delivery_minutes or 60
        self.history.observe(event.market, period_start_us(event.ts, minutes), event.price_eur_mwh)

    def on_bar(self, ts: datetime, ctx: StrategyContext) -> None:
        transmission = self.settings.transmission
        month = next_month(month_of(ts, transmission.timezone))
        if month in self._decided:
            return
        auction = transmission.auction_at(month)
        if ts < auction - self._lead:
            return
        self._decided.add(month)
        if ts >= auction:
            log.info("arbitrage %s: no bar before the %s auction; no rights", self.name, month)
            return
        for direction in self.directions:
            self._decide(direction, month, auction, ctx)

    def _decide(
        self, direction: Direction, month: date, auction: datetime, ctx: StrategyContext
    ) -> None:
        settings = self.settings
        transmission = settings.transmission
        price = self.pricing.price_eur_mwh(direction, month, ctx.now)
        if price is None:
            return  # not sold (no history to price it on, or not in the price file)
        start, end = month_bounds(month, transmission.timezone)
        timeline = ctx.timeline
        minutes = timeline.mtu_minutes(direction[0], timeline.delivery_day(direction[0], start))
        lookback = timedelta(days=settings.lookback_days)
        recent, count = self.history.mean(direction, to_us(auction - lookback), to_us(auction))
        expected = lookback.total_seconds() / 60 / minutes
        if count < settings.min_coverage * expected:
            return
        edge = recent - price - transmission.fee_eur_mwh
        if not edge > settings.min_edge_eur_mwh:
            return  # strictly: a right that paid nothing and costs nothing is not worth a trade
        capacity = transmission.capacity(direction)
        mw = capacity if settings.volume_mw is None else min(settings.volume_mw, capacity)
        if mw <= 0:
            return
        right = RightPurchase(
            from_market=direction[0],
            to_market=direction[1],
            mw=mw,
            delivery_start=start,
            delivery_end=end,
            price_eur_mwh=price,
            fee_eur_mwh=transmission.fee_eur_mwh,
            period_minutes=minutes,
            reason=(
                f"{month:%Y-%m} auction: {settings.lookback_days:g}-day payoff {recent:.2f} "
                f"− price {price:.2f} = edge {edge:.2f} €/MWh"
            ),
        )
        if ctx.buy_right(right) is not None:
            self.purchases.append(right)


__all__ = ["ArbitrageConfig", "ArbitrageStrategy"]
