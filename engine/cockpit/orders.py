"""Whose orders are in: the cockpit's read-only view of the strategy manager.

:class:`OrderDesk` is all the cockpit asks; :class:`ManagerOrders` answers it from a
:class:`~engine.strategies.manager.StrategyManager` through its public surface
(the names, states and strategies it hosts, and its auction book), so the cockpit
never reaches into the manager.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from engine.strategies.manager import StrategyManager
from engine.strategies.slot import StrategyState
from engine.time_us import to_us


class OrderDesk(Protocol):
    """Who is expected in an auction, and whose orders are in it."""

    def participants(self, market: str, auction: str) -> list[str]:
        """The running strategies that trade ``market`` and bid into ``auction`` (``DA`` …)."""
        ...

    def orders_in(
        self, market: str, auction: str, delivery_start: datetime, delivery_end: datetime
    ) -> dict[str, int]:
        """Orders waiting in ``auction`` for periods of ``[delivery_start, delivery_end)``,
        by strategy (strategies with none are absent)."""
        ...


class ManagerOrders:
    """An :class:`OrderDesk` over one strategy manager."""

    def __init__(self, manager: StrategyManager) -> None:
        self.manager = manager

    def participants(self, market: str, auction: str) -> list[str]:
        manager = self.manager
        found = []
        for name in manager.names:
            if manager.state(name) is not StrategyState.RUNNING:
                continue
            strategy = manager.strategy(name)
            if auction in strategy.auctions and strategy.trades_market(market):
                found.append(name)
        return sorted(found)

    def orders_in(
        self, market: str, auction: str, delivery_start: datetime, delivery_end: datetime
    ) -> dict[str, int]:
        counted = self.manager.auction_book.orders_by_owner(
            market, auction, to_us(delivery_start), to_us(delivery_end)
        )
        return {slot.name: count for slot, count in counted.items()}


class NoOrders:
    """The desk of an engine that hosts no strategies: nobody is expected anywhere."""

    def participants(self, market: str, auction: str) -> list[str]:
        return []

    def orders_in(
        self, market: str, auction: str, delivery_start: datetime, delivery_end: datetime
    ) -> dict[str, int]:
        return {}


__all__ = ["ManagerOrders", "NoOrders", "OrderDesk"]
