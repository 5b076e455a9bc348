"""One hosted strategy: its state, its account, and the StrategyContext it runs in.

:class:`~engine.strategies.manager.StrategyManager` keeps a :class:`StrategySlot`
per strategy. The slot is what the strategy sees as its
:class:`~engine.strategies.base.StrategyContext`: the manager's prices and
present, its own positions, and ``submit`` (filled by
:func:`engine.strategies.orders.fill_orders` through the manager). It also words
the strategy's :class:`~engine.events.StrategyStatus` line.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from datetime import datetime

from engine.events import Event, OpenPosition, StrategyStatus, Trade
from engine.market.ledger import FLAT_MWH
from engine.market.rights import RightPurchase, RightsBook
from engine.market.timeline import MarketTimeline
from engine.strategies.base import Order, Strategy
from engine.strategies.desk import TradingDesk
from engine.strategies.execution import Account
from engine.time_us import US_PER_MINUTE, from_us, to_us

Submit = Callable[["StrategySlot", Sequence[Order], bool], list[Trade]]
BuyRight = Callable[["StrategySlot", RightPurchase], "Trade | None"]


_POSITIONS_SHOWN = 48  # a status line lists two days of hourly positions at most


class StrategyState(enum.StrEnum):
    """A hosted strategy's lifecycle: stopped, running, or in error after a hook raised."""

    STOPPED = "stopped"
    RUNNING = "running"
    ERROR = "error"


class StrategySlot:
    """One hosted strategy: its state and account, and its StrategyContext.

    It reads the present and the prices on the manager's :class:`TradingDesk`
    and sends orders and rights through the two callables it is given (the
    manager's order path), so it never needs the manager itself.
    """

    __slots__ = (
        "_buy_right",
        "_submit",
        "account",
        "closing",
        "desk",
        "last_action",
        "last_trade",
        "name",
        "rights",
        "seq",
        "state",
        "strategy",
        "traded",
    )

    def __init__(
        self,
        strategy: Strategy,
        desk: TradingDesk[StrategySlot],
        *,
        submit: Submit,
        buy_right: BuyRight,
    ) -> None:
        self.strategy = strategy
        self.desk = desk
        self._submit = submit
        self._buy_right = buy_right
        self.account = Account()
        self.rights = RightsBook()  # transmission rights: cash flows, not energy
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
            positions=self.open_positions(),
            pending_orders=len(self.desk.auction_book.pending_of(self)),
            rejected=self.account.rejected,
        )

    def open_positions(self, limit: int = _POSITIONS_SHOWN) -> tuple[OpenPosition, ...]:
        """The undelivered positions, soonest delivery first (at most ``limit``)."""
        found = sorted(
            (p for p in self.account.ledger if abs(p.qty_mwh) >= FLAT_MWH),
            key=lambda p: (p.delivery_start_us, p.market, p.book),
        )[:limit]
        return tuple(
            OpenPosition(
                market=p.market,
                product=p.product.value,
                delivery_start=from_us(p.delivery_start_us),
                delivery_minutes=(p.delivery_end_us - p.delivery_start_us) // US_PER_MINUTE,
                net_mwh=round(p.qty_mwh, 6),
                average_price_eur_mwh=p.average_price_eur_mwh,
                book=p.book,
            )
            for p in found
        )

    # -- StrategyContext ---------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.desk.event_now

    def price(self, market: str) -> float | None:
        return self.desk.prices.get(market)

    def price_ts(self, market: str) -> datetime | None:
        return self.desk.price_times.get(market)

    def delivery_minutes(self, market: str) -> int | None:
        return self.desk.price_minutes.get(market)

    @property
    def timeline(self) -> MarketTimeline:
        return self.desk.timeline

    def position(self, market: str) -> float:
        return self.account.held(market)

    def position_at(self, market: str, delivery_start: datetime) -> float:
        return self.account.ledger.held(market, to_us(delivery_start))

    def books(self) -> dict[str, float]:
        return self.account.open_books()

    def open_periods(self, market: str) -> list[tuple[datetime, float]]:
        return sorted(
            (from_us(p.delivery_start_us), p.qty_mwh)
            for p in self.account.ledger
            if p.market == market and not p.physical
        )

    def has_intraday(self, market: str) -> bool:
        return market in self.desk.intraday_prices

    @property
    def realised_eur(self) -> float:
        return self.account.realised_eur

    def submit(self, *orders: Order, all_or_none: bool = False) -> list[Trade]:
        return self._submit(self, orders, all_or_none)

    def buy_right(self, right: RightPurchase) -> Trade | None:
        return self._buy_right(self, right)

    def register_asset(self, asset: str, power_mw: float) -> None:
        self.desk.execution.register_asset(asset, power_mw)

    def emit(self, event: Event) -> None:
        if event.ts > self.desk.event_now:
            raise ValueError(
                f"strategy {self.name} emitted an event stamped {event.ts}, after its now "
                f"{self.desk.event_now}: strategies live in the present"
            )
        self.desk.out.append(event)

    def equity_eur(self) -> float:
        return self.account.equity_eur(self.desk.clearing)


__all__ = ["StrategySlot", "StrategyState"]
