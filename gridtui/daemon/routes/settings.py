"""``/api/v1/settings`` (get, update), and what remote dashboards need of the engine.

* ``GET /api/v1/settings`` — the merged settings, secrets shown as ``***``;
* ``PATCH /api/v1/settings`` — change the alert thresholds of the running
  engine (``{"alerts": {"spike_sigma": 5}}``). Everything else (feed, store,
  bus, markets …) takes a restart, and a body naming it is refused with 422;
* ``GET /api/v1/engine/info`` and ``/stats`` — what the dashboard's status bar
  shows (:class:`~gridtui.client.protocol.ClientInfo`,
  :class:`~gridtui.client.protocol.ClientStats`);
* ``GET /api/v1/alerts`` — the newest stored alerts.
"""

from __future__ import annotations

import logging

import msgspec
from aiohttp import web

from gridtui.client.protocol import ClientStats
from gridtui.daemon.keys import API_SETTINGS, ENGINE
from gridtui.daemon.openapi import RouteSpec, limit_param
from gridtui.daemon.routes.public import version
from gridtui.daemon.schemas import (
    Alerts,
    EngineInfo,
    SettingsPatch,
    SettingsView,
    TransmissionCost,
)
from gridtui.daemon.state import DaemonEngine
from gridtui.daemon.validation import ApiError, json_response, query_int, read_body
from gridtui.settings.loader import to_toml_dict

log = logging.getLogger(__name__)
MUTABLE = ["alerts.<any rule threshold: cooldown_s, spike_sigma, …>"]


def _view(engine: DaemonEngine) -> SettingsView:
    return SettingsView(settings=to_toml_dict(engine.settings), mutable=MUTABLE)


async def get_settings(request: web.Request) -> web.Response:
    return json_response(_view(request.app[ENGINE]))


async def update_settings(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    patch = await read_body(request, SettingsPatch)
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(patch.alerts).items()
        if value is not None
    }
    if not changes:
        raise ApiError(422, "nothing to change: name at least one alerts.* field")
    alerts = engine.alerts
    if alerts is None:
        raise ApiError(503, "this engine runs no alert rules")
    try:
        rules = msgspec.structs.replace(alerts.config, **changes)
        settings_alerts = msgspec.structs.replace(engine.settings.alerts, **changes)
    except (ValueError, TypeError) as exc:
        raise ApiError(422, f"invalid alert settings: {exc}") from None
    alerts.reconfigure(rules)
    engine.settings = msgspec.structs.replace(engine.settings, alerts=settings_alerts)
    log.info("alert settings changed over the API: %s", ", ".join(sorted(changes)))
    return json_response(_view(engine))


async def engine_info(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    info = engine.client.info
    costs = [
        TransmissionCost(from_market=a, to_market=b, cost_eur_mwh=cost)
        for (a, b), cost in sorted(engine.client.transmission_costs().items())
    ]
    return json_response(
        EngineInfo(
            feed=info.feed,
            store=info.store,
            bus=info.bus,
            clock=info.clock,
            markets=list(info.markets),
            transmission_costs=costs,
            components=engine.component_names(),
            version=version(),
            forecasters=list(info.forecasters),
            regions=dict(info.regions),
            # Only a split deployment names its node: one "all" daemon is the whole engine.
            node=engine.node.describe()
            if engine.node is not None and engine.node.role != "all"
            else "",
        )
    )


async def engine_stats(request: web.Request) -> web.Response:
    runtime = request.app[ENGINE].runtime
    kernel, writer = runtime.kernel, runtime.writer
    started = kernel.stats.started_monotonic > 0
    return json_response(
        ClientStats(
            events_in=kernel.stats.events_in,
            events_per_s=kernel.events_per_s() if started else 0.0,
            rejected=runtime.validator.rejected_total,
            stored=writer.stats.written,
            pending=writer.pending,
            store_up=writer.stats.store_up,
            dropped_for_viewer=0,
        )
    )


async def alerts(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    limit = query_int(
        request, "limit", default=100, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    found = await engine.runtime.store.alerts(limit)
    return json_response(Alerts(alerts=found, count=len(found)))


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/settings",
            get_settings,
            "The merged settings (secrets as ***) and what may change at run time",
            "settings",
            response=SettingsView,
        ),
        RouteSpec(
            "PATCH",
            "/api/v1/settings",
            update_settings,
            "Change alert thresholds of the running engine",
            "settings",
            body=SettingsPatch,
            response=SettingsView,
            errors=(503,),
        ),
        RouteSpec(
            "GET",
            "/api/v1/engine/info",
            engine_info,
            "Feed, store, bus, clock, markets and border costs (for remote dashboards)",
            "engine",
            response=EngineInfo,
        ),
        RouteSpec(
            "GET",
            "/api/v1/engine/stats",
            engine_stats,
            "Ingest and storage counters (for remote dashboards)",
            "engine",
            response=ClientStats,
        ),
        RouteSpec(
            "GET",
            "/api/v1/alerts",
            alerts,
            "The newest stored alerts, newest first",
            "alerts",
            params=(limit_param(100, max_page_size),),
            response=Alerts,
            errors=(503,),
        ),
    ]
