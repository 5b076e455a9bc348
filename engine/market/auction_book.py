"""Day-ahead orders waiting for their clearing price.

A day-ahead (or intraday-auction) order accepted before gate closure is not
filled at once: the auction clears later and publishes one price per delivery
period. The :class:`AuctionBook` keeps each accepted order under its market,
auction (``DA``, ``IDA1`` …) and delivery period until the clearing price of
that period arrives (:meth:`AuctionBook.clear`),
and hands back the orders whose period was delivered with no price ever
published (:meth:`AuctionBook.expired`). The strategy manager owns one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

Owner = TypeVar("Owner")
Payload = TypeVar("Payload")


@dataclass(frozen=True, slots=True)
class PendingOrder(Generic[Owner, Payload]):
    """An accepted order: who sent it, the order itself, the volume accepted."""

    owner: Owner
    order: Payload
    volume_mwh: float
    delivery_start_us: int
    delivery_end_us: int


class AuctionBook(Generic[Owner, Payload]):
    """Accepted auction orders by (market, auction, delivery start µs)."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: dict[tuple[str, str, int], list[PendingOrder[Owner, Payload]]] = {}

    def __len__(self) -> int:
        return sum(len(orders) for orders in self._pending.values())

    def add(self, market: str, auction: str, pending: PendingOrder[Owner, Payload]) -> None:
        key = (market, auction, pending.delivery_start_us)
        self._pending.setdefault(key, []).append(pending)

    def clear(
        self, market: str, auction: str, delivery_start_us: int
    ) -> list[PendingOrder[Owner, Payload]]:
        """The orders a clearing price of ``auction`` for this period fills (they leave)."""
        return self._pending.pop((market, auction, delivery_start_us), [])

    def expired(self, now_us: int) -> list[tuple[str, PendingOrder[Owner, Payload]]]:
        """Orders whose delivery ended by ``now_us`` without a clearing price (they leave)."""
        gone: list[tuple[str, PendingOrder[Owner, Payload]]] = []
        for key in [k for k, v in self._pending.items() if v and v[0].delivery_end_us <= now_us]:
            gone += [(key[0], p) for p in self._pending.pop(key)]
        return gone

    def cancel(self, owner: Owner, gate_open: Callable[[str, str, int], bool]) -> int:
        """Withdraw ``owner``'s orders whose gate is still open, per ``gate_open``."""
        withdrawn = 0
        for key, orders in list(self._pending.items()):
            if not gate_open(*key):
                continue
            keep = [p for p in orders if p.owner != owner]
            withdrawn += len(orders) - len(keep)
            if keep:
                self._pending[key] = keep
            else:
                del self._pending[key]
        return withdrawn

    def pending_of(self, owner: Owner) -> list[tuple[str, PendingOrder[Owner, Payload]]]:
        return [(k[0], p) for k, v in self._pending.items() for p in v if p.owner == owner]

    def orders_by_owner(
        self, market: str, auction: str, delivery_from_us: int, delivery_to_us: int
    ) -> Counter[Owner]:
        """How many orders each owner has waiting in ``auction`` of ``market`` for
        periods starting in ``[delivery_from_us, delivery_to_us)`` (read only: the
        gate-closure cockpit asks whose orders are in)."""
        found: Counter[Owner] = Counter()
        for (key_market, key_auction, start_us), orders in self._pending.items():
            wanted = key_market == market and key_auction == auction
            if wanted and delivery_from_us <= start_us < delivery_to_us:
                found.update(p.owner for p in orders)
        return found


__all__ = ["AuctionBook", "PendingOrder"]
