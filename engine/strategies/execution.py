"""Simulated execution: orders become fills with fees, slippage and limits; books keep PnL.

The same model fills every order, live and in a backtest, so a strategy cannot
tell them apart (:class:`~engine.strategy_manager.StrategyManager` calls it):

- **price**: the latest price of the order's market that the manager has seen
  (the price kind it trades, ``ManagerConfig.price_kind``), moved against the
  order by ``slippage_eur_mwh`` (half the bid-ask spread) plus
  ``impact_eur_mwh_per_mwh`` x volume (the book's depth). Replayed day-ahead
  prices become a fill at that price ± slippage: what it costs to trade the
  hour on the intraday market once its auction price is known.
- **fees**: ``fee_eur_mwh`` per MWh (exchange and clearing), plus the order's
  own asset cost (battery wear, transmission across a border). Both are in the
  trade's ``fee_eur``.
- **limits**, each clipping the volume (a fill may be smaller than asked, or
  none): ``max_order_mwh`` per order; ``max_position_mwh`` per market book of a
  strategy; the cross-border capacity of the order's border per delivery period
  (shared by every strategy); the registered power of the order's asset per
  delivery period; and the order's limit price, which refuses the fill.

:class:`Book` is average-cost accounting (see :mod:`engine.strategies.base`);
:class:`Account` holds a strategy's books, realised PnL and counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

import msgspec

from engine.strategies.base import Order, Side

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Holdings below this (MWh) are float noise of repeated fills, not a position.
FLAT_MWH: Final = 1e-9
_USAGE_PRUNE_AT: Final = 10_000


class ExecutionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How simulated orders are filled. Frozen; ``[strategies.execution]`` in the settings.

    Attributes:
        fee_eur_mwh: exchange and clearing fee per MWh traded (EPEX SPOT
            charges a few cents to ~0.1 EUR/MWh, clearing as much again).
        slippage_eur_mwh: paid per MWh against the reference price: half the
            spread of the order book.
        impact_eur_mwh_per_mwh: extra slippage per MWh of order size (depth).
        max_order_mwh: the largest single fill.
        max_position_mwh: the largest position a strategy may hold in one market.
        border_capacity_mw: cross-border capacity per direction (``"DE-FR"``),
            shared by all strategies per delivery period.
        default_border_capacity_mw: capacity of a border not listed.
    """

    fee_eur_mwh: float = 0.10
    slippage_eur_mwh: float = 0.25
    impact_eur_mwh_per_mwh: float = 0.001
    max_order_mwh: float = 500.0
    max_position_mwh: float = 1_000.0
    border_capacity_mw: dict[str, float] = msgspec.field(default_factory=dict)
    default_border_capacity_mw: float = 500.0

    def __post_init__(self) -> None:
        for name in ("fee_eur_mwh", "slippage_eur_mwh", "impact_eur_mwh_per_mwh"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"execution.{name} must be a finite number >= 0, got {value}")
        for name in ("max_order_mwh", "max_position_mwh", "default_border_capacity_mw"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"execution.{name} must be > 0, got {value}")
        for border, capacity in self.border_capacity_mw.items():
            if "-" not in border or not capacity >= 0:
                raise ValueError(
                    f"execution.border_capacity_mw[{border!r}] needs a 'FROM-TO' key and "
                    f"a capacity >= 0 MW, got {capacity}"
                )


@dataclass(slots=True)
class Book:
    """One book at average cost. ``avg_eur_mwh`` includes the capitalised costs of opening fills."""

    qty_mwh: float = 0.0
    avg_eur_mwh: float = 0.0

    def fill(self, qty_mwh: float, price_eur_mwh: float, costs_eur: float) -> float:
        """Apply a signed fill (> 0 adds); return the PnL it realises.

        Adding to a book (or opening it) realises nothing: price and costs go
        into the cost basis. Reducing it realises the difference to the basis,
        less the reducing share of the costs; going through zero opens the
        remainder on the other side at this price.
        """
        held = self.qty_mwh
        if abs(held) < FLAT_MWH or (held > 0) == (qty_mwh > 0):
            total = held + qty_mwh
            if abs(total) < FLAT_MWH:
                self.qty_mwh = self.avg_eur_mwh = 0.0
                return -costs_eur
            self.avg_eur_mwh = (
                held * self.avg_eur_mwh + qty_mwh * price_eur_mwh + costs_eur
            ) / total
            self.qty_mwh = total
            return 0.0
        closing = min(abs(qty_mwh), abs(held))
        share = closing / abs(qty_mwh)
        direction = 1.0 if held > 0 else -1.0
        realised = closing * (price_eur_mwh - self.avg_eur_mwh) * direction - costs_eur * share
        rest = qty_mwh * (1.0 - share)
        remaining = held - direction * closing
        if abs(rest) >= FLAT_MWH:  # flipped: the rest opens a book on the other side
            self.qty_mwh = rest
            self.avg_eur_mwh = (rest * price_eur_mwh + costs_eur * (1.0 - share)) / rest
        elif abs(remaining) < FLAT_MWH:
            self.qty_mwh = self.avg_eur_mwh = 0.0
        else:
            self.qty_mwh = remaining
        return realised

    def unrealised_eur(self, mark_eur_mwh: float) -> float:
        return self.qty_mwh * (mark_eur_mwh - self.avg_eur_mwh)


@dataclass(slots=True)
class Account:
    """A strategy's books and running totals."""

    books: dict[str, Book] = field(default_factory=dict)
    realised_eur: float = 0.0
    fees_eur: float = 0.0
    trades: int = 0
    volume_mwh: float = 0.0
    rejected: int = 0

    def held(self, book: str) -> float:
        found = self.books.get(book)
        return found.qty_mwh if found is not None else 0.0

    def open_books(self) -> dict[str, float]:
        return {name: b.qty_mwh for name, b in self.books.items() if abs(b.qty_mwh) >= FLAT_MWH}

    def equity_eur(self, marks: dict[str, float]) -> float:
        """Realised PnL plus market books marked to ``marks`` (physical books stay at cost)."""
        equity = self.realised_eur
        for name, book in self.books.items():
            if book.qty_mwh:
                mark = marks.get(name)
                if mark is not None:
                    equity += book.unrealised_eur(mark)
        return equity


class Fill(NamedTuple):
    volume_mwh: float
    price_eur_mwh: float
    fee_eur: float
    pnl_eur: float


_ONE_US: Final = timedelta(microseconds=1)


def period_start_us(ts: datetime, minutes: int) -> int:
    """The start (epoch µs) of the ``minutes``-long delivery period holding ``ts``."""
    step_us = max(minutes, 1) * 60_000_000
    us = (ts - _EPOCH) // _ONE_US
    return int(us // step_us * step_us)


class ExecutionModel:
    """Fills orders for every strategy of one manager (shared capacity and asset limits)."""

    def __init__(self, config: ExecutionConfig | None = None) -> None:
        self.config = config or ExecutionConfig()
        self._assets_mw: dict[str, float] = {}
        self._border_mw: dict[str, float] = {}
        # (border or asset, period start µs) → MWh already used.
        self._usage: dict[tuple[str, int], float] = {}
        self._period_key: tuple[datetime, int] | None = None
        self._period_us = 0

    def _period(self, now: datetime, minutes: int) -> int:
        # The legs of one trade, and the trades of one bar, share their period.
        key = (now, minutes)
        if key != self._period_key:
            self._period_key = key
            self._period_us = period_start_us(now, minutes)
        return self._period_us

    def register_asset(self, asset: str, power_mw: float) -> None:
        if not power_mw > 0:
            raise ValueError(f"asset {asset}: power_mw must be > 0, got {power_mw}")
        self._assets_mw[asset] = power_mw

    def border_capacity_mw(self, border: str) -> float:
        capacity = self._border_mw.get(border)
        if capacity is None:
            capacity = self.config.border_capacity_mw.get(
                border, self.config.default_border_capacity_mw
            )
            self._border_mw[border] = capacity
        return capacity

    def room_mwh(self, order: Order, account: Account, now: datetime) -> tuple[float, str]:
        """How much of ``order`` the limits allow now, and (when less) which limit bit."""
        config = self.config
        volume = order.volume_mwh
        why = ""
        if volume > config.max_order_mwh:
            volume, why = config.max_order_mwh, "max order size"
        if order.consume_value_eur_mwh is None and not order.book:
            held = account.held(order.market)
            direction = 1.0 if order.side is Side.BUY else -1.0
            room = config.max_position_mwh - held * direction
            if room < volume:
                volume, why = max(room, 0.0), "position limit"
        hours = order.delivery_minutes / 60.0
        if order.border is not None or order.asset is not None:
            period = self._period(now, order.delivery_minutes)
            if order.border is not None:
                used = self._usage.get((order.border, period), 0.0)
                room = self.border_capacity_mw(order.border) * hours - used
                if room < volume:
                    volume, why = max(room, 0.0), f"{order.border} capacity"
            if order.asset is not None:
                power = self._assets_mw.get(order.asset)
                if power is not None:
                    used = self._usage.get((order.asset, period), 0.0)
                    room = power * hours - used
                    if room < volume:
                        volume, why = max(room, 0.0), f"{order.asset} power"
        return volume, why

    def price(self, order: Order, reference_eur_mwh: float, volume_mwh: float) -> float:
        """The fill price: the reference moved against the order by slippage and impact."""
        config = self.config
        slip = config.slippage_eur_mwh + config.impact_eur_mwh_per_mwh * volume_mwh
        return reference_eur_mwh + slip if order.side is Side.BUY else reference_eur_mwh - slip

    def acceptable(self, order: Order, price_eur_mwh: float) -> bool:
        limit = order.limit_price_eur_mwh
        if limit is None:
            return True
        return price_eur_mwh <= limit if order.side is Side.BUY else price_eur_mwh >= limit

    def fill(
        self,
        order: Order,
        volume_mwh: float,
        reference_eur_mwh: float,
        account: Account,
        now: datetime,
    ) -> Fill:
        """Fill ``volume_mwh`` of ``order`` (already checked by :meth:`room_mwh`); book it."""
        price = self.price(order, reference_eur_mwh, volume_mwh)
        fee = (self.config.fee_eur_mwh + order.extra_cost_eur_mwh) * volume_mwh
        if order.consume_value_eur_mwh is not None:
            pnl = (order.consume_value_eur_mwh - price) * volume_mwh - fee
        else:
            book = account.books.get(order.book_name)
            if book is None:
                book = account.books[order.book_name] = Book()
            ratio = order.book_ratio
            signed = volume_mwh * ratio if order.side is Side.BUY else -volume_mwh * ratio
            pnl = book.fill(signed, price / ratio, fee)
        border, asset = order.border, order.asset
        if border is not None or asset is not None:
            period = self._period(now, order.delivery_minutes)
            usage = self._usage
            if border is not None:
                usage[border, period] = usage.get((border, period), 0.0) + volume_mwh
            if asset is not None:
                usage[asset, period] = usage.get((asset, period), 0.0) + volume_mwh
            if len(usage) > _USAGE_PRUNE_AT:
                self._prune(period)
        account.realised_eur += pnl
        account.fees_eur += fee
        account.trades += 1
        account.volume_mwh += volume_mwh
        return Fill(volume_mwh, price, fee, pnl)

    def _prune(self, current_period_us: int) -> None:
        day_us = 86_400_000_000
        self._usage = {
            key: used for key, used in self._usage.items() if key[1] >= current_period_us - day_us
        }


__all__ = [
    "FLAT_MWH",
    "Account",
    "Book",
    "ExecutionConfig",
    "ExecutionModel",
    "Fill",
    "period_start_us",
]
