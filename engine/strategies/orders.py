"""Taking a hosted strategy's orders: the timeline's gate, the limits, the fills, the audit.

:meth:`StrategyManager.submit <engine.strategies.manager.StrategyManager.submit>`
hands a strategy's orders here. Each one is first asked of the market timeline
(:class:`~engine.market.timeline.MarketTimeline`): an order for a product whose
gate has closed — a day-ahead order for day D after 12:00 CET on D−1, an
intraday order too close to delivery — or for a market the feed does not
price that way is **rejected with its reason**: counted, logged and written to
the audit log. Then it is sized to the room the
:class:`~engine.strategies.execution.ExecutionModel` leaves it. A continuous
intraday order fills at once at the latest intraday price; a day-ahead order
waits in the manager's :class:`~engine.market.auction_book.AuctionBook` until
its clearing price is published (:func:`clear_auction`). Every fill is a
:class:`~engine.events.Trade` with its :class:`~engine.events.AuditEntry`.
Positions settle at delivery in :mod:`engine.strategies.settlement`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from engine.events import PriceKind, PriceTick, Trade
from engine.market.auction_book import PendingOrder
from engine.market.timeline import Product
from engine.strategies.base import Order
from engine.strategies.desk import TradingDesk
from engine.strategies.execution import period_start_us
from engine.strategies.records import audit_record, reject, trade_record
from engine.strategies.slot import StrategySlot, StrategyState
from engine.time_us import US_PER_MINUTE, from_us, to_us

Desk = TradingDesk[StrategySlot]

log = logging.getLogger(__name__)
_SHARE_EPSILON: Final = 1e-9


def fill_orders(
    desk: Desk, slot: StrategySlot, orders: Sequence[Order], all_or_none: bool
) -> list[Trade]:
    """Take ``slot``'s orders now; queue trades and audit entries on ``desk.out``."""
    if slot.state is not StrategyState.RUNNING and not slot.closing:
        for _ in orders:
            reject(desk, slot, None, "strategy is not running")
        return []
    now = desk.event_now
    now_us = to_us(now)
    execution = desk.execution
    account = slot.account
    # Plan every order first (all-or-none needs every room before any fill).
    planned: list[tuple[Order, float, float, int]] = []
    for order in orders:
        period_us, why = _period(desk, order, now_us)
        volume = order.volume_mwh
        if why is None and not (volume > 0 and math.isfinite(volume)):
            why = f"volume_mwh must be a finite number > 0, got {volume}"
        reference = 0.0
        if why is None and order.product is Product.INTRADAY:
            found = desk.intraday_prices.get(order.market)
            if found is None:
                why = (
                    f"no continuous intraday market for {order.market} in this feed "
                    "(day-ahead only): submit a day-ahead order before gate closure"
                )
            else:
                reference = found
        if why is not None:
            reject(desk, slot, order, why)
            planned.append((order, 0.0, 0.0, period_us))
            continue
        room, limit = execution.room_mwh(order, account, period_us)
        if (
            room > 0
            and order.product is Product.INTRADAY
            and order.limit_price_eur_mwh is not None
            and not execution.acceptable(order, execution.price(order, reference, room))
        ):
            room, limit = 0.0, "limit price"
        if room <= _SHARE_EPSILON:
            reject(desk, slot, order, f"no room: {limit}")
        planned.append((order, room, reference, period_us))
    if all_or_none and len(planned) > 1:
        share = 1.0
        for order, room, _, _ in planned:
            share = min(share, room / order.volume_mwh if room > 0 else 0.0)
        if share < _SHARE_EPSILON:
            return []
        planned = [(o, o.volume_mwh * share, ref, p) for o, _, ref, p in planned]
    fills: list[Trade] = []
    for order, volume, reference, period_us in planned:
        if volume <= _SHARE_EPSILON:
            continue
        execution.take(order, volume, period_us)
        if order.product is not Product.INTRADAY:
            end_us = period_us + order.delivery_minutes * US_PER_MINUTE
            desk.auction_book.add(
                order.market,
                auction_of(order),
                PendingOrder(slot, order, volume, period_us, end_us),
            )
            desk.stats.accepted += 1
            continue
        price = execution.price(order, reference, volume)
        fills.append(book_fill(desk, slot, order, volume, price, period_us, order.product))
    return fills


def _period(desk: Desk, order: Order, now_us: int) -> tuple[int, str | None]:
    """The delivery period an order is for (start µs), or why it cannot be traded now."""
    timeline = desk.timeline
    minutes = order.delivery_minutes
    if order.delivery_start is None:
        if order.product is not Product.INTRADAY:
            return 0, f"a {order.product.value} order must name its delivery_start"
        lead = timeline.rules(order.market).intraday_lead_minutes
        step = max(minutes, 1) * US_PER_MINUTE
        first = now_us + lead * US_PER_MINUTE
        return -(-first // step) * step, None  # the first period still open
    start_us = to_us(order.delivery_start)
    if start_us != period_start_us(order.delivery_start, minutes):
        return start_us, f"delivery_start {order.delivery_start} is not on the {minutes}-min grid"
    if order.product is Product.INTRADAY_AUCTION and not order.auction:
        return start_us, "an intraday-auction order must name its auction (IDA1, IDA2, IDA3)"
    return start_us, timeline.refusal(
        order.market, order.product, order.delivery_start, desk.event_now, order.auction
    )


def auction_of(order: Order) -> str:
    """The auction an order waits for in the book: ``DA`` or the intraday auction's name."""
    return "DA" if order.product is Product.DAY_AHEAD else order.auction


def book_fill(
    desk: Desk,
    slot: StrategySlot,
    order: Order,
    volume: float,
    price: float,
    period_us: int,
    product: Product,
    *,
    at: datetime | None = None,
) -> Trade:
    """Book one fill in ``slot``'s ledger; queue its Trade and audit entry."""
    fill = desk.execution.fill(order, volume, price, slot.account, period_us, product)
    trade = trade_record(
        desk,
        slot,
        at,
        market=order.market,
        side=order.side.value,
        volume_mwh=fill.volume_mwh,
        price_eur_mwh=price,
        fee_eur=fill.fee_eur,
        reason=order.reason,
        product=product.value,
        delivery_start=from_us(period_us),
        delivery_minutes=order.delivery_minutes,
    )
    desk.out.append(trade)
    desk.out.append(audit_record(desk, slot, "trade", order.reason, trade.trade_id, trade.ts))
    slot.traded = True
    slot.last_trade = trade
    desk.stats.trades += 1
    return trade


def clear_auction(
    desk: Desk,
    market: str,
    auction: str,
    delivery_start_us: int,
    minutes: int,
    price: float,
    at: datetime,
) -> None:
    """A clearing price is published: fill the orders waiting for it (limit prices respected)."""
    product = Product.DAY_AHEAD if auction == "DA" else Product.INTRADAY_AUCTION
    if product is Product.DAY_AHEAD:
        desk.clearing[(market, delivery_start_us)] = price
    for pending in desk.auction_book.clear(market, auction, delivery_start_us):
        slot: StrategySlot = pending.owner
        order: Order = pending.order
        if order.delivery_minutes != minutes:
            reject(
                desk, slot, order,
                f"cleared {minutes}-min periods, the order is for {order.delivery_minutes} min",
            )  # fmt: skip
            continue
        if not desk.execution.acceptable(order, price):
            reject(
                desk, slot, order,
                f"not filled: cleared at {price:.2f}, limit {order.limit_price_eur_mwh:.2f}",
            )  # fmt: skip
            continue
        book_fill(desk, slot, order, pending.volume_mwh, price, delivery_start_us, product, at=at)


def clear_results(desk: Desk, known: Iterable[tuple[datetime, PriceTick]]) -> None:
    """Auction results now known in event time: day-ahead and intraday auctions clear."""
    # Filled when the price is seen: at publication on a live feed (the tick
    # is ahead of the clock), at delivery in a replay of history.
    for known_at, tick in known:
        at = max(desk.event_now, known_at)
        minutes = tick.delivery_minutes or 60
        # The timeline names auctions as the price kinds do: DA, IDA1, IDA2, IDA3.
        auction = "DA" if tick.kind is PriceKind.DAY_AHEAD else tick.kind.name
        start_us = to_us(tick.ts)
        clear_auction(desk, tick.market, auction, start_us, minutes, tick.price_eur_mwh, at)


def expire(desk: Desk, now_us: int) -> None:
    """Auction orders whose period was delivered with no clearing price: rejected."""
    for _, pending in desk.auction_book.expired(now_us):
        reject(desk, pending.owner, pending.order, "no clearing price was published")


__all__ = [
    "auction_of",
    "book_fill",
    "clear_auction",
    "clear_results",
    "expire",
    "fill_orders",
]
