"""``GET /api/v1/cockpit``: the gate-closure cockpit of the running engine.

Per market, the auctions still open soonest first (gate closure, seconds to it,
and for each running strategy that bids there how many orders it has in), and
the day-ahead auction whose gate closed last with its publication status
(``awaiting``, ``published``, ``late``; ``untracked`` on a replay of history),
all at the engine's clock — simulated on a simulated engine. The engine's
:class:`~engine.cockpit.component.CockpitComponent` computes it; its
``gate_missed`` and ``publication_late`` alerts come as every alert does.
"""

from __future__ import annotations

from aiohttp import web

from engine.cockpit.rows import CockpitSnapshot
from gridtui.cockpit_wiring import find_cockpit
from gridtui.daemon.keys import ENGINE
from gridtui.daemon.openapi import Param, RouteSpec
from gridtui.daemon.validation import ApiError, json_response

NO_COCKPIT = "the cockpit arrives with the engine's cockpit component (engine/cockpit/)"


async def cockpit(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    runtime = engine.runtime
    found = find_cockpit(runtime.kernel.components)
    if found is None:
        raise ApiError(503, NO_COCKPIT)
    snapshot = found.snapshot(runtime.clock.now())
    market = request.query.get("market")
    if market is not None:
        known = [m.market for m in snapshot.markets]
        if market not in known:
            raise ApiError(
                400, f"query parameter 'market' is {market!r}; accepted: {', '.join(known)}"
            )
        snapshot = CockpitSnapshot(
            markets=tuple(m for m in snapshot.markets if m.market == market),
            as_of=snapshot.as_of,
            late_grace_minutes=snapshot.late_grace_minutes,
        )
    return json_response(snapshot)


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/cockpit",
            cockpit,
            "Per market: the next gate closures with countdowns, whose orders are in, "
            "and the last day-ahead publication's status",
            "dashboard",
            params=(Param("market", "query", {"type": "string"}, "only this market (DE, FR …)"),),
            response=CockpitSnapshot,
            errors=(400, 503),
            description=(
                "seconds_to_gate counts from as_of, the engine's clock. A strategy listed under "
                "a gate is running, trades the market and bids into that auction; orders is how "
                "many of its orders wait there. publication.status turns late at late_at "
                "(publication + late_grace_minutes): SDAC partial decoupling shows so."
            ),
        )
    ]
