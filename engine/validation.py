"""Input validation at the door of the kernel: bad input is rejected, logged, counted.

A tick with a NaN or infinite price, a price outside the plausible range, an
unknown market, a naive timestamp, or a timestamp from the future never reaches
the bus or the store, and never stops the daemon. Auction results (day-ahead and
intraday-auction prices, ``AUCTION_KINDS``) are the kinds that legitimately lie
in the future (the delivery start of an auctioned period), so they may run ahead
of the clock by ``day_ahead_horizon_h``.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import msgspec

from engine.clock import Clock
from engine.events import AUCTION_KINDS, Event, Fundamentals, PriceTick

log = logging.getLogger(__name__)


class ValidationConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What counts as good input.

    Attributes:
        markets: known market codes; anything else is rejected.
        min_price_eur_mwh / max_price_eur_mwh: plausible price range. The SDAC
            harmonised limits are −500 and +4,000 (raised over time), so the
            defaults leave room while still catching unit mix-ups (€/kWh × 1000).
        max_future_s: clock skew tolerated for intraday and imbalance ticks.
        day_ahead_horizon_h: how far ahead an auctioned delivery (day-ahead or
            intraday auction) may start.
        log_first: log every rejection up to this many per reason, then every
            ``log_every``-th, so a flood of garbage cannot flood the log.
    """

    markets: tuple[str, ...] = ("DE", "FR", "NL", "BE", "AT", "GB")
    min_price_eur_mwh: float = -1_000.0
    max_price_eur_mwh: float = 20_000.0
    max_future_s: float = 5.0
    day_ahead_horizon_h: float = 48.0
    log_first: int = 20
    log_every: int = 1_000


class TickValidator:
    """Checks every tick before the engine takes it: known market, finite price in range, not from
    the future.

    The kernel rejects (logs and counts) what fails; nothing else is lost.
    """

    def __init__(self, config: ValidationConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._markets = frozenset(config.markets)
        self._max_future = timedelta(seconds=config.max_future_s)
        self._day_ahead_horizon = timedelta(hours=config.day_ahead_horizon_h)
        self.rejected: Counter[str] = Counter()

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def reason(self, event: Event, now: datetime | None = None) -> str | None:
        """Why ``event`` is bad, or None if it is fine (``now`` defaults to the clock)."""
        ts = event.ts
        if ts.tzinfo is None or ts.utcoffset() is None:
            return "naive timestamp (need tz-aware UTC)"
        if isinstance(event, PriceTick):
            if event.market not in self._markets:
                return f"unknown market {event.market!r}"
            price = event.price_eur_mwh
            if not math.isfinite(price):
                return "price is not a finite number"
            if not self.config.min_price_eur_mwh <= price <= self.config.max_price_eur_mwh:
                return "price outside the plausible range"
            ahead = self._day_ahead_horizon if event.kind in AUCTION_KINDS else self._max_future
            if ts > (now or self.clock.now()) + ahead:
                return "timestamp in the future"
        elif isinstance(event, Fundamentals):
            if event.market not in self._markets:
                return f"unknown market {event.market!r}"
            if not all(math.isfinite(v) for v in (event.load_mw, event.wind_mw, event.solar_mw)):
                return "fundamentals are not finite numbers"
            if event.load_forecast_mw is not None and not math.isfinite(event.load_forecast_mw):
                return "load forecast is not a finite number"
        return None

    def filter(self, events: Sequence[Event]) -> list[Event]:
        """The good events of a batch, in order; the bad ones are logged and counted."""
        now = self.clock.now()  # once per batch: the hot path handles ~10⁵ ticks/s
        markets = self._markets
        low, high = self.config.min_price_eur_mwh, self.config.max_price_eur_mwh
        latest = now + self._max_future
        latest_day_ahead = now + self._day_ahead_horizon
        auctions = AUCTION_KINDS
        good: list[Event] = []
        for event in events:
            # Fast path for the common case: a plausible price tick, checked
            # inline (``low <= p <= high`` is False for NaN and ±inf). A replay
            # of auction prices is all day-ahead ticks, so they take it too.
            if (
                type(event) is PriceTick
                and event.market in markets
                and low <= event.price_eur_mwh <= high
                and event.ts.utcoffset() is not None
                and event.ts <= (latest_day_ahead if event.kind in auctions else latest)
            ):
                good.append(event)
                continue
            why = self.reason(event, now)
            if why is None:
                good.append(event)
            else:
                self._reject(event, why)
        return good

    def _reject(self, event: Event, why: str) -> None:
        key = why.split(" '")[0] if why.startswith("unknown market") else why
        self.rejected[key] += 1
        count = self.rejected[key]
        if count <= self.config.log_first or count % self.config.log_every == 0:
            log.warning("rejected %s: %s (%d so far): %r", type(event).__name__, why, count, event)
