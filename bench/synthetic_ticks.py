"""Synthetic intraday ticks for the benches that need a known, repeatable load."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from engine.events import PriceKind, PriceTick

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
T0 = datetime(2024, 3, 1, tzinfo=UTC)
T = TypeVar("T")


def make_ticks(count: int, *, start: datetime = T0, seed: int = 7) -> list[PriceTick]:
    """``count`` ticks round-robin over six markets, 250 ms apart per market."""
    rng = random.Random(seed)
    ticks = []
    for i in range(count):
        step, market = divmod(i, len(MARKETS))
        ticks.append(
            PriceTick(
                ts=start + timedelta(microseconds=250_000 * step + rng.randrange(1000)),
                market=MARKETS[market],
                price_eur_mwh=round(rng.gauss(80.0, 30.0), 2),
                kind=PriceKind.INTRADAY,
                volume_mwh=round(rng.uniform(0.1, 50.0), 1),
                source="bench",
            )
        )
    return ticks


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive slices of ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]
