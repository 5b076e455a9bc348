"""Cross-border transmission rights: the interconnectors, their capacity, what a right costs.

Under implicit market coupling the day-ahead spread between two zones is
congestion rent: it goes to the TSOs, not to whoever bought low and sold high.
A trader earns it only by holding a transmission right — a PTR/FTR option
bought in advance at JAO's long-term auctions — which pays
max(0, p_to − p_from) per MWh for each delivery period and costs its auction
price. This module owns

- :class:`TransmissionConfig`: the interconnectors (an adjacency list, both
  directions of each), the long-term capacity per direction, how a right is
  priced and when the monthly auction runs;
- the monthly calendar (:func:`month_of`, :func:`month_bounds`,
  :meth:`TransmissionConfig.auction_at`): months are local Europe/Brussels
  months, like delivery days;
- :class:`PayoffHistory`: every direction's payoff per delivery period, from
  day-ahead prices as they become known;
- :class:`RightsPricing`: a monthly right's price per direction.

The rights a strategy holds and their settlement per delivery period are in
:mod:`engine.market.rights`.

Callers: :mod:`engine.strategies.arbitrage` decides and prices what it buys,
:mod:`engine.spreads.engine` shows each spread net of its right.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from engine.market.zones import ZONES
from engine.time_us import US_PER_MINUTE, to_us

Direction = tuple[str, str]
"""A border direction (from, to): a right on it pays max(0, p_to − p_from)."""

# The interconnectors between gridtui's six zones; a right exists for both
# directions of each. Zones without one (AT-FR, FR-NL, GB-DE, GB-AT …) trade
# only through their neighbours: no right spans a chain of borders. Other
# configured zones add their real borders (:mod:`engine.market.zones`) when the
# settings are loaded, unless ``borders`` is given (gridtui.settings.zones).
INTERCONNECTORS: Final = (
    "DE-AT",
    "DE-FR",
    "DE-NL",
    "DE-BE",  # ALEGrO, in service since November 2020
    "FR-BE",
    "NL-BE",
    "GB-FR",  # IFA, IFA2, ElecLink (2022)
    "GB-NL",  # BritNed
    "GB-BE",  # Nemo Link
)

# Monthly long-term capacity per direction, MW. These are rounded orders of
# magnitude, not auction figures: JAO's monthly auctions on these borders
# offered a few hundred MW a direction in 2020-2022 (the monthly product is a
# slice of the long-term allocation beside the yearly one, both a fraction of
# the physical or flow-based day-ahead capacity), more on the big continental
# borders and the GB cables, less on the young ALEGrO link. The real figure
# changes every auction: put the month's own in ``capacity_mw``.
KNOWN_CAPACITY_MW: Final[Mapping[Direction, float]] = {
    direction: capacity_mw
    for (market_a, market_b), capacity_mw in {
        ("DE", "AT"): 400.0,
        ("DE", "FR"): 500.0,
        ("DE", "NL"): 400.0,
        ("DE", "BE"): 150.0,
        ("FR", "BE"): 300.0,
        ("NL", "BE"): 300.0,
        ("GB", "FR"): 500.0,
        ("GB", "NL"): 300.0,
        ("GB", "BE"): 300.0,
    }.items()
    for direction in ((market_a, market_b), (market_b, market_a))
}

PRICINGS: Final = ("previous_month_mean", "fixed", "file")
_BRUSSELS: Final = "Europe/Brussels"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def parse_direction(key: str) -> Direction:
    """``"DE-FR"`` → ("DE", "FR"); ``"IT-NORD-FR"`` → ("IT-NORD", "FR").

    A zone code may hold a hyphen (the Italian zones), so the key is cut where
    both sides are zones of :data:`engine.market.zones.ZONES`; a key that no such
    cut fits is read as two names around its one hyphen.

    Raises:
        ValueError: not two different, non-empty market names around one hyphen.
    """
    known = [
        (key[:cut], key[cut + 1 :])
        for cut, char in enumerate(key)
        if char == "-" and key[:cut] in ZONES and key[cut + 1 :] in ZONES
    ]
    if len(known) == 1 and known[0][0] != known[0][1]:
        return known[0]
    parts = key.split("-")
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise ValueError(f"a border direction reads 'FROM-TO' with two markets, got {key!r}")
    return parts[0], parts[1]


def month_of(ts: datetime, timezone: str = _BRUSSELS) -> date:
    """The local month holding ``ts``, as its first day."""
    local = ts.astimezone(_zone(timezone))
    return date(local.year, local.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date, timezone: str = _BRUSSELS) -> tuple[datetime, datetime]:
    """The local month's [start, end) in UTC (743 or 745 hours in the DST months)."""
    zone = _zone(timezone)
    start = datetime.combine(month, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(next_month(month), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


class TransmissionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The borders, their capacity and how monthly rights are priced. Frozen.

    Attributes:
        borders: the interconnectors, ``"A-B"`` for both directions. A pair not
            listed has no border: no right, no trade.
        capacity_mw: monthly capacity per direction (``"FROM-TO"``), overriding
            :data:`KNOWN_CAPACITY_MW`.
        default_capacity_mw: capacity of a listed border with no known figure.
        pricing: what a monthly right costs per MWh: ``previous_month_mean``
            (the mean hourly payoff of that direction over the previous month,
            as known at the auction — what an efficient auction charges, so
            the expected profit is near zero), ``fixed`` (``fixed_price_eur_mwh``
            for every direction and month) or ``file`` (``prices_file``).
        fixed_price_eur_mwh: the price of ``fixed``.
        prices_file: a CSV or parquet file of auction results with columns
            ``border`` (``"DE-FR"``), ``month`` (``"2022-03"``) and
            ``price_eur_mwh``; a direction and month not in it is not sold.
        fee_eur_mwh: cost per MWh of right on top of its price. 0: JAO charges
            participants a yearly fee, not a fee per MWh.
        auction_days_before / auction_time: the monthly auction for month M
            runs ``auction_days_before`` days before M starts at this local
            time. Default: the last day of M−1 at 12:00, the day-ahead gate of
            M's first day, so no price of M is known at the auction. (JAO's
            real monthly auctions close about two weeks earlier.)
        timezone: the time zone of months and of the auction time.
    """

    borders: tuple[str, ...] = INTERCONNECTORS
    capacity_mw: dict[str, float] = msgspec.field(default_factory=dict)
    default_capacity_mw: float = 200.0
    pricing: str = "previous_month_mean"
    fixed_price_eur_mwh: float = 0.0
    prices_file: str = ""
    fee_eur_mwh: float = 0.0
    auction_days_before: int = 1
    auction_time: time = time(12, 0)
    timezone: str = _BRUSSELS

    def __post_init__(self) -> None:
        for key in (*self.borders, *self.capacity_mw):
            parse_direction(key)
        unknown = [k for k in self.capacity_mw if not self.has_border(*parse_direction(k))]
        if unknown:
            raise ValueError(f"transmission.capacity_mw names no listed border: {unknown}")
        for key, capacity in self.capacity_mw.items():
            if not (math.isfinite(capacity) and capacity >= 0):
                raise ValueError(f"transmission.capacity_mw[{key!r}] must be >= 0, got {capacity}")
        for name in ("default_capacity_mw", "fee_eur_mwh"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"transmission.{name} must be a finite number >= 0, got {value}")
        if self.pricing not in PRICINGS:
            raise ValueError(
                f"transmission.pricing must be one of {PRICINGS}, not {self.pricing!r}"
            )
        if self.pricing == "file" and not self.prices_file:
            raise ValueError("transmission.pricing = 'file' needs transmission.prices_file")
        if not math.isfinite(self.fixed_price_eur_mwh):
            raise ValueError("transmission.fixed_price_eur_mwh must be a finite number")
        if not 1 <= self.auction_days_before <= 27:
            raise ValueError("transmission.auction_days_before must be within 1..27")
        _zone(self.timezone)

    def directions(self) -> tuple[Direction, ...]:
        """Both directions of every border, in the order listed."""
        found: list[Direction] = []
        for key in self.borders:
            a, b = parse_direction(key)
            found += [d for d in ((a, b), (b, a)) if d not in found]
        return tuple(found)

    def has_border(self, from_market: str, to_market: str) -> bool:
        return (from_market, to_market) in self.directions()

    def capacity(self, direction: Direction) -> float:
        """Monthly capacity of a direction, MW; 0 where there is no border."""
        if not self.has_border(*direction):
            return 0.0
        override = self.capacity_mw.get(f"{direction[0]}-{direction[1]}")
        if override is not None:
            return override
        return KNOWN_CAPACITY_MW.get(direction, self.default_capacity_mw)

    def auction_at(self, month: date) -> datetime:
        """When the monthly auction for ``month`` runs (UTC)."""
        day = month - timedelta(days=self.auction_days_before)
        local = datetime.combine(day, self.auction_time, tzinfo=_zone(self.timezone))
        return local.astimezone(UTC)


class PayoffHistory:
    """Each direction's payoff max(0, p_to − p_from) per delivery period, as prices arrive.

    Fed day-ahead prices one at a time (:meth:`observe`); a period's payoff
    exists once both of its prices do, and a later price of the same period
    replaces it. Periods older than ``keep_days`` behind the newest are dropped.
    """

    def __init__(self, directions: Iterable[Direction], keep_days: int = 70) -> None:
        self._payoffs: dict[Direction, dict[int, float]] = {d: {} for d in directions}
        self._neighbours: dict[str, set[str]] = {}
        for from_market, to_market in self._payoffs:
            self._neighbours.setdefault(from_market, set()).add(to_market)
            self._neighbours.setdefault(to_market, set()).add(from_market)
        self._prices: dict[str, dict[int, float]] = {m: {} for m in self._neighbours}
        self._keep_us = keep_days * 24 * 60 * US_PER_MINUTE
        self._newest_us = 0
        self._pruned_us = 0

    def observe(self, market: str, period_start_us: int, price_eur_mwh: float) -> None:
        prices = self._prices.get(market)
        if prices is None:
            return  # no border: nothing it could pay
        prices[period_start_us] = price_eur_mwh
        payoffs = self._payoffs
        for other in self._neighbours[market]:
            other_price = self._prices[other].get(period_start_us)
            if other_price is None:
                continue
            if (market, other) in payoffs:
                payoffs[market, other][period_start_us] = max(0.0, other_price - price_eur_mwh)
            if (other, market) in payoffs:
                payoffs[other, market][period_start_us] = max(0.0, price_eur_mwh - other_price)
        if period_start_us > self._newest_us:
            self._newest_us = period_start_us
            if period_start_us - self._pruned_us > self._keep_us // 4:
                self._prune(period_start_us - self._keep_us)

    def _prune(self, before_us: int) -> None:
        self._pruned_us = self._newest_us
        for table in (*self._prices.values(), *self._payoffs.values()):
            for start_us in [s for s in table if s < before_us]:
                del table[start_us]

    def mean(self, direction: Direction, start_us: int, end_us: int) -> tuple[float, int]:
        """Mean payoff over the periods starting in [start, end), and how many; (nan, 0) if none."""
        table = self._payoffs.get(direction, {})
        found = [v for s, v in table.items() if start_us <= s < end_us]
        return (math.fsum(found) / len(found), len(found)) if found else (math.nan, 0)


def load_rights_prices(path: str | Path) -> dict[tuple[Direction, date], float]:
    """Auction prices from a CSV or parquet file (columns ``border, month, price_eur_mwh``).

    Raises:
        ValueError: a row whose border, month or price does not parse (its number says which).
    """
    source = Path(path)
    if source.suffix == ".parquet":
        import pyarrow.parquet as pq  # only for this optional file format

        rows: list[dict[str, object]] = pq.read_table(source).to_pylist()
    else:
        with source.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    table: dict[tuple[Direction, date], float] = {}
    for number, row in enumerate(rows, start=1):
        try:
            month = row["month"]
            if isinstance(month, datetime | date):
                month = month.strftime("%Y-%m")
            year, month_number = str(month)[:7].split("-")
            key = (parse_direction(str(row["border"])), date(int(year), int(month_number), 1))
            table[key] = float(str(row["price_eur_mwh"]))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{source}: row {number} ({row}) does not parse: {exc}") from None
    return table


class RightsPricing:
    """What a monthly right of one direction costs per MWh (:attr:`TransmissionConfig.pricing`).

    ``previous_month_mean`` reads a :class:`PayoffHistory`: the mean payoff of
    the direction over the delivery periods of the month before that started
    before the auction. (A replay reveals a day-ahead price at its delivery
    start, so the last half-day of that month is not yet known at the auction.)
    An answer asked at or after the auction never changes, so it is kept.
    """

    def __init__(
        self,
        config: TransmissionConfig,
        history: PayoffHistory | None = None,
        table: Mapping[tuple[Direction, date], float] | None = None,
    ) -> None:
        self.config = config
        self.history = history
        if table is None and config.pricing == "file":
            table = load_rights_prices(config.prices_file)
        self._table = dict(table or {})
        self._kept: dict[tuple[Direction, date], float | None] = {}

    def price_eur_mwh(self, direction: Direction, month: date, now: datetime) -> float | None:
        """The price of ``month``'s right on ``direction`` as known at ``now``; None: not sold."""
        config = self.config
        if not config.has_border(*direction):
            return None
        if config.pricing == "fixed":
            return config.fixed_price_eur_mwh
        if config.pricing == "file":
            return self._table.get((direction, month))
        key = (direction, month)
        if key in self._kept:
            return self._kept[key]
        if self.history is None:
            return None
        auction = config.auction_at(month)
        start, end = month_bounds(previous_month(month), config.timezone)
        # Periods that started before the auction and by ``now`` (the one starting now is known).
        end_us = min(to_us(end), to_us(auction), to_us(now) + 1)
        mean, count = self.history.mean(direction, to_us(start), end_us)
        price = mean if count else None
        if now >= auction:
            self._kept[key] = price
        return price


__all__ = [
    "INTERCONNECTORS",
    "KNOWN_CAPACITY_MW",
    "Direction",
    "PayoffHistory",
    "RightsPricing",
    "TransmissionConfig",
    "load_rights_prices",
    "month_bounds",
    "month_of",
    "next_month",
    "parse_direction",
    "previous_month",
]
