"""The market timeline: which products a market has, and when each can be traded.

One place answers "what can be traded now, for which delivery, until when", the
same for live and backtest because it only ever reads the instant it is handed
(the engine's clock, never the wall clock). The order path
(:mod:`engine.strategies.orders`) asks :meth:`MarketTimeline.refusal` before it
accepts an order; strategies ask :meth:`MarketTimeline.next_day_ahead` when to
commit; the dashboard and the API list :meth:`MarketTimeline.tradable`.

The products, per market (:class:`MarketRules`, ``[market]`` in the settings):

- **Day-ahead (SDAC)**: one auction a day. Orders for local delivery day D close
  at ``day_ahead_gate`` (12:00 Europe/Brussels) on D−1; clearing prices are
  published at ``day_ahead_publication`` (~12:45). The MTU is 60 minutes before
  ``mtu_switch`` (2025-10-01, the first 15-minute SDAC delivery day) and 15 from
  then. GB runs its own auction: its rules carry their own time zone and times.
- **Intraday auctions (SIDC IDA)**: IDA1 15:00 D−1 and IDA2 22:00 D−1 for all of
  D, IDA3 10:00 D for 12:00–24:00 of D (:data:`SIDC_AUCTIONS`).
- **Continuous intraday**: any delivery period until ``intraday_lead_minutes``
  before it starts.

Whether a feed actually prices a product (the real price files hold day-ahead
only) is not the timeline's business: the order path knows what it has seen.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import msgspec


class Product(enum.StrEnum):
    """What an order buys: the delivery of one period, through one market."""

    DAY_AHEAD = "day_ahead"
    INTRADAY_AUCTION = "intraday_auction"
    INTRADAY = "intraday"  # continuous


class IntradayAuction(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One SIDC intraday auction: when its gate closes and what delivery it covers.

    Attributes:
        name: ``IDA1`` …
        gate: local gate-closure time.
        days_before: the gate closes on D−``days_before`` for delivery day D.
        delivery_from / delivery_to: the local hours of D it covers (24 = end of day).
    """

    name: str
    gate: time
    days_before: int
    delivery_from: int = 0
    delivery_to: int = 24


SIDC_AUCTIONS: Final = (
    IntradayAuction(name="IDA1", gate=time(15, 0), days_before=1),
    IntradayAuction(name="IDA2", gate=time(22, 0), days_before=1),
    IntradayAuction(name="IDA3", gate=time(10, 0), days_before=0, delivery_from=12),
)


class MarketRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When one market's products trade.

    Attributes:
        timezone: the time zone of the gate and publication times.
        delivery_timezone: the time zone of delivery days ("" = ``timezone``).
            GB's auction keeps UK times but the prices here are on the CET day.
        day_ahead_gate: local gate closure of the day-ahead auction on D−1.
        day_ahead_publication: local time on D−1 its results are published.
        mtu_switch: first delivery day with ``mtu_after_minutes`` periods.
        mtu_before_minutes / mtu_after_minutes: the day-ahead MTU either side.
        intraday_lead_minutes: continuous intraday closes this long before delivery.
        intraday_auctions: the intraday auctions (empty: none).
    """

    timezone: str = "Europe/Brussels"
    delivery_timezone: str = ""
    day_ahead_gate: time = time(12, 0)
    day_ahead_publication: time = time(12, 45)
    mtu_switch: date = date(2025, 10, 1)
    mtu_before_minutes: int = 60
    mtu_after_minutes: int = 15
    intraday_lead_minutes: int = 30
    intraday_auctions: tuple[IntradayAuction, ...] = SIDC_AUCTIONS

    def __post_init__(self) -> None:
        for name in ("timezone", "delivery_timezone"):
            value = getattr(self, name)
            if value:
                try:
                    ZoneInfo(value)
                except Exception:
                    raise ValueError(
                        f"market.{name}: unknown time zone {value!r} "
                        "(an IANA name such as 'Europe/Brussels')"
                    ) from None
        for name in ("mtu_before_minutes", "mtu_after_minutes"):
            if getattr(self, name) not in (15, 30, 60):
                raise ValueError(f"market.{name} must be 15, 30 or 60, got {getattr(self, name)}")
        if self.intraday_lead_minutes < 0:
            raise ValueError(
                f"market.intraday_lead_minutes must be >= 0, got {self.intraday_lead_minutes}"
            )
        if self.day_ahead_publication <= self.day_ahead_gate:
            raise ValueError("market.day_ahead_publication must come after day_ahead_gate")


# GB's day-ahead auction closes at 11:00 UK time (12:00 CET) and publishes
# before noon UK time; it has no SIDC auctions.
GB_RULES: Final = MarketRules(
    timezone="Europe/London",
    delivery_timezone="Europe/Brussels",
    day_ahead_gate=time(11, 0),
    day_ahead_publication=time(11, 50),
    intraday_auctions=(),
)


# Markets whose own rules apply unless the settings name them.
BUILT_IN_RULES: Final = {"GB": GB_RULES}


class TimelineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The rules of every market (``[market]``): a default and per-market overrides.

    ``[market.markets.NL]`` replaces NL's rules; a market not named there
    keeps its built-in rules (GB's auction, :data:`BUILT_IN_RULES`) or the default.
    """

    default: MarketRules = MarketRules()
    markets: dict[str, MarketRules] = msgspec.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Auction:
    """One auction of one market: the delivery it covers and its two instants."""

    market: str
    product: Product
    name: str
    delivery_start: datetime
    delivery_end: datetime
    gate_closure: datetime
    publication: datetime | None = None


@dataclass(frozen=True, slots=True)
class TradingWindow:
    """What can be traded now: a product, the delivery it covers, until when."""

    market: str
    product: Product
    name: str
    delivery_start: datetime
    delivery_end: datetime
    closes_at: datetime


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class MarketTimeline:
    """Answers what can be traded when, per market (module docstring)."""

    def __init__(self, config: TimelineConfig | None = None) -> None:
        self.config = config or TimelineConfig()

    def rules(self, market: str) -> MarketRules:
        found = self.config.markets.get(market) or BUILT_IN_RULES.get(market)
        return found or self.config.default

    def _delivery_zone(self, market: str) -> ZoneInfo:
        rules = self.rules(market)
        return _zone(rules.delivery_timezone or rules.timezone)

    # -- delivery days -----------------------------------------------------------

    def delivery_day(self, market: str, delivery_start: datetime) -> date:
        """The local delivery day a period belongs to."""
        return delivery_start.astimezone(self._delivery_zone(market)).date()

    def day_bounds(self, market: str, day: date) -> tuple[datetime, datetime]:
        """Start and end (UTC) of local delivery day ``day``: 23, 24 or 25 hours."""
        zone = self._delivery_zone(market)
        start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        return start, end

    def mtu_minutes(self, market: str, day: date) -> int:
        """The day-ahead MTU of delivery day ``day``."""
        rules = self.rules(market)
        return rules.mtu_after_minutes if day >= rules.mtu_switch else rules.mtu_before_minutes

    def _local(self, market: str, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=_zone(self.rules(market).timezone)).astimezone(UTC)

    # -- day-ahead ---------------------------------------------------------------

    def day_ahead(self, market: str, day: date) -> Auction:
        """The day-ahead auction for delivery day ``day``."""
        rules = self.rules(market)
        start, end = self.day_bounds(market, day)
        before = day - timedelta(days=1)
        return Auction(
            market=market,
            product=Product.DAY_AHEAD,
            name="DA",
            delivery_start=start,
            delivery_end=end,
            gate_closure=self._local(market, before, rules.day_ahead_gate),
            publication=self._local(market, before, rules.day_ahead_publication),
        )

    def next_day_ahead(self, market: str, now: datetime) -> Auction:
        """The first day-ahead auction whose gate is still open at ``now``."""
        day = self.delivery_day(market, now) + timedelta(days=1)
        auction = self.day_ahead(market, day)
        if now >= auction.gate_closure:
            auction = self.day_ahead(market, day + timedelta(days=1))
        return auction

    def published_until(self, market: str, now: datetime) -> datetime:
        """The end of the last delivery day whose day-ahead prices are published at ``now``."""
        day = self.delivery_day(market, now) + timedelta(days=1)
        if now < self.day_ahead(market, day).publication:  # type: ignore[operator]
            day -= timedelta(days=1)
        return self.day_bounds(market, day)[1]

    # -- intraday ----------------------------------------------------------------

    def intraday_auctions(self, market: str, day: date) -> list[Auction]:
        """The intraday auctions for delivery day ``day``, in gate order."""
        found: list[Auction] = []
        zone = self._delivery_zone(market)
        for spec in self.rules(market).intraday_auctions:
            start = datetime.combine(day, time(), tzinfo=zone) + timedelta(hours=spec.delivery_from)
            end = datetime.combine(day, time(), tzinfo=zone) + timedelta(hours=spec.delivery_to)
            found.append(
                Auction(
                    market=market,
                    product=Product.INTRADAY_AUCTION,
                    name=spec.name,
                    delivery_start=start.astimezone(UTC),
                    delivery_end=end.astimezone(UTC),
                    gate_closure=self._local(
                        market, day - timedelta(days=spec.days_before), spec.gate
                    ),
                )
            )
        return sorted(found, key=lambda a: a.gate_closure)

    def intraday_close(self, market: str, delivery_start: datetime) -> datetime:
        """When continuous intraday stops trading the period starting ``delivery_start``."""
        return delivery_start - timedelta(minutes=self.rules(market).intraday_lead_minutes)

    # -- the one question --------------------------------------------------------

    def gate_closure(
        self, market: str, product: Product, delivery_start: datetime, auction: str = ""
    ) -> datetime:
        """When orders for ``product`` delivering from ``delivery_start`` close."""
        day = self.delivery_day(market, delivery_start)
        if product is Product.DAY_AHEAD:
            return self.day_ahead(market, day).gate_closure
        if product is Product.INTRADAY:
            return self.intraday_close(market, delivery_start)
        for found in self.intraday_auctions(market, day):
            if (not auction or found.name == auction) and (
                found.delivery_start <= delivery_start < found.delivery_end
            ):
                return found.gate_closure
        raise ValueError(f"{market} has no intraday auction {auction or ''} for {delivery_start}")

    def refusal(
        self,
        market: str,
        product: Product,
        delivery_start: datetime,
        now: datetime,
        auction: str = "",
    ) -> str | None:
        """Why an order for this delivery cannot be traded at ``now`` (None: it can)."""
        try:
            closes = self.gate_closure(market, product, delivery_start, auction)
        except ValueError as exc:
            return str(exc)
        if now >= closes:
            return (
                f"{product.value} gate for {market} delivery {delivery_start:%Y-%m-%d %H:%M}Z "
                f"closed at {closes:%Y-%m-%d %H:%M}Z (order at {now:%Y-%m-%d %H:%M}Z)"
            )
        return None

    def tradable(self, market: str, now: datetime) -> list[TradingWindow]:
        """Every product of ``market`` still open at ``now``, with what it delivers."""
        windows: list[TradingWindow] = []
        auction = self.next_day_ahead(market, now)
        windows.append(
            TradingWindow(
                market, Product.DAY_AHEAD, auction.name, auction.delivery_start,
                auction.delivery_end, auction.gate_closure,
            )
        )  # fmt: skip
        today = self.delivery_day(market, now)
        for day in (today, today + timedelta(days=1)):
            for ida in self.intraday_auctions(market, day):
                if now < ida.gate_closure:
                    windows.append(
                        TradingWindow(
                            market, ida.product, ida.name, ida.delivery_start,
                            ida.delivery_end, ida.gate_closure,
                        )
                    )  # fmt: skip
        lead = timedelta(minutes=self.rules(market).intraday_lead_minutes)
        first = now + lead
        published = self.published_until(market, now)
        if first < published:
            windows.append(
                TradingWindow(
                    market, Product.INTRADAY, "continuous", first, published, published - lead
                )
            )
        return windows


__all__ = [
    "BUILT_IN_RULES",
    "GB_RULES",
    "SIDC_AUCTIONS",
    "Auction",
    "IntradayAuction",
    "MarketRules",
    "MarketTimeline",
    "Product",
    "TimelineConfig",
    "TradingWindow",
]
