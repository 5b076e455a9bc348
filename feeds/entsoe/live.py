"""EntsoeFeed: live day-ahead prices and fundamentals from the ENTSO-E API.

This module owns the live schedule. ``gridtui.wiring`` builds it for
``feed.kind = "entsoe"``; the kernel pulls :meth:`EntsoeFeed.stream`.

What it emits (``source="entsoe"``, every timestamp UTC):

- **Known future prices.** Every ``poll_interval_s`` it asks for the day-ahead
  prices of the current and the next delivery day of each market, until the
  next day is known (SDAC publishes about 12:45 CET); each newly auctioned
  MTU goes out at once as a ``PriceKind.DAY_AHEAD`` tick stamped at its
  delivery start, up to ~35 h ahead (within the validator's day-ahead horizon).
- **The current MTU's price**, as the same tick again, when the MTU starts:
  the feed wakes at every MTU boundary (15 or 60 minutes, per market). The
  store's (market, kind, ts) key keeps one row.
- **Fundamentals** (load, wind, solar in MW) for each interval as actual load
  (A65) and actual generation (A75) arrive, which is about an hour late;
  intervals already sent are not sent again. The day-ahead load forecast
  (A65, A01) of those intervals rides along, asked only when there are new
  ones; without it the actuals go out alone.
Its health is not an event of its own: the kernel hands it the feed's one
:class:`~engine.feed_health.FeedHealthMachine` (:meth:`EntsoeFeed.report_health_to`),
the client signals every answer, retry, failure and the request budget to it,
and the feed adds a heartbeat every ``health_interval_s``, so the feed does not
look stale between MTU boundaries. The kernel publishes the one FeedHealth.

A failed request is logged, counted and signalled, and the next poll tries
again. A rejected token is the one failure that ends the stream: the machine
says "down" with the reason, then :class:`~engine.ports.FeedError`.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from engine.clock import Clock
from engine.events import Event, Fundamentals, PriceTick
from engine.feed_health import FeedHealthMachine
from engine.ports import FeedError
from feeds.entsoe import convert
from feeds.entsoe.client import EntsoeClient
from feeds.entsoe.errors import EntsoeAuthError, EntsoeError

log = logging.getLogger(__name__)

_DAY: Final = timedelta(days=1)
_HOUR: Final = timedelta(hours=1)


class EntsoeFeedConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the live feed polls.

    Attributes:
        zones: market → EIC code, for every market to follow.
        poll_interval_s: seconds between polls of the API.
        day_ahead_sequence: which auction to take where a zone publishes
            several (DE-LU: 1 = SDAC, 2 = EXAA); None takes every series.
        fundamentals: also poll actual load and generation (and the day-ahead
            load forecast of the intervals that arrive).
        fundamentals_lookback_h: how far back each poll asks for them (they
            arrive late and are sometimes filled in later).
        health_interval_s: seconds between heartbeats to the health machine
            when nothing happens.
        backfill_max_days: after a restart, how far back the first poll goes to
            fill what the store lacks (from its newest stored delivery, at most
            this many days; the API answers a year per request).
        auction_timezone: the delivery-day calendar of the auction (SDAC: CET).
        source: stamped on every tick and fundamentals event.
    """

    zones: dict[str, str]
    poll_interval_s: float = 300.0
    day_ahead_sequence: int | None = 1
    fundamentals: bool = True
    fundamentals_lookback_h: float = 6.0
    health_interval_s: float = 30.0
    backfill_max_days: float = 31.0
    auction_timezone: str = "Europe/Brussels"
    source: str = "entsoe"


class EntsoeFeed:
    """The live ENTSO-E feed. It owns ``client`` and closes it when the stream ends."""

    def __init__(self, client: EntsoeClient, config: EntsoeFeedConfig) -> None:
        self.client = client
        self.config = config
        self.events_total = 0
        self._tz = ZoneInfo(config.auction_timezone)
        self._known: dict[str, dict[datetime, PriceTick]] = {m: {} for m in config.zones}
        self._starts: dict[str, list[datetime]] = {m: [] for m in config.zones}
        self._current: dict[str, datetime | None] = dict.fromkeys(config.zones)
        self._fundamentals_sent: dict[str, set[datetime]] = {m: set() for m in config.zones}
        self._fatal: str | None = None
        # Per market, where the first successful poll starts when the store lacks
        # more than the usual window (see resume_after).
        self._resume: dict[str, datetime] = {}

    @property
    def name(self) -> str:
        return "entsoe"

    @property
    def markets(self) -> tuple[str, ...]:
        return tuple(self.config.zones)

    def resume_after(self, stored_until: Mapping[str, datetime]) -> None:
        """Fill the gap since the store's newest delivery on the first poll.

        A market with nothing stored starts with the usual window (yesterday
        to tomorrow); one whose newest stored delivery is older starts the hour
        after it, at most ``backfill_max_days`` back.
        """
        for market, last in stored_until.items():
            if market in self.config.zones:
                self._resume[market] = last + _HOUR

    def report_health_to(self, health: FeedHealthMachine) -> None:
        """The kernel's health machine: the client's requests and this feed's
        heartbeats go to it (:class:`~engine.ports.ReportsHealth`)."""
        self.client.signals = health

    @property
    def health(self) -> FeedHealthMachine:
        """Where this feed's health signals go."""
        return self.client.signals

    async def stream(self, clock: Clock) -> AsyncGenerator[Sequence[Event], None]:
        self.client.now = clock.now
        poll_every = timedelta(seconds=self.config.poll_interval_s)
        health_every = timedelta(seconds=self.config.health_interval_s)
        try:
            next_poll = next_health = clock.now()
            while True:
                now = clock.now()
                batch: list[Event] = []
                if now >= next_poll:
                    batch.extend(await self.poll(now))
                    now = clock.now()
                    next_poll = now + poll_every
                    next_health = now
                sent = {(e.market, e.ts) for e in batch if isinstance(e, PriceTick)}
                batch.extend(t for t in self.current_ticks(now) if (t.market, t.ts) not in sent)
                if now >= next_health:
                    self.health.alive(now)
                    # A sliding minute: say what is spent now, not at the last request.
                    budget = self.client.budget
                    self.health.budget(budget.used_last_minute(), budget.per_minute)
                    next_health = now + health_every
                if batch:
                    self.events_total += len(batch)
                    yield batch
                if self._fatal is not None:
                    raise FeedError(self._fatal)
                wake = min(next_poll, next_health)
                mtu = self.next_mtu_start(now)
                if mtu is not None and mtu < wake:
                    wake = mtu
                await clock.sleep_until(wake)
        finally:
            await self.client.close()

    async def poll(self, now: datetime) -> list[Event]:
        """Ask the API for every market at once; new prices and fundamentals."""
        results = await asyncio.gather(
            *(self._poll_market(market, eic, now) for market, eic in self.config.zones.items()),
            return_exceptions=True,
        )
        events: list[Event] = []
        for market, result in zip(self.config.zones, results, strict=True):
            if isinstance(result, EntsoeAuthError):
                self._fatal = str(result)
            elif isinstance(result, BaseException):
                # A bug of ours, not the API's: log it, keep the daemon running.
                log.error("ENTSO-E poll of %s failed unexpectedly", market, exc_info=result)
            else:
                events.extend(result)
        return events

    async def _poll_market(self, market: str, eic: str, now: datetime) -> list[Event]:
        events: list[Event] = []
        if self.needs_prices(market, now):
            midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
            start = midnight - _DAY
            resume = self._resume.get(market)
            if resume is not None and resume < start:
                floor = midnight - timedelta(days=self.config.backfill_max_days)
                start = max(floor, resume.replace(minute=0, second=0, microsecond=0))
                log.info(
                    "ENTSO-E %s: backfilling day-ahead prices from %s (the store's newest "
                    "delivery is %s)",
                    market,
                    start.isoformat(),
                    (resume - _HOUR).isoformat(),
                )
            try:
                ticks = await self.client.day_ahead_prices(
                    market,
                    eic,
                    start,
                    midnight + 2 * _DAY,
                    sequence=self.config.day_ahead_sequence,
                    source=self.config.source,
                )
            except EntsoeAuthError:
                raise
            except EntsoeError as exc:
                log.warning("%s", exc)
            else:
                self._resume.pop(market, None)  # filled: from now on the usual window
                events.extend(self.learn_prices(market, ticks, now))
        if self.config.fundamentals:
            events.extend(await self._poll_fundamentals(market, eic, now))
        return events

    async def _poll_fundamentals(self, market: str, eic: str, now: datetime) -> list[Fundamentals]:
        hour = now.replace(minute=0, second=0, microsecond=0)
        start = hour - timedelta(hours=self.config.fundamentals_lookback_h)
        end = hour + _HOUR
        try:
            load = await self.client.load(market, eic, start, end)
            generation = await self.client.generation(market, eic, start, end) if load else []
        except EntsoeAuthError:
            raise
        except EntsoeError as exc:
            log.warning("%s", exc)
            return []
        sent = self._fundamentals_sent[market]
        source = self.config.source
        fresh = [
            f
            for f in convert.fundamentals(market, load, generation, source=source)
            if f.ts not in sent
        ]
        if fresh:
            # Asked only when there is something new to attach it to: the budget is shared.
            forecast = await self._load_forecast(market, eic, start, end)
            if forecast:
                joined = convert.fundamentals(
                    market, load, generation, source=source, load_forecast=forecast
                )
                fresh = [f for f in joined if f.ts not in sent]
        sent.update(f.ts for f in fresh)
        # Forget what can no longer come back, so the set stays small.
        horizon = start - _DAY
        sent.difference_update([ts for ts in sent if ts < horizon])
        return fresh

    async def _load_forecast(
        self, market: str, eic: str, start: datetime, end: datetime
    ) -> list[convert.ValueRow]:
        """The day-ahead load forecast (A65 A01) of the span; empty if it cannot be had."""
        try:
            return await self.client.load(market, eic, start, end, forecast=True)
        except EntsoeAuthError:
            raise
        except EntsoeError as exc:
            log.warning("%s (the actuals go out without it)", exc)
            return []

    def needs_prices(self, market: str, now: datetime) -> bool:
        """True until the prices of the next delivery day (auction calendar) are known."""
        starts = self._starts[market]
        if not starts:
            return True
        last = self._known[market][starts[-1]]
        known_until = last.ts + timedelta(minutes=last.delivery_minutes or 60)
        local_today = now.astimezone(self._tz).date()
        day_after_tomorrow = datetime.combine(local_today + 2 * _DAY, time(), tzinfo=self._tz)
        return known_until < day_after_tomorrow

    def learn_prices(
        self, market: str, ticks: Sequence[PriceTick], now: datetime
    ) -> list[PriceTick]:
        """Remember ``ticks``; return those that are new or changed."""
        known = self._known[market]
        fresh = [t for t in ticks if known.get(t.ts) != t]
        for tick in fresh:
            known[tick.ts] = tick
        cutoff = now - 2 * _DAY
        for ts in [ts for ts in known if ts < cutoff]:
            del known[ts]
        self._starts[market] = sorted(known)
        return fresh

    def current_ticks(self, now: datetime) -> list[PriceTick]:
        """The price of each market's MTU that contains ``now``, once per MTU."""
        ticks: list[PriceTick] = []
        for market, starts in self._starts.items():
            i = bisect.bisect_right(starts, now) - 1
            if i < 0:
                continue
            tick = self._known[market][starts[i]]
            ends = tick.ts + timedelta(minutes=tick.delivery_minutes or 60)
            if now < ends and self._current[market] != tick.ts:
                self._current[market] = tick.ts
                ticks.append(tick)
        return ticks

    def next_mtu_start(self, now: datetime) -> datetime | None:
        """The earliest known delivery start after ``now``, over all markets."""
        upcoming = [
            starts[i]
            for starts in self._starts.values()
            if (i := bisect.bisect_right(starts, now)) < len(starts)
        ]
        return min(upcoming, default=None)
