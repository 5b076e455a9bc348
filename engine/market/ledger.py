"""Positions per market and delivery period, and their settlement at delivery.

A fill does not make a strategy richer or poorer by itself: it moves energy for
one delivery period and money now. :class:`PositionLedger` keeps, per market,
book and delivery period, the energy bought (> 0) or sold (< 0) and the money
that went with it, fees included. When the period has been delivered the
position **settles** (:meth:`PositionLedger.settle`): its realised PnL is
booked and it leaves the open positions. How it settles depends on who stands
behind it:

- a **financial** position (book ``""``: a trader with no asset) is closed at
  the period's reference price — what the system operator charges or pays for
  energy a party bought but did not take (imbalance). Where a feed has no
  imbalance or intraday price, that is the day-ahead clearing price, so a
  position bought in the auction and held to delivery earns minus its fees;
- a **physical** position (a book naming an asset, a battery) was delivered by
  the asset: the money of the fills is the whole result;
- a **consumed** one (a flexible load, mining) was used at a value per MWh:
  realised = money + energy x value.

So the sum of every settlement's PnL equals the sum of the money of every
fill plus what the deliveries were worth, and no position outlives its
delivery: the invariants the property tests check.
:class:`~engine.strategies.manager.StrategyManager` owns one ledger per strategy.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from engine.market.timeline import Product

# Energy below this (MWh) is float noise of repeated fills, not a position.
FLAT_MWH: Final = 1e-9


@dataclass(slots=True)
class Position:
    """Energy and money of one market, book and delivery period."""

    market: str
    book: str
    product: Product
    delivery_start_us: int
    delivery_end_us: int
    qty_mwh: float = 0.0
    cash_eur: float = 0.0
    bought_mwh: float = 0.0
    sold_mwh: float = 0.0
    fees_eur: float = 0.0
    consume_value_eur_mwh: float | None = None

    @property
    def physical(self) -> bool:
        return bool(self.book)

    @property
    def average_price_eur_mwh(self) -> float | None:
        traded = self.bought_mwh + self.sold_mwh
        if traded < FLAT_MWH:
            return None
        gross = self.cash_eur + self.fees_eur  # money before fees: −bought·p + sold·p
        return -gross / self.qty_mwh if abs(self.qty_mwh) >= FLAT_MWH else None

    def value_eur(self, reference_eur_mwh: float | None) -> float:
        """What the position is worth delivered, with ``reference`` for a financial one."""
        if self.consume_value_eur_mwh is not None:
            return self.cash_eur + self.qty_mwh * self.consume_value_eur_mwh
        if self.physical or abs(self.qty_mwh) < FLAT_MWH:
            return self.cash_eur
        if reference_eur_mwh is None or not math.isfinite(reference_eur_mwh):
            # Nothing priced the period: closed at its own average, only fees lost.
            return -self.fees_eur
        return self.cash_eur + self.qty_mwh * reference_eur_mwh


@dataclass(frozen=True, slots=True)
class Settlement:
    """One position delivered: its energy, the price it closed at, its realised PnL."""

    position: Position
    reference_eur_mwh: float | None
    pnl_eur: float


Key = tuple[str, str, int]


class PositionLedger:
    """A strategy's positions by (market, book, delivery start); see the module docstring."""

    __slots__ = ("_positions", "realised_eur", "settled")

    def __init__(self) -> None:
        self._positions: dict[Key, Position] = {}
        self.realised_eur = 0.0
        self.settled = 0

    def __len__(self) -> int:
        return len(self._positions)

    def __iter__(self) -> Iterator[Position]:
        return iter(self._positions.values())

    def fill(
        self,
        *,
        market: str,
        book: str,
        product: Product,
        delivery_start_us: int,
        delivery_end_us: int,
        signed_mwh: float,
        price_eur_mwh: float,
        fee_eur: float,
        consume_value_eur_mwh: float | None = None,
    ) -> Position:
        """Book a fill: ``signed_mwh`` > 0 bought at ``price_eur_mwh``, < 0 sold."""
        key = (market, book, delivery_start_us)
        position = self._positions.get(key)
        if position is None:
            position = self._positions[key] = Position(
                market=market,
                book=book,
                product=product,
                delivery_start_us=delivery_start_us,
                delivery_end_us=delivery_end_us,
                consume_value_eur_mwh=consume_value_eur_mwh,
            )
        position.qty_mwh += signed_mwh
        position.cash_eur -= signed_mwh * price_eur_mwh + fee_eur
        position.fees_eur += fee_eur
        if signed_mwh > 0:
            position.bought_mwh += signed_mwh
        else:
            position.sold_mwh -= signed_mwh
        return position

    def held(self, market: str, delivery_start_us: int, book: str = "") -> float:
        found = self._positions.get((market, book, delivery_start_us))
        return found.qty_mwh if found is not None else 0.0

    def net_mwh(self, market: str, *, from_us: int | None = None) -> float:
        """Energy held in ``market`` over its open financial positions (from a delivery on)."""
        return math.fsum(
            p.qty_mwh
            for p in self._positions.values()
            if p.market == market
            and not p.physical
            and (from_us is None or p.delivery_start_us >= from_us)
        )

    def due(self, now_us: int) -> list[Position]:
        """Positions whose delivery has ended by ``now_us``, oldest first."""
        found = [p for p in self._positions.values() if p.delivery_end_us <= now_us]
        found.sort(key=lambda p: (p.delivery_start_us, p.market, p.book))
        return found

    def settle(self, position: Position, reference_eur_mwh: float | None) -> Settlement:
        """Deliver ``position``: book its PnL and drop it from the open positions."""
        pnl = position.value_eur(reference_eur_mwh)
        del self._positions[(position.market, position.book, position.delivery_start_us)]
        self.realised_eur += pnl
        self.settled += 1
        return Settlement(position, reference_eur_mwh, pnl)

    def open_value_eur(self, marks: dict[tuple[str, int], float]) -> float:
        """Open positions valued at ``marks`` ((market, delivery start) → price)."""
        return math.fsum(
            p.value_eur(marks.get((p.market, p.delivery_start_us)))
            for p in self._positions.values()
        )


__all__ = ["FLAT_MWH", "Position", "PositionLedger", "Settlement"]
