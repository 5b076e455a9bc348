"""One hosted strategy: its state, its account, and the StrategyContext it runs in.

:class:`~engine.strategy_manager.StrategyManager` keeps a :class:`StrategySlot`
per strategy. The slot is what the strategy sees as its
:class:`~engine.strategies.base.StrategyContext`: the manager's prices and
present, its own positions, and ``submit`` (filled by
:func:`engine.strategy_orders.fill_orders` through the manager). It also words
the strategy's :class:`~engine.events.StrategyStatus` line.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from engine.events import Event, StrategyStatus, Trade
from engine.strategies.base import Order, Strategy
from engine.strategies.execution import Account

if TYPE_CHECKING:
    from engine.strategy_manager import StrategyManager


class StrategyState(enum.StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    ERROR = "error"


class StrategySlot:
    """One hosted strategy: its state and account, and its StrategyContext."""

    __slots__ = (
        "account",
        "closing",
        "last_action",
        "last_trade",
        "manager",
        "name",
        "seq",
        "state",
        "strategy",
        "traded",
    )

    def __init__(self, strategy: Strategy, manager: StrategyManager) -> None:
        self.strategy = strategy
        self.manager = manager
        self.account = Account()
        self.state = StrategyState.STOPPED
        self.last_action = "loaded"
        self.last_trade: Trade | None = None
        self.name = strategy.name
        self.seq = 0
        self.traded = False
        self.closing = False

    def mark(self, state: StrategyState, action: str) -> None:
        """A lifecycle change: the new state, and what the status line says happened."""
        self.state = state
        self.last_trade = None
        self.last_action = action

    def status(self, now: datetime) -> StrategyStatus:
        """The strategy's status line as of ``now``."""
        trade = self.last_trade
        if trade is not None:  # worded only when shown: a backtest fills 10⁵ trades
            self.last_action = (
                f"{trade.side} {trade.volume_mwh:,.1f} MWh {trade.market} "
                f"@ {trade.price_eur_mwh:,.2f}"
            )
            self.last_trade = None
        return StrategyStatus(
            ts=now,
            strategy=self.name,
            state=self.state.value,
            pnl_eur=self.equity_eur(),
            trades=self.account.trades,
            last_action=self.last_action,
        )

    # -- StrategyContext ---------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.manager.event_now

    def price(self, market: str) -> float | None:
        return self.manager.prices.get(market)

    def price_ts(self, market: str) -> datetime | None:
        return self.manager.price_times.get(market)

    def delivery_minutes(self, market: str) -> int | None:
        return self.manager.price_minutes.get(market)

    def position(self, book: str) -> float:
        return self.account.held(book)

    def books(self) -> dict[str, float]:
        return self.account.open_books()

    @property
    def realised_eur(self) -> float:
        return self.account.realised_eur

    def submit(self, *orders: Order, all_or_none: bool = False) -> list[Trade]:
        return self.manager.submit(self, orders, all_or_none)

    def register_asset(self, asset: str, power_mw: float) -> None:
        self.manager.execution.register_asset(asset, power_mw)

    def emit(self, event: Event) -> None:
        if event.ts > self.manager.event_now:
            raise ValueError(
                f"strategy {self.name} emitted an event stamped {event.ts}, after its now "
                f"{self.manager.event_now}: strategies live in the present"
            )
        self.manager.out.append(event)

    def equity_eur(self) -> float:
        return self.account.equity_eur(self.manager.prices)


__all__ = ["StrategySlot", "StrategyState"]
