"""TradingDesk: the state the strategy manager's order path, records and settlement share.

:class:`~engine.strategies.manager.StrategyManager` owns one desk and hands it
to the functions that fill orders (:mod:`engine.strategies.orders`), word their
records (:mod:`engine.strategies.records`) and settle positions
(:mod:`engine.strategies.settlement`), and to each
:class:`~engine.strategies.slot.StrategySlot`. They read the present and the
prices here and write what they cause into :attr:`TradingDesk.out`; none of
them needs the manager itself, so none imports it.

The desk is generic in who owns an order (the slot type), so that this module
imports no slot and the slot can import it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Generic, TypeVar

from engine.events import Event
from engine.market.auction_book import AuctionBook
from engine.market.timeline import MarketTimeline
from engine.strategies.base import Order
from engine.strategies.config import ManagerStats
from engine.strategies.execution import ExecutionModel

MIN_DATETIME: Final = datetime.min.replace(tzinfo=UTC)

OwnerT = TypeVar("OwnerT")


class TradingDesk(Generic[OwnerT]):
    """The present, the prices, the books and the outbox of one strategy manager.

    Attributes:
        execution: how orders fill (fees, slippage, volume, border capacity).
        timeline: what can be traded when.
        auction_book: auction orders waiting for their clearing price.
        clearing: clearing prices by (market, delivery start µs).
        intraday_prices: the latest continuous intraday price per market.
        prices, price_times, price_minutes: the latest traded price per market,
            when it was stamped and its delivery length.
        event_now: the newest event time handed to the strategies.
        out: the events caused so far in this call (trades, audit entries,
            statuses); the manager takes them.
        stats: the manager's counters.
        id_prefix: what every trade and audit id of this session starts with.
        audit_seq: the last audit entry's number.
    """

    def __init__(self, execution: ExecutionModel, timeline: MarketTimeline, stats: ManagerStats):
        self.execution = execution
        self.timeline = timeline
        self.stats = stats
        self.auction_book: AuctionBook[OwnerT, Order] = AuctionBook()
        self.clearing: dict[tuple[str, int], float] = {}
        self.intraday_prices: dict[str, float] = {}
        self.prices: dict[str, float] = {}
        self.price_times: dict[str, datetime] = {}
        self.price_minutes: dict[str, int | None] = {}
        self.event_now = MIN_DATETIME
        self.out: list[Event] = []
        self.id_prefix = ""
        self.audit_seq = 0

    def reference_price(self, market: str, delivery_start_us: int) -> float | None:
        """What a financial position of this period closes at when delivered.

        The imbalance price stands in for it where a feed has one; here the
        latest continuous intraday price, else the period's clearing price.
        """
        intraday = self.intraday_prices.get(market)
        if intraday is not None:
            return intraday
        return self.clearing.get((market, delivery_start_us))
