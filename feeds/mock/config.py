"""MockFeedConfig: how the mock market runs, checked when it is built.

:class:`feeds.mock.feed.MockFeed` takes it (and re-exports it); ``gridtui.wiring`` and
the backtest command build it from the settings (``[feed]`` and ``[market]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.events import PriceKind
from engine.market.timeline import MarketTimeline, TimelineConfig
from engine.market.zones import DEFAULT_TABLE, ZoneTable
from feeds.mock.auctions import auction_names
from feeds.mock.model import ModelParams, ZoneProfile


@dataclass(frozen=True, slots=True)
class MockFeedConfig:
    """How the mock market runs. Every field has a default that makes sense live.

    Attributes:
        markets: market codes; a zone without a hand-made profile gets its
            region's default (:mod:`feeds.mock.regions`), an unknown code a
            generic one.
        seed: the whole event sequence follows from seed and start.
        tick_interval_s: simulated seconds between intraday rounds; 0 = as fast as
            possible (see the module docstring).
        start: simulated time of the first tick (tz-aware); None = ``clock.now()``.
        fast_step_s: notional simulated seconds per round when ``tick_interval_s`` is 0.
        fast_batch_ticks: about this many intraday ticks per batch when fast.
        timeline: the market rules: local delivery days, MTU, day-ahead publication
            and the intraday auctions (``[market]`` in the settings).
        ida_publication_delay_min: intraday-auction results come this long after
            their gate (SIDC publishes final results ~20 minutes after it).
        ida_noise_share: the new information each intraday auction prices, as a
            share of the price (deviations add up from IDA1 to IDA3).
        ida_noise_floor_eur_mwh: its minimum size, for prices near zero.
        ida_noise_tau_min: memory of that deviation across quarter-hours.
        intraday_noise_share: size of the intraday deviation, share of the price.
        intraday_noise_floor_eur_mwh: its minimum size, for prices near zero.
        intraday_tau_s: memory of the intraday deviation.
        profiles: per-market overrides of ``feeds.mock.model.ZONE_PROFILES``.
        params: overrides of the price model's shared knobs.
        zones: the bidding zones (region → default profile, real borders →
            coupling), ``[zones.<CODE>]`` applied.
    """

    markets: tuple[str, ...] = ("DE", "FR", "NL", "BE", "AT", "GB")
    seed: int = 42
    tick_interval_s: float = 10.0
    start: datetime | None = None
    fast_step_s: float = 1.0
    fast_batch_ticks: int = 1000
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
    ida_publication_delay_min: float = 20.0
    ida_noise_share: float = 0.03
    ida_noise_floor_eur_mwh: float = 1.0
    ida_noise_tau_min: float = 120.0
    intraday_noise_share: float = 0.04
    intraday_noise_floor_eur_mwh: float = 1.5
    intraday_tau_s: float = 1800.0
    profiles: Mapping[str, ZoneProfile] | None = None
    params: ModelParams | None = None
    zones: ZoneTable = DEFAULT_TABLE

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
        if not 0 <= self.ida_publication_delay_min < 24 * 60:
            raise ValueError(
                f"ida_publication_delay_min must be 0..1440, got {self.ida_publication_delay_min}"
            )
        if not (self.ida_noise_share >= 0 and self.ida_noise_floor_eur_mwh >= 0):
            raise ValueError("ida_noise_share and ida_noise_floor_eur_mwh must be >= 0")
        if not self.ida_noise_tau_min > 0:
            raise ValueError(f"ida_noise_tau_min must be > 0, got {self.ida_noise_tau_min}")
        timeline = MarketTimeline(self.timeline)
        for name in auction_names(timeline, self.markets):
            PriceKind.of_auction(name)  # raises for an auction the mock cannot price
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("MockFeedConfig.start must be tz-aware (UTC)")
        if self.intraday_tau_s <= 0:
            raise ValueError(f"intraday_tau_s must be > 0, got {self.intraday_tau_s}")


__all__ = ["MockFeedConfig"]
