"""``/api/v1/market/timeline``: what can be traded now, for which delivery, until when.

One answer per configured market from the engine's market timeline
(:class:`engine.market.timeline.MarketTimeline`) at the engine's present
(simulated in a replay): the day-ahead auction still open, the intraday
auctions whose gates have not closed, continuous intraday; each with its
delivery window and closing instant, in UTC and market-local time.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from engine.market.timeline import MarketTimeline
from gridtui.daemon.keys import ENGINE
from gridtui.daemon.openapi import Param, RouteSpec
from gridtui.daemon.schemas import MarketTimelines, MarketTimelineView, TradingWindowView
from gridtui.daemon.validation import json_response, market_of


async def timeline(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    settings = engine.settings
    markets = list(settings.markets)
    if "market" in request.query:
        markets = [market_of(request, settings.markets)]
    clock = MarketTimeline(settings.market)
    now = engine.now()
    views = []
    for market in markets:
        rules = clock.rules(market)
        zone = ZoneInfo(rules.timezone)
        auction = clock.next_day_ahead(market, now)
        windows = [
            TradingWindowView(
                product=w.product.value,
                name=w.name,
                delivery_start=w.delivery_start,
                delivery_end=w.delivery_end,
                closes_at=w.closes_at,
                closes_at_local=w.closes_at.astimezone(zone).isoformat(),
                closes_in_s=round((w.closes_at - now).total_seconds(), 1),
            )
            for w in clock.tradable(market, now)
        ]
        views.append(
            MarketTimelineView(
                market=market,
                timezone=rules.timezone,
                next_day_ahead_delivery_day=clock.delivery_day(market, auction.delivery_start),
                next_day_ahead_gate_closure=auction.gate_closure,
                next_day_ahead_publication=auction.publication,
                published_until=clock.published_until(market, now),
                tradable=windows,
            )
        )
    return json_response(MarketTimelines(now=now, markets=views))


def routes(max_page_size: int) -> list[RouteSpec]:
    del max_page_size  # nothing here is paged
    return [
        RouteSpec(
            "GET",
            "/api/v1/market/timeline",
            timeline,
            "What can be traded now per market: products, delivery windows, gate closures",
            "market",
            params=(Param("market", "query", {"type": "string"}, "one market (default: all)"),),
            response=MarketTimelines,
            errors=(404,),
        )
    ]
