"""MockFeed: a seeded, simulated European power market as an event feed.

This module owns the *adapter*: it turns the quarter-hourly fundamentals and prices
of :class:`feeds.mock_model.MarketModel` into the events of ``engine.events`` and
paces them on the engine's clock. ``gridtui.wiring`` plugs it in as the default
feed (no tokens, no network); backtests and benchmarks drive it on a SimClock.

What it emits, all with tz-aware UTC timestamps and ``source="mock"``:

- **Intraday ticks** (``PriceKind.INTRADAY``): one per market every
  ``tick_interval_s``; the price is the current quarter-hour's fundamental price
  plus a mean-reverting (Ornstein–Uhlenbeck) deviation with a 30-minute memory.
- **Day-ahead prices** (``PriceKind.DAY_AHEAD``, ``delivery_minutes=15``, ``ts`` =
  delivery start): a whole UTC delivery day of 96 quarter-hours per market, published
  once a day at the auction (11:00 UTC ≈ 12:00 CET). At start-up it publishes today's
  curve, and tomorrow's too when the auction has already passed, so a UI has a curve
  at once.
- **Fundamentals**: load, wind and solar per market for each quarter-hour, when the
  quarter starts.

Pacing: with ``tick_interval_s > 0`` it emits one round of ticks (one per market) per
interval and waits on ``clock.sleep_until``. With ``tick_interval_s == 0`` it runs as
fast as possible: batches of about ``fast_batch_ticks`` ticks, simulated time moving
by a notional ``fast_step_s`` (1 s) per round; it never sleeps on a live clock (its
timestamps then run ahead of the wall clock) and moves a simulated clock along with
its batches. Same seed and same start give the same event sequence.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
from scipy.signal import lfilter

from engine.clock import Clock
from engine.events import Event, Fundamentals, PriceKind, PriceTick
from feeds.mock_model import (
    FloatArray,
    MarketModel,
    ModelParams,
    SimBlock,
    ZoneProfile,
    simulate_hourly_prices,
)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US_PER_S: Final = 1_000_000
_QUARTER_US: Final = 15 * 60 * _US_PER_S
_DAY_US: Final = 24 * 3600 * _US_PER_S
_NOISE_CHUNK_ROUNDS: Final = 4096


@dataclass(frozen=True, slots=True)
class MockFeedConfig:
    """How the mock market runs. Every field has a default that makes sense live.

    Attributes:
        markets: market codes; unknown ones get a generic profile.
        seed: the whole event sequence follows from seed and start.
        tick_interval_s: simulated seconds between intraday rounds; 0 = as fast as
            possible (see the module docstring).
        start: simulated time of the first tick (tz-aware); None = ``clock.now()``.
        fast_step_s: notional simulated seconds per round when ``tick_interval_s`` is 0.
        fast_batch_ticks: about this many intraday ticks per batch when fast.
        auction_hour_utc: UTC hour at which tomorrow's day-ahead curve is published.
        intraday_noise_share: size of the intraday deviation, share of the price.
        intraday_noise_floor_eur_mwh: its minimum size, for prices near zero.
        intraday_tau_s: memory of the intraday deviation.
        profiles: per-market overrides of ``feeds.mock_model.ZONE_PROFILES``.
        params: overrides of the price model's shared knobs.
    """

    markets: tuple[str, ...] = ("DE", "FR", "NL", "BE", "AT", "GB")
    seed: int = 42
    tick_interval_s: float = 10.0
    start: datetime | None = None
    fast_step_s: float = 1.0
    fast_batch_ticks: int = 1000
    auction_hour_utc: int = 11
    intraday_noise_share: float = 0.04
    intraday_noise_floor_eur_mwh: float = 1.5
    intraday_tau_s: float = 1800.0
    profiles: Mapping[str, ZoneProfile] | None = None
    params: ModelParams | None = None

    def __post_init__(self) -> None:
        if not self.markets:
            raise ValueError("MockFeedConfig.markets must name at least one market")
        if len(set(self.markets)) != len(self.markets):
            raise ValueError(f"MockFeedConfig.markets has duplicates: {list(self.markets)}")
        if not math.isfinite(self.tick_interval_s) or self.tick_interval_s < 0:
            raise ValueError(f"tick_interval_s must be >= 0, got {self.tick_interval_s}")
        if self.tick_interval_s == 0 and not self.fast_step_s > 0:
            raise ValueError(f"fast_step_s must be > 0, got {self.fast_step_s}")
        if self.fast_batch_ticks < 1:
            raise ValueError(f"fast_batch_ticks must be >= 1, got {self.fast_batch_ticks}")
        if not 0 <= self.auction_hour_utc <= 23:
            raise ValueError(f"auction_hour_utc must be 0..23, got {self.auction_hour_utc}")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("MockFeedConfig.start must be tz-aware (UTC)")
        if self.intraday_tau_s <= 0:
            raise ValueError(f"intraday_tau_s must be > 0, got {self.intraday_tau_s}")


class _IntradayNoise:
    """Unit-variance OU deviations per market, pre-generated in chunks of rounds.

    Chunking keeps numpy's per-call cost off the per-tick path; the sequence does
    not depend on how many rounds each call takes.
    """

    def __init__(self, rng: np.random.Generator, markets: int, step_s: float, tau_s: float) -> None:
        self._rng = rng
        self._phi = math.exp(-step_s / tau_s)
        self._gain = math.sqrt(1.0 - self._phi**2)
        self._state: FloatArray = rng.standard_normal(markets)
        self._z: FloatArray = np.empty((0, markets))
        self._volume: FloatArray = np.empty((0, markets))

    def take(self, rounds: int) -> tuple[FloatArray, FloatArray]:
        """Deviations and trade volumes (MWh) for the next ``rounds`` rounds."""
        while self._z.shape[0] < rounds:
            shocks = self._rng.standard_normal((_NOISE_CHUNK_ROUNDS, self._state.shape[0]))
            values, _ = lfilter(
                [self._gain], [1.0, -self._phi], shocks, axis=0, zi=(self._phi * self._state)[None]
            )
            z: FloatArray = np.asarray(values, dtype=np.float64)
            self._state = z[-1].copy()
            # Intraday trades are small clips: log-normal around 5 MWh, in steps of
            # 0.1 MWh and never zero.
            volume = np.round(self._rng.lognormal(np.log(5.0), 0.8, shocks.shape), 1) + 0.1
            self._z = np.concatenate([self._z, z])
            self._volume = np.concatenate([self._volume, volume])
        z_out, self._z = self._z[:rounds], self._z[rounds:]
        volume_out, self._volume = self._volume[:rounds], self._volume[rounds:]
        return z_out, volume_out


class _Session:
    """One run of the simulated market: the clockwork behind :meth:`MockFeed.stream`."""

    def __init__(self, config: MockFeedConfig, origin: datetime, step_s: float) -> None:
        self._config = config
        self._markets = config.markets
        self._source = "mock"
        origin_us = _to_us(origin)
        self._t_us = origin_us
        self._step_us = max(1, round(step_s * _US_PER_S))
        self._step = timedelta(microseconds=self._step_us)
        self._ts = _EPOCH + timedelta(microseconds=origin_us)
        self._auction_offset_us = config.auction_hour_utc * 3600 * _US_PER_S
        first_day = origin_us // _DAY_US
        self._model = MarketModel(
            self._markets,
            seed=config.seed,
            start=_EPOCH + timedelta(microseconds=first_day * _DAY_US),
            step_minutes=15,
            profiles=config.profiles,
            params=config.params,
        )
        self._blocks: dict[int, SimBlock] = {}
        # A separate stream from the price model: the day-ahead curve is the same
        # whatever the tick interval.
        noise_rng = np.random.default_rng([config.seed, 0x1D])
        self._noise = _IntradayNoise(
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
        """Today's day-ahead curve (and tomorrow's after the auction), the current quarter."""
        events: list[Event] = []
        day = self._t_us // _DAY_US
        self._publish_day_ahead(day, events)
        if self._t_us - day * _DAY_US >= self._auction_offset_us:
            self._publish_day_ahead(day + 1, events)
        quarter_start_us = self._t_us - self._t_us % _QUARTER_US
        self._enter_quarter(quarter_start_us, events)
        self._next_quarter_us = quarter_start_us + _QUARTER_US
        return events

    def rounds(self, count: int) -> list[Event]:
        """The events of the next ``count`` rounds of ticks, in time order."""
        events: list[Event] = []
        remaining = count
        while remaining > 0:
            while self._t_us >= self._next_quarter_us:
                quarter_start_us = self._next_quarter_us
                self._next_quarter_us += _QUARTER_US
                if quarter_start_us % _DAY_US == self._auction_offset_us:
                    self._publish_day_ahead(quarter_start_us // _DAY_US + 1, events)
                self._enter_quarter(quarter_start_us, events)
            # Ticks up to the next quarter share one base price.
            until_boundary = -(-(self._next_quarter_us - self._t_us) // self._step_us)
            batch = min(remaining, until_boundary)
            self._ticks(batch, events)
            remaining -= batch
        return events

    def _block(self, day: int) -> SimBlock:
        while day not in self._blocks:
            block = self._model.next_days(1)
            self._blocks[_to_us(block.start) // _DAY_US] = block
        for old in [d for d in self._blocks if d < day - 1]:
            del self._blocks[old]
        return self._blocks[day]

    def _publish_day_ahead(self, day: int, events: list[Event]) -> None:
        block = self._block(day)
        prices = block.price_eur_mwh.tolist()
        ts = block.start
        quarter = timedelta(minutes=15)
        kind = PriceKind.DAY_AHEAD
        for row in prices:
            events.extend(
                PriceTick(
                    ts=ts,
                    market=market,
                    price_eur_mwh=price,
                    kind=kind,
                    source=self._source,
                    delivery_minutes=15,
                )
                for market, price in zip(self._markets, row, strict=True)
            )
            ts += quarter

    def _enter_quarter(self, quarter_start_us: int, events: list[Event]) -> None:
        block = self._block(quarter_start_us // _DAY_US)
        index = (quarter_start_us % _DAY_US) // _QUARTER_US
        ts = _EPOCH + timedelta(microseconds=quarter_start_us)
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


def _to_us(when: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    delta = when.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US_PER_S + delta.microseconds


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
