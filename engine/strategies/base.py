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
clock — only the events the :class:`~engine.strategies.manager.StrategyManager`
hands it, in time order, and "now" as the newest event time it has been given.
That is what makes a strategy behave the same live and in a backtest, and what
keeps it from peeking ahead.

Orders name a product and a delivery period (:mod:`engine.market.timeline`):
a **day-ahead** order is for one period of a delivery day and is accepted only
before that day's gate closure (12:00 CET on D−1); it fills at the clearing
price once published. A **continuous intraday** order fills at the latest
intraday price, for a period still open (by default the first one that is).
An order the timeline refuses is rejected with its reason, counted and written
to the audit log. Fills build *positions* per market and delivery period; at
delivery each settles (:mod:`engine.market.ledger`) and its realised PnL is a
``Trade`` of side ``settle``. So fills carry 0 PnL and the sum of ``pnl_eur``
over all trades is the strategy's revenue once every position is delivered.
A position's ``book`` names the physical asset that delivers it (a battery);
"" is a trader's financial position, closed at the period's reference price.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Protocol

import msgspec

from engine.events import Event, PriceTick, Trade
from engine.market.rights import RightPurchase
from engine.market.timeline import MarketTimeline, Product

_MAX_CLOSE_ORDERS = 100


class Side(enum.StrEnum):
    """Which way an order trades: buy or sell."""

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
        product: day-ahead, intraday auction or continuous intraday.
        auction: which intraday auction (``IDA1``, ``IDA2``, ``IDA3``) for
            ``Product.INTRADAY_AUCTION``; ignored otherwise.
        delivery_start: the delivery period's start (UTC); None for continuous
            intraday = the first period still open; a day-ahead order needs one.
        book: the physical asset delivering the position (module docstring);
            "" = a financial position in the market.
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
    product: Product = Product.INTRADAY
    auction: str = ""
    delivery_start: datetime | None = None
    book: str = ""
    consume_value_eur_mwh: float | None = None
    extra_cost_eur_mwh: float = 0.0
    limit_price_eur_mwh: float | None = None
    border: str | None = None
    asset: str | None = None
    delivery_minutes: int = 60


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

    @property
    def timeline(self) -> MarketTimeline:
        """What can be traded when: gate closures, delivery days, MTUs."""
        ...

    def position(self, market: str) -> float:
        """MWh held in ``market`` over every undelivered period (> 0 long, < 0 short)."""
        ...

    def position_at(self, market: str, delivery_start: datetime) -> float:
        """MWh held in ``market`` for the period starting ``delivery_start``."""
        ...

    def books(self) -> dict[str, float]:
        """Net open MWh per market, where not flat."""
        ...

    def open_periods(self, market: str) -> list[tuple[datetime, float]]:
        """(delivery start, MWh) of every undelivered financial position in ``market``."""
        ...

    def has_intraday(self, market: str) -> bool:
        """Whether the feed prices continuous intraday in ``market`` (day-ahead-only: no)."""
        ...

    @property
    def realised_eur(self) -> float:
        """PnL the strategy has realised so far (net of fees)."""
        ...

    def submit(self, *orders: Order, all_or_none: bool = False) -> list[Trade]:
        """Send orders now; return the immediate fills (intraday).

        Day-ahead orders accepted before gate closure return no fill: they fill
        when the clearing price is published (the trade comes as an event then).

        With ``all_or_none`` every order is scaled to the smallest share any of
        them can be filled to, and none is filled when one cannot be at all
        (the two legs of an arbitrage).
        """
        ...

    def buy_right(self, right: RightPurchase) -> Trade | None:
        """Hold a cross-border transmission right bought at its auction price.

        A right is not energy: no position moves. The purchase is a Trade of
        0 MWh on the border (``"DE-FR"``) at the right's price, pnl 0, with its
        fees; each delivery period then settles once both day-ahead prices of
        the period are known, as a ``settle`` Trade whose pnl is MW x hours x
        (max(0, p_to − p_from) − price − fee). None: refused (the strategy is
        not running, the right is malformed, or its delivery has begun), with
        the reason in the audit log.
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
    auctions: ClassVar[frozenset[str]] = frozenset({"DA"})
    """The auctions it sends orders to before their gate (``DA``, ``IDA1`` …): the
    gate-closure cockpit (:mod:`engine.cockpit`) expects its orders there while it runs."""

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
    """Close what can still be closed of ``ctx``'s financial positions, on continuous intraday.

    Positions whose intraday market has closed (or a feed without intraday)
    stay and settle at delivery: a committed day-ahead position cannot be undone.
    """
    fills: list[Trade] = []
    for market in sorted(ctx.books()):
        if (books is not None and market not in books) or not ctx.has_intraday(market):
            continue
        for start, held_mwh in ctx.open_periods(market):
            if abs(held_mwh) < 1e-9 or ctx.timeline.intraday_close(market, start) <= ctx.now:
                continue
            side = Side.SELL if held_mwh > 0 else Side.BUY
            # The execution model caps each order; close in as many orders as that takes.
            for _ in range(_MAX_CLOSE_ORDERS):
                order = Order(
                    market=market,
                    side=side,
                    volume_mwh=abs(held_mwh),
                    reason=reason,
                    delivery_start=start,
                )
                got = ctx.submit(order)
                fills += got
                held_mwh = ctx.position_at(market, start)
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
