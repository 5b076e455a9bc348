"""Taking a hosted strategy's orders: the timeline's gate, the limits, the fills, the audit.

:meth:`StrategyManager.submit <engine.strategy_manager.StrategyManager.submit>`
hands a strategy's orders here. Each one is first asked of the market timeline
(:class:`~engine.market.timeline.MarketTimeline`): an order for a product whose
gate has closed — a day-ahead order for day D after 12:00 CET on D−1, an
intraday order too close to delivery — or for a market the feed does not
price that way is **rejected with its reason**: counted, logged and written to
the audit log. Then it is sized to the room the
:class:`~engine.strategies.execution.ExecutionModel` leaves it. A continuous
intraday order fills at once at the latest intraday price; a day-ahead order
waits in the manager's :class:`~engine.market.auction_book.AuctionBook` until
its clearing price is published (:func:`clear_day_ahead`). Every fill is a
:class:`~engine.events.Trade` with its :class:`~engine.events.AuditEntry`.

Transmission rights (:mod:`engine.market.rights`) move no energy: :func:`buy_right`
books a purchase as a 0 MWh Trade on the border, :func:`settle_rights` pays out
each delivery period as a ``settle`` Trade once its two day-ahead prices are
known, so Σ pnl_eur of a right is its payoff − its price − its fees.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from engine.events import AuditEntry, Trade
from engine.market.auction_book import PendingOrder
from engine.market.rights import RightPurchase
from engine.market.timeline import Product
from engine.strategies.base import Order
from engine.strategies.execution import period_start_us
from engine.strategy_slot import StrategySlot, StrategyState
from engine.time_us import from_us, to_us

if TYPE_CHECKING:
    from engine.strategy_manager import StrategyManager

log = logging.getLogger(__name__)
_SHARE_EPSILON: Final = 1e-9
_US_PER_MINUTE: Final = 60_000_000


def fill_orders(
    manager: StrategyManager, slot: StrategySlot, orders: Sequence[Order], all_or_none: bool
) -> list[Trade]:
    """Take ``slot``'s orders now; queue trades and audit entries on ``manager.out``."""
    if slot.state is not StrategyState.RUNNING and not slot.closing:
        for _ in orders:
            reject(manager, slot, None, "strategy is not running")
        return []
    now = manager.event_now
    now_us = to_us(now)
    execution = manager.execution
    account = slot.account
    # Plan every order first (all-or-none needs every room before any fill).
    planned: list[tuple[Order, float, float, int]] = []
    for order in orders:
        period_us, why = _period(manager, order, now_us)
        volume = order.volume_mwh
        if why is None and not (volume > 0 and math.isfinite(volume)):
            why = f"volume_mwh must be a finite number > 0, got {volume}"
        reference = 0.0
        if why is None and order.product is Product.INTRADAY:
            found = manager.intraday_prices.get(order.market)
            if found is None:
                why = (
                    f"no continuous intraday market for {order.market} in this feed "
                    "(day-ahead only): submit a day-ahead order before gate closure"
                )
            else:
                reference = found
        if why is not None:
            reject(manager, slot, order, why)
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
            reject(manager, slot, order, f"no room: {limit}")
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
            end_us = period_us + order.delivery_minutes * _US_PER_MINUTE
            manager.auction_book.add(
                order.market,
                auction_of(order),
                PendingOrder(slot, order, volume, period_us, end_us),
            )
            manager.stats.accepted += 1
            continue
        price = execution.price(order, reference, volume)
        fills.append(book_fill(manager, slot, order, volume, price, period_us, order.product))
    return fills


def _period(manager: StrategyManager, order: Order, now_us: int) -> tuple[int, str | None]:
    """The delivery period an order is for (start µs), or why it cannot be traded now."""
    timeline = manager.timeline
    minutes = order.delivery_minutes
    if order.delivery_start is None:
        if order.product is not Product.INTRADAY:
            return 0, f"a {order.product.value} order must name its delivery_start"
        lead = timeline.rules(order.market).intraday_lead_minutes
        step = max(minutes, 1) * _US_PER_MINUTE
        first = now_us + lead * _US_PER_MINUTE
        return -(-first // step) * step, None  # the first period still open
    start_us = to_us(order.delivery_start)
    if start_us != period_start_us(order.delivery_start, minutes):
        return start_us, f"delivery_start {order.delivery_start} is not on the {minutes}-min grid"
    if order.product is Product.INTRADAY_AUCTION and not order.auction:
        return start_us, "an intraday-auction order must name its auction (IDA1, IDA2, IDA3)"
    return start_us, timeline.refusal(
        order.market, order.product, order.delivery_start, manager.event_now, order.auction
    )


def auction_of(order: Order) -> str:
    """The auction an order waits for in the book: ``DA`` or the intraday auction's name."""
    return "DA" if order.product is Product.DAY_AHEAD else order.auction


def book_fill(
    manager: StrategyManager,
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
    fill = manager.execution.fill(order, volume, price, slot.account, period_us, product)
    trade = _trade(
        manager,
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
    manager.out.append(trade)
    manager.out.append(_audit(manager, slot, "trade", order.reason, trade.trade_id, trade.ts))
    slot.traded = True
    slot.last_trade = trade
    manager.stats.trades += 1
    return trade


def clear_auction(
    manager: StrategyManager,
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
        manager.clearing[(market, delivery_start_us)] = price
    for pending in manager.auction_book.clear(market, auction, delivery_start_us):
        slot: StrategySlot = pending.owner
        order: Order = pending.order
        if order.delivery_minutes != minutes:
            reject(
                manager, slot, order,
                f"cleared {minutes}-min periods, the order is for {order.delivery_minutes} min",
            )  # fmt: skip
            continue
        if not manager.execution.acceptable(order, price):
            reject(
                manager, slot, order,
                f"not filled: cleared at {price:.2f}, limit {order.limit_price_eur_mwh:.2f}",
            )  # fmt: skip
            continue
        book_fill(
            manager, slot, order, pending.volume_mwh, price, delivery_start_us, product, at=at
        )


def expire(manager: StrategyManager, now_us: int) -> None:
    """Auction orders whose period was delivered with no clearing price: rejected."""
    for _, pending in manager.auction_book.expired(now_us):
        reject(manager, pending.owner, pending.order, "no clearing price was published")


def settle_due(manager: StrategyManager, slot: StrategySlot, now_us: int) -> None:
    """Settle every position of ``slot`` delivered by ``now_us``; queue a settle Trade each."""
    ledger = slot.account.ledger
    for position in ledger.due(now_us):
        reference = manager.reference_price(position.market, position.delivery_start_us)
        done = ledger.settle(position, reference)
        if position.consume_value_eur_mwh is not None:
            price, how = position.consume_value_eur_mwh, "consumed"
        elif position.physical:
            price, how = 0.0, f"delivered by {position.book}"
        else:
            price, how = (reference or 0.0), "closed at the reference price"
        manager.out.append(
            _trade(
                manager,
                slot,
                None,
                market=position.market,
                side="settle",
                volume_mwh=abs(position.qty_mwh),
                price_eur_mwh=price,
                pnl_eur=done.pnl_eur,
                reason=f"settlement at delivery: {how}",
                product=position.product.value,
                delivery_start=from_us(position.delivery_start_us),
                delivery_minutes=(position.delivery_end_us - position.delivery_start_us)
                // _US_PER_MINUTE,
            )
        )
        manager.stats.settled += 1
        slot.traded = True


RIGHT: Final = "transmission_right"  # the Trade.product of a right's purchase and payoffs


def buy_right(manager: StrategyManager, slot: StrategySlot, right: RightPurchase) -> Trade | None:
    """Hold ``right`` for ``slot``: book its purchase (0 MWh, pnl 0, its fees), or refuse it."""
    why = None
    minutes = right.period_minutes
    if slot.state is not StrategyState.RUNNING:
        why = "strategy is not running"
    elif not (right.mw > 0 and math.isfinite(right.mw)):
        why = f"mw must be a finite number > 0, got {right.mw}"
    elif not (math.isfinite(right.price_eur_mwh) and math.isfinite(right.fee_eur_mwh)):
        why = "price_eur_mwh and fee_eur_mwh must be finite"
    elif not right.delivery_start < right.delivery_end:
        why = f"empty delivery {right.delivery_start} .. {right.delivery_end}"
    elif any(
        to_us(at) != period_start_us(at, minutes)
        for at in (right.delivery_start, right.delivery_end)
    ):
        why = f"delivery is not on the {minutes}-min grid"
    elif manager.event_now >= right.delivery_start:
        why = f"auction closed: delivery began {right.delivery_start:%Y-%m-%d %H:%M}Z"
    if why is not None:
        _refuse(manager, slot, f"right {right.border} {right.mw:g} MW", why)
        return None
    slot.rights.add(right)
    fee_eur = right.fee_eur_mwh * right.mwh
    slot.account.fees_eur += fee_eur
    slot.account.trades += 1
    reason = (
        f"{right.reason}: right {right.from_market}→{right.to_market} {right.mw:g} MW x "
        f"{right.hours:g} h = {right.mwh:,.0f} MW·h at {right.price_eur_mwh:.2f} €/MWh "
        f"(€{right.mwh * right.price_eur_mwh:,.2f})"
    )
    trade = _trade(
        manager,
        slot,
        None,
        market=right.border,
        side="buy",
        volume_mwh=0.0,  # a right moves no energy: it shows in no position
        price_eur_mwh=right.price_eur_mwh,
        fee_eur=fee_eur,
        reason=reason,
        product=RIGHT,
        delivery_start=right.delivery_start,
        delivery_minutes=minutes,
    )
    manager.out.append(trade)
    manager.out.append(_audit(manager, slot, "trade", reason, trade.trade_id, trade.ts))
    slot.traded = True
    slot.last_trade = trade
    manager.stats.trades += 1
    return trade


def settle_rights(manager: StrategyManager, slot: StrategySlot, now_us: int) -> None:
    """Pay out every period of ``slot``'s rights whose prices are known (or that went unpriced)."""
    clearing = manager.clearing
    ledger = slot.account.ledger
    for paid in slot.rights.due(now_us, lambda market, start_us: clearing.get((market, start_us))):
        right = paid.right
        if paid.from_price_eur_mwh is None or paid.to_price_eur_mwh is None:
            how = "nothing: no day-ahead price was published"
        else:
            how = (
                f"max(0, {right.to_market} {paid.to_price_eur_mwh:.2f} − "
                f"{right.from_market} {paid.from_price_eur_mwh:.2f})"
            )
        # A cash flow with no position behind it: straight into the realised total.
        ledger.realised_eur += paid.pnl_eur
        manager.out.append(
            _trade(
                manager,
                slot,
                None,
                market=right.border,
                side="settle",
                volume_mwh=0.0,
                price_eur_mwh=paid.payoff_eur_mwh,
                pnl_eur=paid.pnl_eur,
                reason=f"right pays {how} on {right.mw:g} MW, price {right.price_eur_mwh:.2f}",
                product=RIGHT,
                delivery_start=from_us(paid.start_us),
                delivery_minutes=right.period_minutes,
            )
        )
        manager.stats.settled += 1
        slot.traded = True


def _trade(
    manager: StrategyManager, slot: StrategySlot, at: datetime | None, **fields: Any
) -> Trade:
    slot.seq += 1
    return Trade(
        ts=at or manager.event_now,
        trade_id=f"{manager.id_prefix}{slot.name}-{slot.seq:07d}",
        strategy=slot.name,
        **fields,
    )


def _audit(
    manager: StrategyManager,
    slot: StrategySlot,
    action: str,
    reason: str,
    ref: str,
    at: datetime | None = None,
) -> AuditEntry:
    manager.audit_seq += 1
    return AuditEntry(
        ts=at or manager.event_now,
        entry_id=f"{manager.id_prefix}{action}:{slot.name}:{manager.audit_seq}",
        actor=f"strategy:{slot.name}",
        action=action,
        strategy=slot.name,
        reason=reason[:300],
        ref=ref,
    )


def reject(manager: StrategyManager, slot: StrategySlot, order: Order | None, why: str) -> None:
    """Refuse an order: count it, log it, and write it to the audit log with the reason.

    The first refusal of each kind per strategy is logged at INFO, the rest at
    DEBUG (a backtest may refuse thousands); all are counted and audited.
    """
    what = (
        f"{order.side.value} {order.volume_mwh:g} MWh {order.market} {order.product.value}"
        + (f" for {order.delivery_start:%Y-%m-%d %H:%M}Z" if order.delivery_start else "")
        if order is not None
        else "order"
    )
    _refuse(manager, slot, what, why)


def _refuse(manager: StrategyManager, slot: StrategySlot, what: str, why: str) -> None:
    """Count a refusal, log it (the first of its kind at INFO) and audit it with its reason."""
    head = why.split(":")[0]
    slot.account.reject(head)
    manager.stats.rejected += 1
    level = logging.INFO if slot.account.rejections[head] == 1 else logging.DEBUG
    log.log(level, "strategy %s: %s rejected: %s", slot.name, what, why)
    manager.out.append(_audit(manager, slot, "reject", f"{what} rejected: {why}", ""))


__all__ = [
    "RIGHT",
    "auction_of",
    "book_fill",
    "buy_right",
    "clear_auction",
    "expire",
    "fill_orders",
    "reject",
    "settle_due",
    "settle_rights",
]
