"""What the cockpit answers: one :class:`MarketGates` per market, in a :class:`CockpitSnapshot`.

The same structs are the in-process client's answer, the body of
``GET /api/v1/cockpit`` and what the dashboard's Gates pane is drawn from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final, Literal

import msgspec

PublicationStatus = Literal["awaiting", "published", "late", "untracked"]
PUBLICATION_STATUSES: Final[tuple[PublicationStatus, ...]] = (
    "awaiting",
    "published",
    "late",
    "untracked",
)


class StrategyOrders(msgspec.Struct, frozen=True, kw_only=True):
    """One running strategy that bids into an auction: how many of its orders wait in it."""

    strategy: str
    orders: int

    @property
    def orders_in(self) -> bool:
        return self.orders > 0


class GateRow(msgspec.Struct, frozen=True, kw_only=True):
    """One auction still open: what it delivers, when its gate closes, who is in.

    ``seconds_to_gate`` is measured from the snapshot's ``as_of``.
    ``strategies`` lists the running strategies that bid into this auction
    (those that trade the market and take part in it), with their orders in.
    """

    market: str
    auction: str  # "DA", "IDA1" …
    product: str  # "day_ahead" | "intraday_auction"
    delivery_day: date  # the market's local delivery day
    delivery_start: datetime
    delivery_end: datetime
    gate_closure: datetime
    seconds_to_gate: float
    strategies: tuple[StrategyOrders, ...] = ()


class PublicationRow(msgspec.Struct, frozen=True, kw_only=True):
    """The day-ahead auction whose gate closed last, and whether its results are in.

    ``late_at`` is when ``awaiting`` turns ``late`` (publication + grace, and
    never sooner than a grace after the engine started: a feed gets that long
    to fetch what was published before it ran).
    """

    market: str
    auction: str
    delivery_day: date
    delivery_start: datetime
    delivery_end: datetime
    publication: datetime
    late_at: datetime
    status: PublicationStatus


class MarketGates(msgspec.Struct, frozen=True, kw_only=True):
    """One market: its time zone, its open auctions soonest first, its last publication."""

    market: str
    timezone: str
    gates: tuple[GateRow, ...]
    publication: PublicationRow | None = None


class CockpitSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Every market's gates at ``as_of`` (engine time); empty before the engine ran."""

    markets: tuple[MarketGates, ...] = ()
    as_of: datetime | None = None
    late_grace_minutes: float = 15.0


__all__ = [
    "PUBLICATION_STATUSES",
    "CockpitSnapshot",
    "GateRow",
    "MarketGates",
    "PublicationRow",
    "PublicationStatus",
    "StrategyOrders",
]
