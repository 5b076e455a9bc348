"""InTheGrid's endpoints, same paths and shapes: health, latest prices, spreads, history.

``/health`` answers 200 while the daemon does its job — ``healthy``, or
``degraded`` when the store or the bus is down (events are buffered, nothing is
lost) or the feed is not ``up`` (its state and reason are the kernel's one feed
state machine, the same the dashboard and the feed alerts show) — and 503
``unhealthy`` once the kernel has stopped, which is when a supervisor should
restart it.
"""

from __future__ import annotations

from importlib import metadata
from typing import Literal

from aiohttp import web

from engine.events import PriceKind, PriceTick
from gridtui.daemon.keys import API_SETTINGS, ENGINE, HUB
from gridtui.daemon.openapi import Param, RouteSpec, limit_param
from gridtui.daemon.schemas import (
    BusStatus,
    FeedStatus,
    Health,
    HistoryRow,
    HistoryStats,
    LatestPrices,
    NodeStatus,
    Opportunities,
    OpportunityRow,
    PriceHistory,
    PriceRow,
    StoreStatus,
)
from gridtui.daemon.state import DaemonEngine
from gridtui.daemon.validation import (
    json_response,
    market_of,
    query_enum,
    query_float,
    query_int,
)


def version() -> str:
    try:
        return metadata.version("gridtui")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


KIND_PARAM = Param(
    "kind",
    "query",
    {"type": "string", "enum": [k.value for k in PriceKind]},
    "price kind (default: intraday)",
)


def feed_status(engine: DaemonEngine) -> FeedStatus:
    remote = engine.bus_feed_health()
    if remote is not None:  # a node without a feed of its own: the ingest node's word
        return FeedStatus(
            source=remote.source,
            state=remote.state,
            reason=remote.message,
            since=remote.since,
            events_total=remote.events_total,
            events_per_s=0.0,
            rejected_total=remote.rejected_total,
            last_batch_at=remote.last_success,
        )
    runtime = engine.runtime
    stats = runtime.kernel.stats
    state = engine.feed_state()
    machine = runtime.kernel.feed_health
    return FeedStatus(
        source=runtime.kernel.feed.name,
        state=state,
        reason=machine.reason,
        since=machine.since,
        events_total=stats.events_in,
        events_per_s=round(runtime.kernel.events_per_s(), 1) if stats.started_monotonic else 0.0,
        rejected_total=runtime.validator.rejected_total,
        last_batch_at=stats.last_batch_at,
    )


def store_status(engine: DaemonEngine) -> StoreStatus:
    writer = engine.runtime.writer
    return StoreStatus(
        backend=engine.runtime.store.backend,
        up=writer.stats.store_up,
        pending=writer.pending,
        written=writer.stats.written,
        spilled=writer.stats.spilled,
        last_error="" if writer.stats.store_up else writer.stats.last_error,
    )


def node_status(engine: DaemonEngine) -> NodeStatus:
    node = engine.node
    if node is None:  # role "all": one node, always the active one
        return NodeStatus(role="all", node_id="", state="active")
    return NodeStatus(
        role=node.role,
        node_id=node.node_id,
        state=node.state,
        active_node=node.active_node,
        active_since=node.active_since,
        takeovers=node.takeovers,
        active_nodes=dict(node.active_nodes),
    )


async def health(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    feed, store = feed_status(engine), store_status(engine)
    bus = BusStatus(
        backend=engine.runtime.bus.backend,
        up=engine.bus_up,
        errors=engine.runtime.kernel.stats.bus_errors,
    )
    status: Literal["healthy", "degraded", "unhealthy"]
    if feed.state == "stopped":
        status = "unhealthy"
    elif not store.up or not bus.up or feed.state != "up":
        status = "degraded"
    else:
        status = "healthy"
    body = Health(
        status=status,
        service="gridtui daemon",
        version=version(),
        timestamp=engine.now(),
        uptime_s=round(engine.uptime_s(), 3),
        feed=feed,
        store=store,
        bus=bus,
        components=engine.component_names(),
        websocket_clients=len(request.app[HUB].clients),
        node=node_status(engine),
    )
    return json_response(body, status=503 if status == "unhealthy" else 200)


async def latest_ticks(engine: DaemonEngine, kind: PriceKind) -> dict[str, PriceTick]:
    """The newest tick per market: from the live view when it has every market (no
    database round trip per request), else from the store (a daemon that just started)."""
    live = engine.live.latest_prices(kind)
    if all(market in live for market in engine.settings.markets):
        return live
    return await engine.runtime.store.latest_prices(engine.settings.markets, kind)


async def latest_prices(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    kind = query_enum(request, "kind", PriceKind, PriceKind.INTRADAY)
    assert kind is not None
    latest = await latest_ticks(engine, kind)
    rows = [
        PriceRow(market=m, price=t.price_eur_mwh, timestamp=t.ts, kind=t.kind.value)
        for m, t in sorted(latest.items())
    ]
    return json_response(LatestPrices(markets=rows, count=len(rows), retrieved_at=engine.now()))


async def spread_opportunities(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    limit = query_int(
        request, "limit", default=10, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    min_net = query_float(request, "min_net", default=None)
    found = engine.open_opportunities()
    if min_net is not None:
        found = [o for o in found if o.net_spread_eur_mwh >= min_net]
    rows = [
        OpportunityRow(
            market_pair=f"{o.buy_market}-{o.sell_market}",
            timestamp=o.ts,
            spread=o.spread_eur_mwh,
            net_opportunity=o.net_spread_eur_mwh,
            transmission_cost=o.transmission_cost_eur_mwh,
            low_market=o.buy_market,
            high_market=o.sell_market,
            low_price=o.buy_price_eur_mwh,
            high_price=o.sell_price_eur_mwh,
            strategy=o.describe(),
            opened_at=o.opened_at,
            duration_s=o.duration_s,
            capacity_mw=o.capacity_mw,
            profit_eur_h=o.profit_eur_h,
        )
        for o in found[:limit]
    ]
    return json_response(
        Opportunities(opportunities=rows, count=len(rows), retrieved_at=engine.now())
    )


async def price_history(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    market = market_of(request, engine.settings.markets, source="path")
    limit = query_int(
        request, "limit", default=100, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    kind = query_enum(request, "kind", PriceKind, PriceKind.INTRADAY)
    ticks = await engine.runtime.store.price_history(market, limit=limit, kind=kind)
    ticks.reverse()  # InTheGrid: newest first
    history = [HistoryRow(market=t.market, price=t.price_eur_mwh, timestamp=t.ts) for t in ticks]
    prices = [row.price for row in history]
    stats = (
        HistoryStats(
            latest=prices[0],
            average=sum(prices) / len(prices),
            min=min(prices),
            max=max(prices),
            samples=len(prices),
        )
        if prices
        else None
    )
    return json_response(
        PriceHistory(market=market, history=history, stats=stats, retrieved_at=engine.now())
    )


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/health",
            health,
            "Liveness and readiness: feed, store, bus",
            "health",
            response=Health,
            extra_responses={503: "The kernel has stopped: restart the daemon."},
            description=__doc__ or "",
        ),
        RouteSpec(
            "GET",
            "/api/prices/latest",
            latest_prices,
            "Latest price per market (InTheGrid)",
            "prices",
            params=(KIND_PARAM,),
            response=LatestPrices,
            errors=(503,),
        ),
        RouteSpec(
            "GET",
            "/api/spreads/opportunities",
            spread_opportunities,
            "Open cross-border opportunities, best net spread first (InTheGrid)",
            "spreads",
            params=(
                limit_param(10, max_page_size),
                Param("min_net", "query", {"type": "number"}, "only at least this net EUR/MWh"),
            ),
            response=Opportunities,
        ),
        RouteSpec(
            "GET",
            "/api/prices/history/{market}",
            price_history,
            "Price history of one market, newest first, with statistics (InTheGrid)",
            "prices",
            params=(
                Param("market", "path", {"type": "string"}, "market code, e.g. DE"),
                limit_param(100, max_page_size),
                KIND_PARAM,
            ),
            response=PriceHistory,
            errors=(404, 503),
        ),
    ]
