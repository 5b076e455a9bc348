"""Settlement: delivered positions realise their PnL; transmission rights pay out.

Called by the :class:`~engine.strategies.manager.StrategyManager` as event time
moves on (every bar, every timer): :func:`settle_due` settles each position of
the :class:`~engine.market.ledger.PositionLedger` whose delivery period has
ended — at the period's reference price for a trader, by its asset for a
battery, at its value for a flexible load — and queues a ``settle`` Trade with
the realised PnL.

Transmission rights (:mod:`engine.market.rights`) move no energy: :func:`buy_right`
books a purchase as a 0 MWh Trade on the border, :func:`settle_rights` pays out
each delivery period as a ``settle`` Trade once its two day-ahead prices are
known, so Σ pnl_eur of a right is its payoff − its price − its fees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from engine.events import Trade
from engine.market.rights import RightPurchase
from engine.strategies.desk import TradingDesk
from engine.strategies.execution import period_start_us
from engine.strategies.orders import expire
from engine.strategies.records import audit_record, refuse, trade_record
from engine.strategies.slot import StrategySlot, StrategyState
from engine.time_us import US_PER_MINUTE, from_us, to_us

Desk = TradingDesk[StrategySlot]


def settle_due(desk: Desk, slot: StrategySlot, now_us: int) -> None:
    """Settle every position of ``slot`` delivered by ``now_us``; queue a settle Trade each."""
    ledger = slot.account.ledger
    for position in ledger.due(now_us):
        reference = desk.reference_price(position.market, position.delivery_start_us)
        done = ledger.settle(position, reference)
        if position.consume_value_eur_mwh is not None:
            price, how = position.consume_value_eur_mwh, "consumed"
        elif position.physical:
            price, how = 0.0, f"delivered by {position.book}"
        else:
            price, how = (reference or 0.0), "closed at the reference price"
        desk.out.append(
            trade_record(
                desk,
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
                // US_PER_MINUTE,
            )
        )
        desk.stats.settled += 1
        slot.traded = True


def settle_all(desk: Desk, slots: Iterable[StrategySlot], now_us: int) -> None:
    """All that was delivered by ``now_us``: orders never cleared expire, positions and
    rights settle."""
    expire(desk, now_us)
    for slot in slots:
        if len(slot.account.ledger):
            settle_due(desk, slot, now_us)
        if slot.rights:  # a stopped strategy's rights still pay and cost
            settle_rights(desk, slot, now_us)


RIGHT: Final = "transmission_right"  # the Trade.product of a right's purchase and payoffs


def buy_right(desk: Desk, slot: StrategySlot, right: RightPurchase) -> Trade | None:
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
    elif desk.event_now >= right.delivery_start:
        why = f"auction closed: delivery began {right.delivery_start:%Y-%m-%d %H:%M}Z"
    if why is not None:
        refuse(desk, slot, f"right {right.border} {right.mw:g} MW", why)
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
    trade = trade_record(
        desk,
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
    desk.out.append(trade)
    desk.out.append(audit_record(desk, slot, "trade", reason, trade.trade_id, trade.ts))
    slot.traded = True
    slot.last_trade = trade
    desk.stats.trades += 1
    return trade


def settle_rights(desk: Desk, slot: StrategySlot, now_us: int) -> None:
    """Pay out every period of ``slot``'s rights whose prices are known (or that went unpriced)."""
    clearing = desk.clearing
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
        desk.out.append(
            trade_record(
                desk,
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
        desk.stats.settled += 1
        slot.traded = True


__all__ = ["RIGHT", "buy_right", "settle_all", "settle_due", "settle_rights"]
