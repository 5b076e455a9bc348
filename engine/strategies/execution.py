"""Simulated execution: fees, slippage and limits; a strategy's account of positions.

The same model prices and limits every order, live and in a backtest, so a
strategy cannot tell them apart (:mod:`engine.strategies.orders` calls it for the
:class:`~engine.strategies.manager.StrategyManager`):

- **price**: a day-ahead order fills at the clearing price, as a price taker
  in the auction (no slippage); a continuous intraday order fills at the
  latest intraday price moved against it by ``slippage_eur_mwh`` (half the
  bid-ask spread) plus ``impact_eur_mwh_per_mwh`` x volume (the book's depth).
- **fees**: ``fee_eur_mwh`` per MWh (exchange and clearing), plus the order's
  own asset cost (battery wear). Both are in the trade's ``fee_eur``.
- **limits**, each clipping the volume (a fill may be smaller than asked, or
  none): ``max_order_mwh`` per order; ``max_position_mwh`` per market and
  delivery period of a strategy; the cross-border capacity of the order's
  border per delivery period (shared by every strategy); the registered power
  of the order's asset per delivery period; and the order's limit price.

:class:`Account` holds a strategy's positions (an
:class:`~engine.market.ledger.PositionLedger`: per market and delivery period,
settled at delivery) and its counters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, NamedTuple

import msgspec

from engine.market.ledger import FLAT_MWH, PositionLedger
from engine.market.timeline import Product
from engine.strategies.base import Order, Side
from engine.time_us import US_PER_MINUTE, to_us

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
class Account:
    """A strategy's positions (by market and delivery period) and running totals."""

    ledger: PositionLedger = field(default_factory=PositionLedger)
    fees_eur: float = 0.0
    trades: int = 0
    volume_mwh: float = 0.0
    rejected: int = 0
    rejections: dict[str, int] = field(default_factory=dict)

    @property
    def realised_eur(self) -> float:
        """PnL of every delivered (settled) position, net of fees."""
        return self.ledger.realised_eur

    def held(self, market: str) -> float:
        """Energy held in ``market`` over every undelivered period (financial positions)."""
        return self.ledger.net_mwh(market)

    def open_books(self) -> dict[str, float]:
        """Net open energy per market, for markets where it is not flat."""
        nets: dict[str, float] = {}
        for position in self.ledger:
            if not position.physical:
                nets[position.market] = nets.get(position.market, 0.0) + position.qty_mwh
        return {m: q for m, q in nets.items() if abs(q) >= FLAT_MWH}

    def equity_eur(self, marks: dict[tuple[str, int], float]) -> float:
        """Realised PnL plus the open positions valued at ``marks`` (their clearing prices)."""
        return self.realised_eur + self.ledger.open_value_eur(marks)

    def reject(self, why: str) -> None:
        self.rejected += 1
        self.rejections[why] = self.rejections.get(why, 0) + 1


class Fill(NamedTuple):
    """What one order got: volume, price, fee and the PnL it realised."""

    volume_mwh: float
    price_eur_mwh: float
    fee_eur: float
    pnl_eur: float


def period_start_us(ts: datetime, minutes: int) -> int:
    """The start (epoch µs) of the ``minutes``-long delivery period holding ``ts``."""
    step_us = max(minutes, 1) * US_PER_MINUTE
    return to_us(ts) // step_us * step_us


class ExecutionModel:
    """Fills orders for every strategy of one manager (shared capacity and asset limits)."""

    def __init__(self, config: ExecutionConfig | None = None) -> None:
        self.config = config or ExecutionConfig()
        self._assets_mw: dict[str, float] = {}
        self._border_mw: dict[str, float] = {}
        # (border or asset, delivery period start µs) → MWh already taken.
        self._usage: dict[tuple[str, int], float] = {}

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

    def room_mwh(self, order: Order, account: Account, period_us: int) -> tuple[float, str]:
        """How much of ``order`` for its period the limits allow, and (when less) why."""
        config = self.config
        volume = order.volume_mwh
        why = ""
        if volume > config.max_order_mwh:
            volume, why = config.max_order_mwh, "max order size"
        if order.consume_value_eur_mwh is None and not order.book:
            held = account.ledger.held(order.market, period_us)
            direction = 1.0 if order.side is Side.BUY else -1.0
            room = config.max_position_mwh - held * direction
            if room < volume:
                volume, why = max(room, 0.0), "position limit"
        hours = order.delivery_minutes / 60.0
        if order.border is not None:
            used = self._usage.get((order.border, period_us), 0.0)
            room = self.border_capacity_mw(order.border) * hours - used
            if room < volume:
                volume, why = max(room, 0.0), f"{order.border} capacity"
        if order.asset is not None:
            power = self._assets_mw.get(order.asset)
            if power is not None:
                used = self._usage.get((order.asset, period_us), 0.0)
                room = power * hours - used
                if room < volume:
                    volume, why = max(room, 0.0), f"{order.asset} power"
        return volume, why

    def take(self, order: Order, volume_mwh: float, period_us: int) -> None:
        """Reserve the capacity and power an accepted order uses in its period."""
        usage = self._usage
        for key in (order.border, order.asset):
            if key is not None:
                usage[key, period_us] = usage.get((key, period_us), 0.0) + volume_mwh
        if len(usage) > _USAGE_PRUNE_AT:
            self._prune(period_us)

    def price(self, order: Order, reference_eur_mwh: float, volume_mwh: float) -> float:
        """A continuous fill price: the reference moved against the order by slippage and impact."""
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
        price_eur_mwh: float,
        account: Account,
        period_us: int,
        product: Product,
    ) -> Fill:
        """Book ``volume_mwh`` of ``order`` at ``price_eur_mwh`` in its delivery period."""
        fee = (self.config.fee_eur_mwh + order.extra_cost_eur_mwh) * volume_mwh
        signed = volume_mwh if order.side is Side.BUY else -volume_mwh
        account.ledger.fill(
            market=order.market,
            book=order.book,
            product=product,
            delivery_start_us=period_us,
            delivery_end_us=period_us + order.delivery_minutes * 60_000_000,
            signed_mwh=signed,
            price_eur_mwh=price_eur_mwh,
            fee_eur=fee,
            consume_value_eur_mwh=order.consume_value_eur_mwh,
        )
        account.fees_eur += fee
        account.trades += 1
        account.volume_mwh += volume_mwh
        return Fill(volume_mwh, price_eur_mwh, fee, 0.0)

    def _prune(self, current_period_us: int) -> None:
        day_us = 86_400_000_000
        self._usage = {
            key: used for key, used in self._usage.items() if key[1] >= current_period_us - day_us
        }


__all__ = [
    "FLAT_MWH",
    "Account",
    "ExecutionConfig",
    "ExecutionModel",
    "Fill",
    "period_start_us",
]
