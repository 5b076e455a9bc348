"""What a strategy is: hooks, a frozen config, orders, and the context it trades through.

A strategy is a small object with three hooks, in the manner of NautilusTrader's
``Strategy`` and backtesting.py's one-bar-at-a-time ``next``:

- :meth:`Strategy.on_start` — it was switched on (from the keyboard, the CLI or a
  backtest);
- :meth:`Strategy.on_event` — one event it asked for (:attr:`Strategy.wants`),
  never stamped after the clock; :meth:`Strategy.on_bar` — every event stamped
  ``ts`` has been delivered (the bar is complete), for decisions across markets;
- :meth:`Strategy.on_stop` — it is being switched off (by hand, by the kill
  switch, or at the end of a backtest); by default it closes its open positions.

It trades only through its :class:`StrategyContext`: it submits :class:`Order`
objects and gets :class:`~engine.events.Trade` fills back (or nothing, when the
execution model refuses). It never sees the store, the bus, the feed or the
clock — only the events the :class:`~engine.strategy_manager.StrategyManager`
hands it, in time order, and "now" as the newest event time it has been given.
That is what makes a strategy behave the same live and in a backtest, and what
keeps it from peeking ahead.

Books. Every fill moves a *book* of the strategy (:attr:`Order.book`). A book
named after a market is a position in that market, marked to its latest price.
Any other name is a physical inventory held at cost: the energy in a battery,
or energy bought in one zone on its way to be sold in another. Fees and asset
costs of a fill that opens or adds to a book are added to its cost basis; a
fill that reduces a book realises PnL against that basis. So a trade's
``pnl_eur`` is realised PnL, opening fills carry 0, and the sum of ``pnl_eur``
over all trades is the strategy's revenue once its books are flat.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Protocol

import msgspec

from engine.events import Event, PriceTick, Trade

_MAX_CLOSE_ORDERS = 100


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class StrategyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields every strategy config has. Each strategy subclasses it (frozen, typed).

    Attributes:
        markets: the markets it trades; empty = every market it sees.
        flatten_on_stop: close open positions when stopped (kill switch included).
    """

    markets: tuple[str, ...] = ()
    flatten_on_stop: bool = True


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """A request to trade, filled (or not) by the execution model at the latest price.

    Attributes:
        market: where to trade.
        side: buy or sell.
        volume_mwh: how much (> 0); the execution model may fill less (limits).
        reason: why, in words a trader would use; kept on the trade and in the audit log.
        book: which book the fill moves (module docstring); "" = the market itself.
        book_ratio: book MWh per traded MWh. A battery books what reaches its
            cells: η_charge per MWh bought, 1/η_discharge per MWh sold.
        consume_value_eur_mwh: the energy bought is used at once (a flexible
            load) and is worth this much per MWh to the strategy; no book moves
            and the fill realises (value − price) x volume − costs.
        extra_cost_eur_mwh: cost of the strategy's own asset per MWh traded, on
            top of exchange fees (battery wear, transmission across a border).
        limit_price_eur_mwh: worst acceptable fill price (None = any).
        border: ``"FROM-TO"`` capacity this fill uses (cross-border flows).
        asset: the asset whose power limits the fill (a battery id).
        delivery_minutes: the delivery period the order is for; capacity and
            power limits are per period.
    """

    market: str
    side: Side
    volume_mwh: float
    reason: str
    book: str = ""
    book_ratio: float = 1.0
    consume_value_eur_mwh: float | None = None
    extra_cost_eur_mwh: float = 0.0
    limit_price_eur_mwh: float | None = None
    border: str | None = None
    asset: str | None = None
    delivery_minutes: int = 60

    @property
    def book_name(self) -> str:
        return self.book or self.market


class StrategyContext(Protocol):
    """What a running strategy may see and do. The manager implements it, one per strategy."""

    @property
    def name(self) -> str:
        """The strategy's name (as registered and shown in the dashboard)."""
        ...

    @property
    def now(self) -> datetime:
        """The newest event time handed to the strategy: its present."""
        ...

    def price(self, market: str) -> float | None:
        """The latest traded-kind price of ``market`` at or before :attr:`now`."""
        ...

    def price_ts(self, market: str) -> datetime | None:
        """When that price was stamped."""
        ...

    def delivery_minutes(self, market: str) -> int | None:
        """The delivery period of that price (day-ahead: 15 or 60); None for intraday ticks."""
        ...

    def position(self, book: str) -> float:
        """MWh held in ``book`` (> 0 long / stored, < 0 short)."""
        ...

    def books(self) -> dict[str, float]:
        """Every non-flat book and what it holds."""
        ...

    @property
    def realised_eur(self) -> float:
        """PnL the strategy has realised so far (net of fees)."""
        ...

    def submit(self, *orders: Order, all_or_none: bool = False) -> list[Trade]:
        """Send orders to the execution model now; return the fills.

        With ``all_or_none`` every order is scaled to the smallest share any of
        them can be filled to, and none is filled when one cannot be at all
        (the two legs of an arbitrage).
        """
        ...

    def register_asset(self, asset: str, power_mw: float) -> None:
        """Declare an asset (a battery) whose power caps fills per delivery period."""
        ...

    def emit(self, event: Event) -> None:
        """Publish an event of the strategy's own (a BatteryState), stamped at or before now."""
        ...


class Strategy:
    """Base class: override the hooks you need. One instance trades for one name."""

    kind: ClassVar[str] = "strategy"
    """Registry key of the strategy's kind (``arbitrage``, ``battery`` …)."""
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick,)
    """Event types handed to :meth:`on_event`."""
    inputs: ClassVar[frozenset[str]] = frozenset({"prices"})
    """What it needs to do anything: ``prices``, ``spreads``, ``forecasts``, ``fundamentals``."""
    uses_bars: ClassVar[bool] = False
    """Call :meth:`on_bar` when a bar completes (off by default: it costs a call per bar)."""

    def __init__(self, config: StrategyConfig, name: str | None = None) -> None:
        self.config = config
        self.name = name or self.kind
        self._markets = frozenset(config.markets)

    def trades_market(self, market: str) -> bool:
        """Whether ``market`` is one this strategy trades (all, when none are configured)."""
        return not self._markets or market in self._markets

    def describe(self) -> str:
        """One line for lists and reports: what it does, with its key parameters."""
        return self.kind

    def on_start(self, ctx: StrategyContext) -> None:
        """Switched on. Reset per-run state here if needed."""

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        """One event of a type in :attr:`wants`, stamped at or before ``ctx.now``."""

    def on_bar(self, ts: datetime, ctx: StrategyContext) -> None:
        """Every event stamped ``ts`` has been delivered (only with :attr:`uses_bars`)."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """Switched off: close open market positions unless the config says otherwise."""
        if self.config.flatten_on_stop:
            flatten(ctx, "close-out: strategy stopped")


def flatten(ctx: StrategyContext, reason: str, books: Sequence[str] | None = None) -> list[Trade]:
    """Close the market positions (books named after a market with a price) of ``ctx``."""
    fills: list[Trade] = []
    for book, held_mwh in sorted(ctx.books().items()):
        if books is not None and book not in books:
            continue
        if ctx.price(book) is None or abs(held_mwh) < 1e-9:
            continue  # not a market position (a battery, energy in transit), or flat
        side = Side.SELL if held_mwh > 0 else Side.BUY
        # The execution model caps each order; close in as many orders as that takes.
        for _ in range(_MAX_CLOSE_ORDERS):
            got = ctx.submit(Order(market=book, side=side, volume_mwh=abs(held_mwh), reason=reason))
            fills += got
            held_mwh = ctx.position(book)
            if not got or abs(held_mwh) < 1e-9:
                break
    return fills


def delivery_minutes(tick: PriceTick, default: int) -> int:
    """The delivery period a tick prices: its own for day-ahead, else ``default``."""
    return tick.delivery_minutes or default


__all__ = [
    "Order",
    "Side",
    "Strategy",
    "StrategyConfig",
    "StrategyContext",
    "delivery_minutes",
    "flatten",
]
