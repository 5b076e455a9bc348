"""MockFeed: a seeded, simulated European power market as an event feed.

This module owns the *adapter*: it turns the quarter-hourly fundamentals and prices
of :class:`feeds.mock.model.MarketModel` into the events of ``engine.events`` and
paces them on the engine's clock, publishing auction results when the real market
timeline (:class:`engine.market.timeline.MarketTimeline`, ``MockFeedConfig.timeline``)
says they come out. ``gridtui.wiring`` plugs it in as the default feed (no tokens,
no network); backtests and benchmarks drive it on a SimClock.

What it emits, all with tz-aware UTC timestamps and ``source="mock"``:

- **Intraday ticks** (``PriceKind.INTRADAY``): one per market every
  ``tick_interval_s``; the price is the current quarter-hour's fundamental price
  plus a mean-reverting (Ornstein–Uhlenbeck) deviation with a 30-minute memory.
- **Day-ahead prices** (``PriceKind.DAY_AHEAD``, ``ts`` = delivery start): one
  local delivery day per market (Europe/Brussels: 23:00–23:00 UTC in winter,
  22:00–22:00 in summer, 23 or 25 hours on DST days), at the timeline's MTU
  (``delivery_minutes`` 60 before 2025-10-01, 15 from then; an hour's price is the
  mean of its four quarter-hours, in cents), published at the timeline's
  publication instant on D−1 (12:45 local, after the 12:00 gate closure). At
  start-up it publishes the current local day, and the next one when its
  publication has passed, so a UI has a curve at once.
- **Intraday-auction prices** (``PriceKind.IDA1`` / ``IDA2`` / ``IDA3``,
  ``delivery_minutes=15``, ``ts`` = delivery start): each auction's window of
  quarter-hours, ``ida_publication_delay_min`` after its gate (IDA1 15:00 D−1 and
  IDA2 22:00 D−1 for all of D, IDA3 10:00 D for 12:00–24:00 of D); the price is
  the fundamental price plus the auction's deviation
  (:class:`feeds.mock.auctions.IntradayAuctionNoise`). Markets whose rules have no
  intraday auctions (GB) get none.
- **Fundamentals**: load, wind and solar per market for each quarter-hour, when the
  quarter starts.

Prices and fundamentals come from the model's UTC blocks, one UTC day of
quarter-hours each; a local delivery day takes its quarters from the two blocks
it straddles, so the timeline changes when prices come out, never what they are.

Pacing: with ``tick_interval_s > 0`` it emits one round of ticks (one per market) per
interval and waits on ``clock.sleep_until``. With ``tick_interval_s == 0`` it runs as
fast as possible: batches of about ``fast_batch_ticks`` ticks, simulated time moving
by a notional ``fast_step_s`` (1 s) per round; it never sleeps on a live clock (its
timestamps then run ahead of the wall clock) and moves a simulated clock along with
its batches. A publication goes out in the batch of the first round at or after its
instant, before that round's ticks. Same seed and same start give the same event
sequence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime, timedelta
from typing import Final

import numpy as np

from engine.clock import Clock
from engine.events import Event, Fundamentals, PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.time_us import from_us
from feeds.mock.auctions import (
    DAY_AHEAD,
    AuctionCalendar,
    IntradayAuctionNoise,
    Publication,
    auction_names,
    to_us,
)
from feeds.mock.config import MockFeedConfig
from feeds.mock.model import (
    PRICE_CAP_EUR_MWH,
    PRICE_FLOOR_EUR_MWH,
    FloatArray,
    MarketModel,
    SimBlock,
    simulate_hourly_prices,
)
from feeds.mock.processes import IntradayNoise

_US_PER_S: Final = 1_000_000
_QUARTER_US: Final = 15 * 60 * _US_PER_S
_DAY_US: Final = 24 * 3600 * _US_PER_S


class _Session:
    """One run of the simulated market: the clockwork behind :meth:`MockFeed.stream`."""

    def __init__(self, config: MockFeedConfig, origin: datetime, step_s: float) -> None:
        self._config = config
        self._markets = config.markets
        self._column = {market: i for i, market in enumerate(self._markets)}
        self._source = "mock"
        origin_us = to_us(origin)
        self._t_us = origin_us
        self._step_us = max(1, round(step_s * _US_PER_S))
        self._step = timedelta(microseconds=self._step_us)
        self._ts = from_us(origin_us)
        timeline = MarketTimeline(config.timeline)
        self._calendar = AuctionCalendar(
            timeline,
            self._markets,
            round(config.ida_publication_delay_min * 60 * _US_PER_S),
            origin_us,
        )
        # The model starts on the UTC day where the current local delivery day
        # starts (the day before, around midnight UTC), so that day can be priced.
        self._first_day = (
            min(
                to_us(timeline.day_bounds(m, timeline.delivery_day(m, origin))[0])
                for m in self._markets
            )
            // _DAY_US
        )
        self._model = MarketModel(
            self._markets,
            seed=config.seed,
            start=from_us(self._first_day * _DAY_US),
            step_minutes=15,
            profiles=config.profiles,
            params=config.params,
            zones=config.zones,
        )
        self._blocks: dict[int, SimBlock] = {}
        self._auction_deviations: dict[int, FloatArray] = {}
        self._auction_index = {
            name: i for i, name in enumerate(auction_names(timeline, self._markets))
        }
        # Separate streams from the price model: the day-ahead curve is the same
        # whatever the tick interval, and with or without intraday auctions.
        self._auction_noise = IntradayAuctionNoise(
            np.random.default_rng([config.seed, 0x1DA]),
            len(self._auction_index),
            len(self._markets),
            share=config.ida_noise_share,
            floor_eur_mwh=config.ida_noise_floor_eur_mwh,
            tau_minutes=config.ida_noise_tau_min,
        )
        noise_rng = np.random.default_rng([config.seed, 0x1D])
        self._noise = IntradayNoise(
            noise_rng, len(self._markets), self._step_us / _US_PER_S, config.intraday_tau_s
        )
        self._next_quarter_us = 0
        self._base: FloatArray = np.zeros(len(self._markets))
        self._scale: FloatArray = np.zeros(len(self._markets))

    @property
    def next_tick_ts(self) -> datetime:
        """Simulated time of the next round of ticks."""
        return self._ts

    @property
    def last_tick_ts(self) -> datetime:
        """Simulated time of the round of ticks emitted last."""
        return self._ts - self._step

    def start(self) -> list[Event]:
        """The day-ahead curves already out (``AuctionCalendar.opening``), the current quarter."""
        events: list[Event] = []
        for publication in self._calendar.opening():
            self._publish(publication, events)
        quarter_start_us = self._t_us - self._t_us % _QUARTER_US
        self._enter_quarter(quarter_start_us, events)
        self._next_quarter_us = quarter_start_us + _QUARTER_US
        return events

    def rounds(self, count: int) -> list[Event]:
        """The events of the next ``count`` rounds of ticks, in time order."""
        events: list[Event] = []
        calendar = self._calendar
        remaining = count
        while remaining > 0:
            # Quarter starts and publications up to now, in time order; a
            # publication at a quarter start goes before its fundamentals.
            while True:
                if calendar.next_us <= self._t_us and calendar.next_us <= self._next_quarter_us:
                    self._publish(calendar.pop(), events)
                elif self._t_us >= self._next_quarter_us:
                    quarter_start_us = self._next_quarter_us
                    self._next_quarter_us += _QUARTER_US
                    self._enter_quarter(quarter_start_us, events)
                else:
                    break
            # Ticks up to the next quarter or publication share one base price.
            boundary_us = min(self._next_quarter_us, calendar.next_us)
            until_boundary = -(-(boundary_us - self._t_us) // self._step_us)
            batch = min(remaining, until_boundary)
            self._ticks(batch, events)
            remaining -= batch
        return events

    def _block(self, day: int) -> SimBlock:
        if day < self._first_day or (day not in self._blocks and day < self._model_day()):
            raise ValueError(f"the mock model no longer holds UTC day {day}")
        while day not in self._blocks:
            block = self._model.next_days(1)
            start_day = to_us(block.start) // _DAY_US
            self._blocks[start_day] = block
            self._auction_deviations[start_day] = self._auction_noise.draw(block.price_eur_mwh)
        # A local delivery day reaches back into the UTC day before; keep two.
        for old in [d for d in self._blocks if d < day - 2]:
            del self._blocks[old], self._auction_deviations[old]
        return self._blocks[day]

    def _model_day(self) -> int:
        return to_us(self._model.cursor) // _DAY_US

    def _window(self, start_us: int, end_us: int) -> tuple[FloatArray, FloatArray]:
        """Fundamental prices (steps, markets) and intraday-auction deviations
        (auctions, steps, markets) of the quarter-hours in [start, end)."""
        prices: list[FloatArray] = []
        deviations: list[FloatArray] = []
        at_us = start_us
        while at_us < end_us:
            day = at_us // _DAY_US
            stop_us = min(end_us, (day + 1) * _DAY_US)
            first, last = (at_us % _DAY_US) // _QUARTER_US, (stop_us - day * _DAY_US) // _QUARTER_US
            prices.append(self._block(day).price_eur_mwh[first:last])
            deviations.append(self._auction_deviations[day][:, first:last])
            at_us = stop_us
        return np.concatenate(prices), np.concatenate(deviations, axis=1)

    def _publish(self, publication: Publication, events: list[Event]) -> None:
        """One auction's results: a price per delivery period and market, in time order."""
        columns = [self._column[m] for m in publication.markets]
        prices, deviations = self._window(publication.start_us, publication.end_us)
        prices = prices[:, columns]
        if publication.auction == DAY_AHEAD:
            kind = PriceKind.DAY_AHEAD
            per_period = publication.minutes // 15
            if per_period > 1:  # an hourly MTU: the mean of its quarter-hours
                prices = prices.reshape(-1, per_period, len(columns)).mean(axis=1)
        else:
            kind = PriceKind.of_auction(publication.auction)
            deviation = deviations[self._auction_index[publication.auction]][:, columns]
            prices = np.clip(prices + deviation, PRICE_FLOOR_EUR_MWH, PRICE_CAP_EUR_MWH)
        period = timedelta(minutes=publication.minutes)
        ts = from_us(publication.start_us)
        for row in np.round(prices, 2).tolist():
            events.extend(
                PriceTick(
                    ts=ts,
                    market=market,
                    price_eur_mwh=price,
                    kind=kind,
                    source=self._source,
                    delivery_minutes=publication.minutes,
                )
                for market, price in zip(publication.markets, row, strict=True)
            )
            ts += period

    def _enter_quarter(self, quarter_start_us: int, events: list[Event]) -> None:
        block = self._block(quarter_start_us // _DAY_US)
        index = (quarter_start_us % _DAY_US) // _QUARTER_US
        ts = from_us(quarter_start_us)
        load = np.round(block.load_mw[index], 1).tolist()
        wind = np.round(block.wind_mw[index], 1).tolist()
        solar = np.round(block.solar_mw[index], 1).tolist()
        for position, market in enumerate(self._markets):
            events.append(
                Fundamentals(
                    ts=ts,
                    market=market,
                    load_mw=load[position],
                    wind_mw=wind[position],
                    solar_mw=solar[position],
                    source=self._source,
                )
            )
        self._base = block.price_eur_mwh[index]
        self._scale = (
            self._config.intraday_noise_share * np.abs(self._base)
            + self._config.intraday_noise_floor_eur_mwh
        )

    def _ticks(self, rounds: int, events: list[Event]) -> None:
        z, volume = self._noise.take(rounds)
        prices = np.round(self._base + self._scale * z, 2).tolist()
        volumes = volume.tolist()
        markets = self._markets
        kind = PriceKind.INTRADAY
        source = self._source
        step = self._step
        ts = self._ts
        stamps = []
        for _ in range(rounds):
            stamps.append(ts)
            ts += step
        # The hot path of the whole feed: one flat comprehension, no per-tick calls
        # besides the struct itself.
        events += [
            PriceTick(
                ts=stamp,
                market=market,
                price_eur_mwh=price,
                kind=kind,
                volume_mwh=volume_mwh,
                source=source,
            )
            for stamp, price_row, volume_row in zip(stamps, prices, volumes, strict=True)
            for market, price, volume_mwh in zip(markets, price_row, volume_row, strict=True)
        ]
        self._ts = ts
        self._t_us += rounds * self._step_us


class MockFeed:
    """The mock market as a :class:`engine.ports.Feed`. See the module docstring."""

    def __init__(self, config: MockFeedConfig | None = None) -> None:
        self.config = config or MockFeedConfig()

    @property
    def name(self) -> str:
        return "mock"

    async def stream(self, clock: Clock) -> AsyncGenerator[Sequence[Event], None]:
        """Yield non-empty batches of events until cancelled.

        Args:
            clock: a live clock paces the ticks in real time; a simulated one is moved
                along with them.
        """
        config = self.config
        began = clock.now()
        origin = config.start if config.start is not None else began
        # The feed may run on its own calendar (config.start) but always paces itself
        # relative to the moment the stream began on the engine's clock.
        pace_offset = began - origin
        fast = config.tick_interval_s == 0
        step_s = config.fast_step_s if fast else config.tick_interval_s
        session = _Session(config, origin, step_s)
        if fast:
            rounds_per_batch = max(1, config.fast_batch_ticks // len(config.markets))
            batch = session.start()
            while True:
                batch.extend(session.rounds(rounds_per_batch))
                if not clock.is_live:
                    await clock.sleep_until(session.last_tick_ts + pace_offset)
                yield batch
                # A fast feed never waits on I/O: give the loop a turn per batch.
                await asyncio.sleep(0)
                batch = []
        else:
            batch = session.start()
            while True:
                batch.extend(session.rounds(1))
                yield batch
                await clock.sleep_until(session.next_tick_ts + pace_offset)
                batch = []


__all__ = [
    "MockFeed",
    "MockFeedConfig",
    "simulate_hourly_prices",
]
