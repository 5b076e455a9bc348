"""``/api/v1/trading``: strategies (list, toggle, stop all) and positions.

Toggles and the kill switch go through the engine client, exactly as the
dashboard's keys do, and need the bearer token. Strategy states are the newest
``StrategyStatus`` each strategy published; positions are summed from the
stored live trades.
"""

from __future__ import annotations

from aiohttp import web

from gridtui.client import NotAvailable
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

TRADES_CONSIDERED = 100_000


async def strategies(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    engine.require("strategies")
    found = [engine.live.strategies[name] for name in sorted(engine.live.strategies)]
    return json_response(Strategies(strategies=found, count=len(found)))


async def toggle(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    name = request.match_info["name"]
    body = await read_body(request, Toggle)
    try:
        await engine.client.toggle_strategy(name, body.on)
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
    try:
        await engine.client.stop_all_strategies()
    except NotAvailable as exc:
        raise ApiError(503, str(exc)) from None
    return json_response(StopAllResult(accepted=True))


async def positions(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    trades = await engine.runtime.store.trades(limit=TRADES_CONSIDERED)
    if not trades:
        engine.require("strategies")
    books: dict[tuple[str, str], dict[str, float]] = {}
    for trade in trades:
        book = books.setdefault(
            (trade.strategy, trade.market),
            {"net": 0.0, "volume": 0.0, "notional": 0.0, "pnl": 0.0, "fees": 0.0, "n": 0},
        )
        signed = trade.volume_mwh if trade.side == "buy" else -trade.volume_mwh
        book["net"] += signed
        book["volume"] += trade.volume_mwh
        book["notional"] += trade.volume_mwh * trade.price_eur_mwh
        book["pnl"] += trade.pnl_eur
        book["fees"] += trade.fee_eur
        book["n"] += 1
    rows = [
        Position(
            strategy=strategy,
            market=market,
            net_mwh=round(book["net"], 6),
            average_price_eur_mwh=round(book["notional"] / book["volume"], 4)
            if book["volume"]
            else None,
            realised_pnl_eur=round(book["pnl"], 2),
            fees_eur=round(book["fees"], 2),
            trades=int(book["n"]),
        )
        for (strategy, market), book in sorted(books.items())
    ]
    return json_response(Positions(positions=rows, trades_considered=len(trades)))


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
            "Net position, average price and realised PnL per strategy and market",
            "trading",
            response=Positions,
            errors=(503,),
        ),
    ]
