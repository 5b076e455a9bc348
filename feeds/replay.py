"""ReplayFeed: history from a parquet or CSV file, played on a simulated clock.

This module plays price history (read by :mod:`feeds.price_file`) back as
:class:`~engine.events.PriceTick` batches. ``gridtui.wiring`` builds it for
``feed.kind = "replay"`` together with a :class:`~engine.clock.SimClock` that
starts at the file's first timestamp (:func:`feeds.price_file.peek_start`);
backtests drive it the same way. The engine cannot tell a
replay from the live feed except by the clock.

Fundamentals (``ReplayConfig.fundamentals``, read by :mod:`feeds.replay_fundamentals`
from the files ``gridtui fetch`` writes) are merged by time with the prices: each
goes out when it would have been known, before the prices of that instant.

Pacing comes from the clock. On a SimClock with a finite ``speed`` each instant
is released when the clock reaches it (``clock.sleep_until``: at speed 60 an
hour of history takes a minute). At infinite speed rows go out in batches of
about ``batch_size`` ticks, as fast as the engine takes them. Either way the
clock is advanced to the newest timestamp of a batch *before* the batch is
yielded, so the engine's validator never sees a tick from its future.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncGenerator, Sequence

import msgspec
import numpy as np

from engine.clock import Clock
from engine.events import Event, PriceKind, PriceTick
from engine.ports import FeedError
from engine.time_us import from_us
from feeds.price_file import load_prices
from feeds.replay_fundamentals import load_fundamentals

log = logging.getLogger(__name__)


class ReplayConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What to replay.

    Attributes:
        path: a ``.parquet`` or ``.csv`` (``.csv.gz``) file.
        markets: replay only these markets; empty = every market in the file.
        batch_size: ticks per batch when replaying as fast as possible.
        kind: the price kind stamped on every tick.
        delivery_minutes: delivery length when the file has no column for it.
        source: stamped on every tick and fundamentals event.
        fundamentals: files of load, generation and load forecast written by
            ``gridtui fetch`` (``FILE.load.parquet`` …) to play beside the prices.
        fundamentals_delay_minutes: how long after its interval's end an actual
            is released (ENTSO-E publishes within an hour).
    """

    path: str
    markets: tuple[str, ...] = ()
    batch_size: int = 10_000
    kind: PriceKind = PriceKind.DAY_AHEAD
    delivery_minutes: int = 60
    source: str = "replay"
    fundamentals: tuple[str, ...] = ()
    fundamentals_delay_minutes: int = 60


class ReplayFeed:
    """Plays a price file on a SimClock (see the module docstring)."""

    def __init__(self, config: ReplayConfig) -> None:
        if config.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {config.batch_size}")
        self.config = config
        self.rows_total = 0
        self.rows_sent = 0
        self.fundamentals_total = 0
        self.fundamentals_sent = 0
        self.fundamentals_rejected = 0

    @property
    def name(self) -> str:
        return "replay"

    async def stream(self, clock: Clock) -> AsyncGenerator[Sequence[Event], None]:
        advance_to = getattr(clock, "advance_to", None)
        if clock.is_live or advance_to is None:
            raise FeedError(
                "a replay needs a simulated clock (engine.clock.SimClock); "
                "gridtui.wiring.build_clock makes one for feed.kind = replay"
            )
        config = self.config
        # Reading a large file takes a while; keep the event loop answering meanwhile.
        history = await asyncio.to_thread(
            load_prices, config.path, config.markets, delivery_minutes=config.delivery_minutes
        )
        fundamentals = await asyncio.to_thread(
            load_fundamentals,
            config.fundamentals,
            config.markets,
            delay_minutes=config.fundamentals_delay_minutes,
            source=config.source,
        )
        self.fundamentals_total = len(fundamentals)
        self.fundamentals_rejected = fundamentals.rejected_rows
        self.rows_total = count = len(history)
        if not count:
            log.warning("replay file %s holds no prices for %s", config.path, config.markets)
            return
        ts_us = history.ts_us
        # One datetime per distinct instant, shared by its rows: building 10⁵
        # datetimes per second would cost more than the ticks themselves.
        starts = np.flatnonzero(np.diff(ts_us)) + 1
        group_starts = [0, *starts.tolist()]
        instants = [from_us(int(us)) for us in ts_us[group_starts].tolist()]
        group_of_row = np.zeros(count, dtype=np.int64)
        group_of_row[starts] = 1
        row_times = [instants[g] for g in np.cumsum(group_of_row).tolist()]
        minutes = history.minutes or [config.delivery_minutes] * count
        kind, source = config.kind, config.source
        markets, prices = history.markets, history.prices

        def ticks(a: int, b: int) -> list[Event]:
            return [
                PriceTick(
                    ts=ts,
                    market=market,
                    price_eur_mwh=price,
                    kind=kind,
                    source=source,
                    delivery_minutes=length,
                )
                for ts, market, price, length in zip(
                    row_times[a:b], markets[a:b], prices[a:b], minutes[a:b], strict=True
                )
            ]

        bounds = [*group_starts, count]
        release_us, known = fundamentals.release_us, fundamentals.events
        if math.isfinite(getattr(clock, "speed", math.inf)):
            advance_to(instants[0])  # jump to the start of history, then keep pace
            price_us = ts_us[group_starts]
            g = f = 0
            # Every instant something is released: a price's delivery start or the
            # moment a fundamentals interval becomes known.
            for us in np.union1d(price_us, release_us).tolist():
                is_price = g < len(instants) and int(price_us[g]) == us
                await clock.sleep_until(instants[g] if is_price else from_us(us))
                batch: list[Event] = []
                while f < len(known) and int(release_us[f]) <= us:
                    batch.append(known[f])
                    f += 1
                self.fundamentals_sent += len(batch)
                if is_price:
                    prices_now = ticks(bounds[g], bounds[g + 1])
                    self.rows_sent += len(prices_now)
                    batch.extend(prices_now)
                    g += 1
                yield batch
            return
        # As fast as possible: batch_size rows per batch. An instant may straddle
        # two batches; the clock stands at or after it for both. A fundamentals
        # event goes just before the first price row at or after its release, so
        # the clock stands past its release when its batch is handed over.
        before_row = np.searchsorted(ts_us, release_us, side="left")
        a = f = 0
        while a < count:
            b = min(a + config.batch_size, count)
            advance_to(row_times[b - 1])
            batch = []
            cursor = a
            while f < len(known) and before_row[f] < b:
                cut = max(int(before_row[f]), cursor)
                batch.extend(ticks(cursor, cut))
                cursor = cut
                batch.append(known[f])
                f += 1
                self.fundamentals_sent += 1
            batch.extend(ticks(cursor, b))
            self.rows_sent += b - a
            yield batch
            a = b
        while f < len(known):  # known only after the last price
            end = min(f + config.batch_size, len(known))
            advance_to(from_us(int(release_us[end - 1])))
            self.fundamentals_sent += end - f
            yield known[f:end]
            f = end
