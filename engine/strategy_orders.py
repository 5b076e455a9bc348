"""Filling a hosted strategy's orders: from :class:`~engine.strategies.base.Order` to trades.

:meth:`StrategyManager.submit <engine.strategy_manager.StrategyManager.submit>`
hands a strategy's orders here. Each is sized to the room the
:class:`~engine.strategies.execution.ExecutionModel` leaves it (and its limit
price), filled at the manager's current price of its kind, and recorded as a
:class:`~engine.events.Trade` with its :class:`~engine.events.AuditEntry`;
what cannot be filled is counted as rejected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from engine.events import AuditEntry, Trade
from engine.strategies.base import Order, Side
from engine.strategy_slot import StrategySlot, StrategyState

if TYPE_CHECKING:
    from engine.strategy_manager import StrategyManager

_SHARE_EPSILON: Final = 1e-9


def fill_orders(
    manager: StrategyManager, slot: StrategySlot, orders: Sequence[Order], all_or_none: bool
) -> list[Trade]:
    """Fill ``slot``'s orders now; queue the trades and audit entries on ``manager.out``."""
    if slot.state is not StrategyState.RUNNING and not slot.closing:
        _reject(manager, slot, len(orders))
        return []
    now = manager.event_now
    execution = manager.execution
    account = slot.account
    prices = manager.prices
    # Plan every order first (all-or-none needs every room before any fill).
    planned: list[tuple[Order, float, float]] = []
    for order in orders:
        reference = prices.get(order.market)
        volume = order.volume_mwh
        if reference is None or not (volume > 0 and math.isfinite(volume)):
            planned.append((order, 0.0, 0.0))
            continue
        room = execution.room_mwh(order, account, now)[0]
        if (
            room > 0
            and order.limit_price_eur_mwh is not None
            and not execution.acceptable(order, execution.price(order, reference, room))
        ):
            room = 0.0
        planned.append((order, room, reference))
    if all_or_none and len(planned) > 1:
        share = 1.0
        for order, room, _ in planned:
            share = min(share, room / order.volume_mwh if room > 0 else 0.0)
        if share < _SHARE_EPSILON:
            _reject(manager, slot, len(planned))
            return []
        planned = [(order, order.volume_mwh * share, ref) for order, _, ref in planned]
    fills: list[Trade] = []
    out = manager.out
    name = slot.name
    prefix = manager.id_prefix
    actor = f"strategy:{name}"
    for order, volume, reference in planned:
        if volume <= _SHARE_EPSILON:
            _reject(manager, slot, 1)
            continue
        fill = execution.fill(order, volume, reference, account, now)
        slot.seq += 1
        trade_id = f"{prefix}{name}-{slot.seq:07d}"
        trade = Trade(
            ts=now,
            trade_id=trade_id,
            strategy=name,
            market=order.market,
            side="buy" if order.side is Side.BUY else "sell",
            volume_mwh=fill.volume_mwh,
            price_eur_mwh=fill.price_eur_mwh,
            fee_eur=fill.fee_eur,
            pnl_eur=fill.pnl_eur,
            reason=order.reason,
        )
        fills.append(trade)
        out.append(trade)
        out.append(
            AuditEntry(
                ts=now,
                entry_id="trade:" + trade_id,
                actor=actor,
                action="trade",
                strategy=name,
                reason=order.reason,
                ref=trade_id,
            )
        )
    if fills:
        slot.traded = True
        slot.last_trade = fills[-1]
        manager.stats.trades += len(fills)
    return fills


def _reject(manager: StrategyManager, slot: StrategySlot, count: int) -> None:
    slot.account.rejected += count
    manager.stats.rejected += count


__all__ = ["fill_orders"]
