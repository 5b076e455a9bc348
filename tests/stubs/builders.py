"""Small builders for tests: events with sensible defaults, fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.events import FeedHealth, PriceKind, PriceTick

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


def degraded_entsoe(now: datetime) -> FeedHealth:
    """An ENTSO-E feed in trouble, as the kernel's machine reports it (for the pane)."""
    return FeedHealth(
        ts=now,
        source="entsoe",
        state="degraded",
        last_success=now - timedelta(minutes=5),
        events_total=1234,
        errors_total=3,
        message="retrying: day-ahead prices DE (A44) 2026-03-10..2026-03-12: HTTP 503 from the API",
        since=now - timedelta(minutes=2, seconds=5),
        retries_total=3,
        last_error="day-ahead prices DE (A44) 2026-03-10..2026-03-12: HTTP 503 from the API",
        last_error_at=now - timedelta(seconds=20),
        budget_used=37,
        budget_limit=400,
    )
