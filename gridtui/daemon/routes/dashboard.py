"""``/api/v1/dashboard``: summary, prices, price history, batteries, arbitrage.

Prices come back as the engine's own tagged events, so a remote dashboard
(:class:`gridtui.client.remote.RemoteClient`) decodes them into the very types
the local engine hands the TUI.
"""

from __future__ import annotations

from aiohttp import web

from engine.events import PriceKind
from gridtui.daemon.keys import API_SETTINGS, ENGINE
from gridtui.daemon.openapi import Param, RouteSpec, limit_param
from gridtui.daemon.routes.public import KIND_PARAM, feed_status, latest_ticks, store_status
from gridtui.daemon.schemas import Arbitrage, Batteries, Prices, PriceSeries, Summary
from gridtui.daemon.validation import (
    ApiError,
    json_response,
    market_of,
    query_enum,
    query_float,
    query_int,
    query_time,
)


async def summary(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    live = engine.live
    latest = live.latest_prices(PriceKind.INTRADAY)
    opportunities = engine.open_opportunities()
    strategies = list(live.strategies.values())
    body = Summary(
        timestamp=engine.now(),
        markets=list(engine.settings.markets),
        latest_prices_eur_mwh={m: t.price_eur_mwh for m, t in sorted(latest.items())},
        open_opportunities=len(opportunities),
        best_opportunity=opportunities[0] if opportunities else None,
        batteries=len(live.batteries),
        strategies_running=sum(1 for s in strategies if s.state == "running"),
        strategies_total=len(strategies),
        strategies_pnl_eur=round(sum(s.pnl_eur for s in strategies), 2),
        recent_alerts=list(live.alerts)[-10:][::-1],
        feed=feed_status(engine),
        store=store_status(engine),
    )
    return json_response(body)


async def prices(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    kind = query_enum(request, "kind", PriceKind, PriceKind.INTRADAY)
    assert kind is not None
    latest = await latest_ticks(engine, kind)
    ticks = [latest[m] for m in engine.settings.markets if m in latest]
    return json_response(Prices(kind=kind.value, prices=ticks, retrieved_at=engine.now()))


async def price_history(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    market = market_of(request, engine.settings.markets)
    limit = query_int(
        request, "limit", default=500, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    kind = query_enum(request, "kind", PriceKind, None)
    start, end = query_time(request, "start"), query_time(request, "end")
    if start is not None and end is not None and start >= end:
        raise ApiError(400, "query parameter 'start' must be before 'end'")
    ticks = await engine.runtime.store.price_history(
        market, start=start, end=end, limit=limit, kind=kind
    )
    return json_response(
        PriceSeries(
            market=market, kind=kind.value if kind else None, prices=ticks, count=len(ticks)
        )
    )


async def battery(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    engine.require("batteries")
    states = [engine.live.batteries[k] for k in sorted(engine.live.batteries)]
    return json_response(Batteries(batteries=states, count=len(states)))


async def arbitrage(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    limit = query_int(
        request, "limit", default=50, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    min_net = query_float(request, "min_net", default=None)
    found = engine.open_opportunities()
    if min_net is not None:
        found = [o for o in found if o.net_spread_eur_mwh >= min_net]
    return json_response(Arbitrage(opportunities=found[:limit], count=len(found[:limit])))


def routes(max_page_size: int) -> list[RouteSpec]:
    time_doc = "ISO 8601 time, e.g. 2026-01-05T00:00:00Z (UTC when no offset)"
    return [
        RouteSpec(
            "GET",
            "/api/v1/dashboard/summary",
            summary,
            "Everything at a glance: prices, best opportunity, batteries, strategies, alerts",
            "dashboard",
            response=Summary,
        ),
        RouteSpec(
            "GET",
            "/api/v1/dashboard/prices",
            prices,
            "Latest tick per market, as engine events",
            "dashboard",
            params=(KIND_PARAM,),
            response=Prices,
            errors=(503,),
        ),
        RouteSpec(
            "GET",
            "/api/v1/dashboard/prices/history",
            price_history,
            "Ticks of one market, oldest first (the newest `limit` within start..end)",
            "dashboard",
            params=(
                Param("market", "query", {"type": "string"}, "market code, e.g. DE", True),
                limit_param(500, max_page_size),
                Param(
                    "kind",
                    "query",
                    {"type": "string", "enum": [k.value for k in PriceKind]},
                    "price kind (default: every kind)",
                ),
                Param("start", "query", {"type": "string", "format": "date-time"}, time_doc),
                Param("end", "query", {"type": "string", "format": "date-time"}, time_doc),
            ),
            response=PriceSeries,
            errors=(404, 503),
        ),
        RouteSpec(
            "GET",
            "/api/v1/dashboard/battery",
            battery,
            "Latest state of every battery",
            "dashboard",
            response=Batteries,
            errors=(503,),
        ),
        RouteSpec(
            "GET",
            "/api/v1/dashboard/arbitrage",
            arbitrage,
            "Open spread opportunities, best net spread first, as engine events",
            "dashboard",
            params=(
                limit_param(50, max_page_size),
                Param("min_net", "query", {"type": "number"}, "only at least this net EUR/MWh"),
            ),
            response=Arbitrage,
        ),
    ]
