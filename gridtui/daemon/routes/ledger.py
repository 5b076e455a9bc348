"""``GET /api/v1/ledger``: the "% of perfect foresight" ledger of the running engine.

One row per battery and strategy and window (today, week, month, run;
:mod:`engine.capture.rows` has the fields and the identity they keep), as the
engine's :class:`~engine.capture.component.CaptureComponent` computes it. The same
snapshot goes to WebSocket clients as ``ledger_update`` whenever a battery
delivers or a strategy settles.
"""

from __future__ import annotations

from aiohttp import web

from engine.capture.rows import WINDOWS, LedgerSnapshot
from gridtui.daemon.keys import ENGINE
from gridtui.daemon.openapi import Param, RouteSpec
from gridtui.daemon.validation import ApiError, json_response
from gridtui.ledger_wiring import find_capture

NO_LEDGER = "the ledger arrives with the engine's capture component (engine/capture/)"


async def ledger(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    found = find_capture(engine.runtime.kernel.components)
    if found is None:
        raise ApiError(503, NO_LEDGER)
    window = request.query.get("window")
    if window is not None and window not in WINDOWS:
        raise ApiError(
            400, f"query parameter 'window' is {window!r}; accepted: {', '.join(WINDOWS)}"
        )
    owner = request.query.get("owner")
    rows = [
        row
        for row in found.snapshot().rows
        if (window is None or row.window == window) and (owner is None or row.owner == owner)
    ]
    return json_response(LedgerSnapshot(rows=rows, count=len(rows), as_of=found.snapshot().as_of))


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/ledger",
            ledger,
            "Per battery and strategy: realized net revenue beside the perfect-foresight "
            "optimum, the share captured, forecast error and execution",
            "dashboard",
            params=(
                Param(
                    "window",
                    "query",
                    {"type": "string", "enum": list(WINDOWS)},
                    "only this window (default: every window)",
                ),
                Param("owner", "query", {"type": "string"}, "only this battery id or strategy"),
            ),
            response=LedgerSnapshot,
            errors=(400, 503),
            description=(
                "optimum − realized = forecast_error + execution; forecast_error = "
                "committed_on_prices − committed_on_forecast. realized and "
                "committed_on_forecast were decided at the day-ahead gate closure, optimum and "
                "committed_on_prices knew every realized price of the window. Strategies "
                "without a perfect-foresight model have optimum null and a note."
            ),
        )
    ]
