"""``GET /api/v1/dashboard/fundamentals``: load, wind, solar and residual load per market.

What the dashboard's Fundamentals pane shows, for any HTTP client: per market
the newest interval, the recent history (oldest first, ``limit`` points) and
the fundamental strategy's two inputs computed from that newest interval by
the strategy's own :func:`~engine.strategies.fundamental.fundamental_inputs`.
Live over the WebSocket as ``fundamentals_update`` messages.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from aiohttp import web

from engine.events import Fundamentals
from engine.strategies.fundamental import fundamental_inputs
from gridtui.daemon.keys import API_SETTINGS, ENGINE
from gridtui.daemon.openapi import Param, RouteSpec, limit_param
from gridtui.daemon.validation import json_response, market_of, query_int


class FundamentalsPoint(msgspec.Struct, kw_only=True):
    """One interval of one zone, in MW; ``residual_load_mw`` = load − wind − solar.

    ``load_forecast_mw``: the feed's day-ahead forecast of the interval's load
    (null where the feed publishes none).
    """

    timestamp: datetime
    load_mw: float
    wind_mw: float
    solar_mw: float
    residual_load_mw: float
    load_forecast_mw: float | None = None


class StrategyInputs(msgspec.Struct, kw_only=True):
    """What the fundamental strategy reads from the newest interval."""

    renewables_share: float
    load_gw: float


class MarketFundamentals(msgspec.Struct, kw_only=True):
    """One market's newest interval, the strategy's inputs from it, and recent history."""

    market: str
    source: str | None
    latest: FundamentalsPoint | None
    strategy_inputs: StrategyInputs | None
    history: list[FundamentalsPoint]


class FundamentalsBody(msgspec.Struct, kw_only=True):
    """What ``GET /api/v1/dashboard/fundamentals`` answers: one entry per market asked for."""

    markets: list[MarketFundamentals]
    count: int
    retrieved_at: datetime


def _point(event: Fundamentals) -> FundamentalsPoint:
    return FundamentalsPoint(
        timestamp=event.ts,
        load_mw=event.load_mw,
        wind_mw=event.wind_mw,
        solar_mw=event.solar_mw,
        residual_load_mw=round(event.load_mw - event.wind_mw - event.solar_mw, 3),
        load_forecast_mw=event.load_forecast_mw,
    )


def _market(market: str, history: list[Fundamentals], limit: int) -> MarketFundamentals:
    latest = history[-1] if history else None
    inputs = fundamental_inputs(latest) if latest is not None else None
    return MarketFundamentals(
        market=market,
        source=latest.source if latest is not None else None,
        latest=_point(latest) if latest is not None else None,
        strategy_inputs=None
        if inputs is None
        else StrategyInputs(renewables_share=round(inputs[0], 4), load_gw=round(inputs[1], 3)),
        history=[_point(e) for e in history[-limit:]],
    )


async def fundamentals(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    configured = engine.settings.markets
    markets = [market_of(request, configured)] if "market" in request.query else list(configured)
    limit = query_int(
        request, "limit", default=96, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    found = engine.live.fundamentals
    body = [_market(m, list(found.get(m, ())), limit) for m in markets]
    return json_response(FundamentalsBody(markets=body, count=len(body), retrieved_at=engine.now()))


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/dashboard/fundamentals",
            fundamentals,
            "Load, wind, solar and residual load per market (newest, recent history, "
            "the fundamental strategy's inputs)",
            "dashboard",
            params=(
                Param(
                    "market",
                    "query",
                    {"type": "string"},
                    "market code, e.g. DE (default: every configured market)",
                ),
                limit_param(96, max_page_size),
            ),
            response=FundamentalsBody,
            errors=(400, 404),
        ),
    ]
