"""The auction calendar of the mock market, and what its intraday auctions clear at.

This module owns two things :class:`feeds.mock.feed.MockFeed`'s session needs to follow
the real market timeline (:class:`engine.market.timeline.MarketTimeline`):

- :class:`AuctionCalendar`: which auction results come out when, per local
  delivery day and market, in time order. Day-ahead (SDAC) results for day D come
  out at the timeline's publication instant on D−1 (12:45 Europe/Brussels by
  default, GB 11:50 UK time), always after its gate; each SIDC intraday auction's
  results ``ida_delay_us`` after its gate (IDA1 15:00 D−1, IDA2 22:00 D−1, IDA3
  10:00 D; SIDC publishes final results about 20 minutes after gate closure).
- :class:`IntradayAuctionNoise`: how far each intraday auction clears from the
  model's fundamental price (which is also the day-ahead price). An intraday
  auction is the day-ahead auction re-run with the information that arrived
  since, so its deviations accumulate: IDA2 = IDA1's deviation plus what became
  known between the two gates, IDA3 adds again. Each step is a unit-variance
  AR(1) over the quarter-hours (forecast errors persist for hours) scaled by a
  share of the price plus a floor, like the intraday ticks. Zones that clear at
  one price in a quarter share their draws, so coupled zones stay coupled.

Both are pure functions of the seed, the timeline and the start: the session
asks, this module answers, nothing here knows about events or clocks.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import numpy as np
from scipy.signal import lfilter

from engine.market.timeline import MarketTimeline
from engine.time_us import from_us, to_us
from feeds.mock.model import FloatArray

DAY_AHEAD: Final = "DA"
# The intraday auctions are priced per quarter-hour in every SIDC zone.
INTRADAY_AUCTION_MINUTES: Final = 15


@dataclass(frozen=True, slots=True)
class Publication:
    """One auction's results for some markets: when, and the delivery they price.

    Attributes:
        at_us: publication instant.
        auction: ``DA``, ``IDA1`` …
        day: the local delivery day.
        markets: the markets it prices (in the feed's market order).
        start_us / end_us: the delivery window.
        minutes: the MTU of the published prices.
    """

    at_us: int
    auction: str
    day: date
    markets: tuple[str, ...]
    start_us: int
    end_us: int
    minutes: int


class AuctionCalendar:
    """Auction results in publication order, from ``first_us`` on (module docstring).

    Args:
        timeline: the market rules.
        markets: the feed's markets, in order.
        ida_delay_us: intraday-auction results come this long after their gate.
        first_us: publications before this instant are left out.
    """

    def __init__(
        self, timeline: MarketTimeline, markets: Sequence[str], ida_delay_us: int, first_us: int
    ) -> None:
        self._timeline = timeline
        self._markets = tuple(markets)
        self._ida_delay_us = ida_delay_us
        self._first_us = first_us
        # No publication for delivery day D comes before D − (lead) days, UTC
        # midnight: day-ahead on D−1, intraday auctions up to days_before early,
        # and a day's margin for the time zone.
        lead = 1 + max(
            (a.days_before for m in self._markets for a in timeline.rules(m).intraday_auctions),
            default=1,
        )
        self._lead = timedelta(days=lead + 1)
        when = from_us(first_us)
        self._next_day = min(timeline.delivery_day(m, when) for m in self._markets) - timedelta(
            days=1
        )
        self._heap: list[tuple[int, int, Publication]] = []
        self._seq = 0
        self.next_us = 0
        self._extend()

    def opening(self) -> list[Publication]:
        """What a market shows at ``first_us``: today's day-ahead prices, and
        tomorrow's when they came out before then (later ones are scheduled)."""
        when = from_us(self._first_us)
        today = {m: self._timeline.delivery_day(m, when) for m in self._markets}
        found: list[Publication] = []
        day = min(today.values())
        while day <= max(today.values()) + timedelta(days=1):
            for publication in self._day_ahead(day):
                # A market's days before its current one are delivered already.
                markets = tuple(m for m in publication.markets if day >= today[m])
                if markets and publication.at_us < self._first_us:
                    found.append(dataclasses.replace(publication, markets=markets))
            day += timedelta(days=1)
        return found

    def pop(self) -> Publication:
        """The next publication (at :attr:`next_us`)."""
        publication = heapq.heappop(self._heap)[2]
        self._extend()
        return publication

    def _extend(self) -> None:
        # Add delivery days until no day still missing could publish before the
        # earliest one held: then the heap's top is truly the next publication.
        while not self._heap or self._earliest_us(self._next_day) <= self._heap[0][0]:
            day = self._next_day
            for publication in self._day_ahead(day) + self._intraday_auctions(day):
                if publication.at_us >= self._first_us:
                    self._seq += 1
                    heapq.heappush(self._heap, (publication.at_us, self._seq, publication))
            self._next_day = day + timedelta(days=1)
        self.next_us = self._heap[0][0]

    def _earliest_us(self, day: date) -> int:
        return to_us(datetime.combine(day, time(), tzinfo=UTC) - self._lead)

    def _day_ahead(self, day: date) -> list[Publication]:
        timeline = self._timeline
        groups: dict[tuple[int, int, int, int], list[str]] = {}
        for market in self._markets:
            auction = timeline.day_ahead(market, day)
            assert auction.publication is not None  # day-ahead auctions always publish
            key = (
                to_us(auction.publication),
                to_us(auction.delivery_start),
                to_us(auction.delivery_end),
                timeline.mtu_minutes(market, day),
            )
            groups.setdefault(key, []).append(market)
        return [
            Publication(at, DAY_AHEAD, day, tuple(markets), start, end, minutes)
            for (at, start, end, minutes), markets in groups.items()
        ]

    def _intraday_auctions(self, day: date) -> list[Publication]:
        groups: dict[tuple[int, str, int, int], list[str]] = {}
        for market in self._markets:
            for auction in self._timeline.intraday_auctions(market, day):
                key = (
                    to_us(auction.gate_closure) + self._ida_delay_us,
                    auction.name,
                    to_us(auction.delivery_start),
                    to_us(auction.delivery_end),
                )
                groups.setdefault(key, []).append(market)
        return [
            Publication(at, name, day, tuple(markets), start, end, INTRADAY_AUCTION_MINUTES)
            for (at, name, start, end), markets in sorted(groups.items())
        ]


def auction_names(timeline: MarketTimeline, markets: Sequence[str]) -> tuple[str, ...]:
    """The intraday auctions of ``markets``, in the order their gates close for a day."""
    specs = {a.name: a for m in markets for a in timeline.rules(m).intraday_auctions}
    ordered = sorted(specs.values(), key=lambda a: (-a.days_before, a.gate))
    return tuple(a.name for a in ordered)


class IntradayAuctionNoise:
    """Deviations of each intraday auction from the fundamental price (module docstring).

    Args:
        rng: its own stream, so the day-ahead curve never depends on it.
        auctions: how many auctions, in gate order.
        markets: how many markets.
        share: each auction's new information, as a share of the price …
        floor_eur_mwh: … and at least this, for prices near zero.
        tau_minutes: memory of the deviation across quarter-hours.
        step_minutes: the model's step.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        auctions: int,
        markets: int,
        *,
        share: float,
        floor_eur_mwh: float,
        tau_minutes: float,
        step_minutes: int = 15,
    ) -> None:
        self._rng = rng
        self._share = share
        self._floor = floor_eur_mwh
        self._phi = math.exp(-step_minutes / tau_minutes)
        self._gain = math.sqrt(1.0 - self._phi**2)
        self._state: FloatArray = rng.standard_normal((auctions, markets))

    def draw(self, base_eur_mwh: FloatArray) -> FloatArray:
        """Deviations (EUR/MWh), shape (auctions, steps, markets), for the next steps.

        Args:
            base_eur_mwh: the fundamental prices of those steps, (steps, markets).
        """
        auctions, markets = self._state.shape
        steps = base_eur_mwh.shape[0]
        shocks = self._rng.standard_normal((auctions, steps, markets))
        values, _ = lfilter(
            [self._gain], [1.0, -self._phi], shocks, axis=1, zi=(self._phi * self._state)[:, None]
        )
        z: FloatArray = np.asarray(values, dtype=np.float64)
        self._state = z[:, -1].copy()
        # Coupled zones clear at one price: where a zone's price equals an
        # earlier zone's, it takes that zone's draws and stays equal to it.
        taken = np.zeros(base_eur_mwh.shape, dtype=bool)
        for later in range(1, markets):
            for earlier in range(later):
                same = (base_eur_mwh[:, later] == base_eur_mwh[:, earlier]) & ~taken[:, later]
                z[:, same, later] = z[:, same, earlier]
                taken[:, later] |= same
        scale = self._share * np.abs(base_eur_mwh) + self._floor
        deviation: FloatArray = np.cumsum(z * scale[None], axis=0)
        return deviation


__all__ = [
    "DAY_AHEAD",
    "INTRADAY_AUCTION_MINUTES",
    "AuctionCalendar",
    "IntradayAuctionNoise",
    "Publication",
    "auction_names",
    "to_us",
]
