"""``/api/v1/trading``: strategies (list, toggle, stop all) and positions.

Toggles and the kill switch go through the engine client, exactly as the
dashboard's keys do, and need the bearer token. Strategy states are the newest
``StrategyStatus`` each strategy published; positions are the
undelivered ones each strategy's status lists, with their delivery periods.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from gridtui.client.protocol import DASHBOARD_AGENT, NotAvailable, Origin
from gridtui.daemon.keys import ENGINE
from gridtui.daemon.openapi import Param, RouteSpec
from gridtui.daemon.schemas import (
    Position,
    Positions,
    StopAllResult,
    Strategies,
    Toggle,
    ToggleResult,
)
from gridtui.daemon.validation import ApiError, json_response, read_body


async def strategies(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    engine.require("strategies")
    found = [engine.live.strategies[name] for name in sorted(engine.live.strategies)]
    return json_response(Strategies(strategies=found, count=len(found)))


def api_origin(request: web.Request, what: str) -> Origin:
    """``api:<address>`` and what the request did, for the audit log.

    The address is the socket's peer: ``X-Forwarded-For`` is not trusted (any
    client can send it), so behind a proxy the proxy's address is recorded.
    """
    address = request.remote or "unknown"
    agent = request.headers.get("User-Agent", "")
    via = " (the gridtui dashboard attached with --connect)" if agent == DASHBOARD_AGENT else ""
    return Origin(actor=f"api:{address}", detail=f"{what} from {address}{via}")


async def toggle(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    name = request.match_info["name"]
    body = await read_body(request, Toggle)
    verb = "start" if body.on else "stop"
    origin = api_origin(request, f"{verb} via {request.method} {request.path}")
    try:
        await engine.client.toggle_strategy(name, body.on, origin=origin)
    except NotAvailable as exc:
        raise ApiError(503, str(exc)) from None
    except KeyError:
        known = ", ".join(sorted(engine.live.strategies)) or "none seen yet"
        raise ApiError(404, f"no strategy {name!r}; known: {known}") from None
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None
    return json_response(ToggleResult(strategy=name, on=body.on, accepted=True))


async def stop_all(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    origin = api_origin(request, f"kill switch via {request.method} {request.path}")
    try:
        await engine.client.stop_all_strategies(origin=origin)
    except NotAvailable as exc:
        raise ApiError(503, str(exc)) from None
    return json_response(StopAllResult(accepted=True))


async def positions(request: web.Request) -> web.Response:
    """Open positions: energy held per strategy, market and delivery period, not yet delivered.

    Read from each strategy's newest status line: a position leaves it when its
    period is delivered and settled, so nothing here is in the past.
    """
    engine = request.app[ENGINE]
    engine.require("strategies")
    rows = [
        Position(
            strategy=status.strategy,
            market=held.market,
            product=held.product,
            delivery_start=held.delivery_start,
            delivery_end=held.delivery_start + timedelta(minutes=held.delivery_minutes),
            net_mwh=held.net_mwh,
            average_price_eur_mwh=held.average_price_eur_mwh,
            book=held.book,
        )
        for name, status in sorted(engine.live.strategies.items())
        for held in status.positions
    ]
    realised = {name: round(s.pnl_eur, 2) for name, s in sorted(engine.live.strategies.items())}
    return json_response(Positions(positions=rows, count=len(rows), strategy_pnl_eur=realised))


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/trading/strategies",
            strategies,
            "Every strategy's state, PnL and trade count",
            "trading",
            response=Strategies,
            errors=(503,),
        ),
        RouteSpec(
            "POST",
            "/api/v1/trading/strategies/{name}/toggle",
            toggle,
            "Start (`on: true`) or stop a strategy",
            "trading",
            params=(Param("name", "path", {"type": "string"}, "strategy name"),),
            body=Toggle,
            response=ToggleResult,
            errors=(404, 503),
        ),
        RouteSpec(
            "POST",
            "/api/v1/trading/stop-all",
            stop_all,
            "Kill switch: stop every strategy now",
            "trading",
            response=StopAllResult,
            errors=(503,),
        ),
        RouteSpec(
            "GET",
            "/api/v1/trading/positions",
            positions,
            "Open positions per strategy, market and delivery period (delivered ones settle)",
            "trading",
            response=Positions,
            errors=(503,),
        ),
    ]
