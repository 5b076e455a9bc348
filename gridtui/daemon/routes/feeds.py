"""``GET /api/v1/feeds/health``: the Feed-health pane's data, for a dashboard attached
with ``gridtui --connect`` and for monitoring.

Per feed the kernel's one :class:`~engine.events.FeedHealth` (state, reason,
since, and for an API feed the request budget, retries and last error): the
same state ``/health``, the status bar and the feed alerts read. Per market the
last tick that arrived: how old it is on the engine's clock, its MTU (the tick's
own delivery period, else the market's day-ahead MTU that day from
``[market]``) and its source.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from aiohttp import web

from engine.events import FeedHealth
from engine.market.timeline import MarketTimeline
from gridtui.daemon.keys import ENGINE
from gridtui.daemon.openapi import RouteSpec
from gridtui.daemon.validation import json_response


class MarketFeed(msgspec.Struct, kw_only=True):
    """Where a market's last tick came from and how old it is (None: no tick yet)."""

    market: str
    last_tick_at: datetime | None = None
    last_tick_age_s: float | None = None
    mtu_minutes: int | None = None
    kind: str | None = None
    source: str | None = None


class FeedsHealth(msgspec.Struct, kw_only=True):
    """Each feed's one health state (the kernel's FeedHealth) and each market's last tick."""

    feeds: list[FeedHealth]
    markets: list[MarketFeed]
    retrieved_at: datetime


async def feeds_health(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    now = engine.now()
    timeline = MarketTimeline(engine.settings.market)
    seen = engine.live.ticks_seen
    markets: list[MarketFeed] = []
    for market in (*engine.settings.markets, *sorted(set(seen) - set(engine.settings.markets))):
        if market not in seen:
            markets.append(MarketFeed(market=market))
            continue
        seen_at, tick = seen[market]
        mtu = tick.delivery_minutes or timeline.mtu_minutes(
            market, timeline.delivery_day(market, tick.ts)
        )
        markets.append(
            MarketFeed(
                market=market,
                last_tick_at=seen_at,
                last_tick_age_s=round(max(0.0, (now - seen_at).total_seconds()), 3),
                mtu_minutes=mtu,
                kind=tick.kind.value,
                source=tick.source,
            )
        )
    body = FeedsHealth(feeds=[engine.runtime.kernel.health()], markets=markets, retrieved_at=now)
    return json_response(body)


def routes(max_page_size: int) -> list[RouteSpec]:
    del max_page_size  # no pages here
    return [
        RouteSpec(
            "GET",
            "/api/v1/feeds/health",
            feeds_health,
            "Feed health: each feed's state and reason, each market's last tick",
            "health",
            response=FeedsHealth,
            description=__doc__ or "",
        )
    ]
