"""Small builders for tests: events with sensible defaults, fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.events import PriceKind, PriceTick

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def tick(
    market: str = "DE",
    price: float = 50.0,
    *,
    at: datetime = T0,
    seconds: float = 0.0,
    kind: PriceKind = PriceKind.INTRADAY,
    source: str = "test",
) -> PriceTick:
    return PriceTick(
        ts=at + timedelta(seconds=seconds),
        market=market,
        price_eur_mwh=price,
        kind=kind,
        source=source,
    )
