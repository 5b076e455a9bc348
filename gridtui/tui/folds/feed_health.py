"""FeedHealthFold: the Feed-health pane and the status bar's feed state.

Per feed it keeps the newest :class:`~engine.events.FeedHealth` — the one state
the kernel's :class:`~engine.feed_health.FeedHealthMachine` published, so the
pane, the status bar and the alerts say the same. Per market it keeps the last
tick that arrived: when (engine time), its MTU and its source. A day-ahead tick
is stamped with its delivery start, often hours ahead; it counts as seen when it
arrived, not when it will be delivered (ticks that come before the model knows
the engine's time count as seen at the next health event's time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.events import FeedHealth, PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from gridtui.tui.folds.clock import EngineClock, age
from gridtui.tui.views import FeedHealthView, MarketFeedView


class FeedHealthFold:
    """Folds feed health and price ticks into the Feed-health pane's rows.

    Args:
        clock: the model's engine clock.
        timeline: the market rules that give a market's MTU when a tick does not say.
        stale_after_s: engine seconds after which a market's last tick is stale.
    """

    def __init__(
        self, clock: EngineClock, timeline: MarketTimeline, *, stale_after_s: float
    ) -> None:
        self.clock = clock
        self.timeline = timeline
        self.stale_after_s = stale_after_s
        self.feeds: dict[str, FeedHealth] = {}
        self.latest: FeedHealth | None = None
        self._ticks: dict[str, tuple[float, PriceTick]] = {}  # market → (seen at s, tick)
        self._pending: set[str] = set()  # markets whose tick came before any engine time

    def on_health(self, health: FeedHealth) -> None:
        self.feeds[health.source] = health
        self.latest = health
        for market in self._pending:
            self._ticks[market] = (health.ts.timestamp(), self._ticks[market][1])
        self._pending.clear()

    def on_price(self, tick: PriceTick) -> None:
        now_s = self.clock.now_s
        if not math.isfinite(now_s):
            self._ticks[tick.market] = (-math.inf, tick)
            self._pending.add(tick.market)
            return
        seen_s = min(tick.ts.timestamp(), now_s)
        previous = self._ticks.get(tick.market)
        if previous is None or seen_s >= previous[0]:
            self._ticks[tick.market] = (seen_s, tick)
            self._pending.discard(tick.market)

    def mtu_minutes(self, tick: PriceTick) -> int:
        """The tick's own delivery period, else the market's day-ahead MTU that day."""
        if tick.delivery_minutes:
            return tick.delivery_minutes
        day = self.timeline.delivery_day(tick.market, tick.ts)
        return self.timeline.mtu_minutes(tick.market, day)

    def feed_views(self) -> tuple[FeedHealthView, ...]:
        now_s = self.clock.now_s
        return tuple(
            FeedHealthView(
                source=h.source,
                state=h.state,
                reason=h.message,
                since_age_s=age(now_s, h.since.timestamp()) if h.since else None,
                last_success_age_s=(
                    age(now_s, h.last_success.timestamp()) if h.last_success else None
                ),
                budget_used=h.budget_used,
                budget_limit=h.budget_limit,
                retries=h.retries_total,
                errors=h.errors_total,
                last_error=h.last_error,
            )
            for h in self.feeds.values()
        )

    def market_views(self, markets: Sequence[str]) -> tuple[MarketFeedView, ...]:
        now_s = self.clock.now_s
        views: list[MarketFeedView] = []
        for market in markets:
            seen = self._ticks.get(market)
            if seen is None:
                views.append(MarketFeedView(market=market))
                continue
            seen_s, tick = seen
            tick_age_s = age(now_s, seen_s)
            mtu = self.mtu_minutes(tick)
            # A day-ahead price comes once per MTU: stale only when an MTU went by without one.
            limit_s = self.stale_after_s + (mtu * 60 if tick.kind is PriceKind.DAY_AHEAD else 0)
            views.append(
                MarketFeedView(
                    market=market,
                    last_tick_age_s=tick_age_s,
                    mtu_minutes=mtu,
                    source=tick.source,
                    kind=tick.kind.value,
                    stale=tick_age_s is not None and tick_age_s > limit_s,
                )
            )
        return tuple(views)
