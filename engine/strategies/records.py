"""The records a hosted strategy's trading leaves: Trades, audit entries, refusals.

Shared by the order path (:mod:`engine.strategies.orders`) and settlement
(:mod:`engine.strategies.settlement`): every fill and settlement is a
:class:`~engine.events.Trade` numbered per strategy, and every fill and refusal
has its :class:`~engine.events.AuditEntry`. A refusal is counted, logged (the
first of its kind per strategy at INFO, the rest at DEBUG: a backtest may
refuse thousands) and audited with its reason.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from engine.events import AuditEntry, Trade
from engine.strategies.base import Order
from engine.strategies.desk import TradingDesk
from engine.strategies.slot import StrategySlot

Desk = TradingDesk[StrategySlot]

log = logging.getLogger("engine.strategies.orders")  # the name operators already filter on


def trade_record(desk: Desk, slot: StrategySlot, at: datetime | None, **fields: Any) -> Trade:
    slot.seq += 1
    return Trade(
        ts=at or desk.event_now,
        trade_id=f"{desk.id_prefix}{slot.name}-{slot.seq:07d}",
        strategy=slot.name,
        **fields,
    )


def audit_record(
    desk: Desk,
    slot: StrategySlot,
    action: str,
    reason: str,
    ref: str,
    at: datetime | None = None,
) -> AuditEntry:
    desk.audit_seq += 1
    return AuditEntry(
        ts=at or desk.event_now,
        entry_id=f"{desk.id_prefix}{action}:{slot.name}:{desk.audit_seq}",
        actor=f"strategy:{slot.name}",
        action=action,
        strategy=slot.name,
        reason=reason[:300],
        ref=ref,
    )


def reject(desk: Desk, slot: StrategySlot, order: Order | None, why: str) -> None:
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
    refuse(desk, slot, what, why)


def refuse(desk: Desk, slot: StrategySlot, what: str, why: str) -> None:
    """Count a refusal, log it (the first of its kind at INFO) and audit it with its reason."""
    head = why.split(":")[0]
    slot.account.reject(head)
    desk.stats.rejected += 1
    level = logging.INFO if slot.account.rejections[head] == 1 else logging.DEBUG
    log.log(level, "strategy %s: %s rejected: %s", slot.name, what, why)
    desk.out.append(audit_record(desk, slot, "reject", f"{what} rejected: {why}", ""))


__all__ = ["audit_record", "refuse", "reject", "trade_record"]
