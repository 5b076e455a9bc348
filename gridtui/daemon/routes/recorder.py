"""``/api/v1/recorder``: the flight recorder — the engine's state at any recorded instant.

A dashboard attached to this daemon rewinds through these (``gridtui --connect``,
then the rewind key): ``span`` says where it can go, ``state`` is everything
the panes showed at an instant (as the engine's own tagged events, built by
:func:`engine.store.recording.state_at`), and ``events`` pages back through one
kind of recorded event for a pane that wants more than the state holds.
Market data and the strategies' results only, like the other reads: no token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import msgspec
from aiohttp import web

from engine.events import Alert, BatteryState, Event, Forecast, SpreadOpportunity, StrategyStatus
from engine.market.timeline import MarketTimeline
from engine.store.recording import RecordedPage, RecordedState, recording_span, state_at
from gridtui.daemon.keys import API_SETTINGS, ENGINE
from gridtui.daemon.openapi import Param, RouteSpec, limit_param
from gridtui.daemon.validation import ApiError, json_response, query_choice, query_int, query_time

# The kinds ``events`` pages through, and the column a ``key`` matches in each.
PAGED: Final[dict[str, tuple[type[Event], str]]] = {
    "alert": (Alert, "rule"),
    "battery_state": (BatteryState, "battery_id"),
    "strategy_status": (StrategyStatus, "strategy"),
    "forecast": (Forecast, "market"),
    "opportunity": (SpreadOpportunity, "buy_market"),
}
_TIME_DOC: Final = "ISO 8601 time, e.g. 2026-01-05T14:30:00Z (UTC when no offset)"


class Span(msgspec.Struct, frozen=True, kw_only=True):
    """Where a rewind can go: the first and last recorded tick (both null: nothing recorded)."""

    first: str | None
    last: str | None


async def span(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    found = await recording_span(engine.runtime.store, engine.settings.markets)
    if found is None:
        return json_response(Span(first=None, last=None))
    return json_response(Span(first=found.first.isoformat(), last=found.last.isoformat()))


async def state(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    at = query_time(request, "at")
    if at is None:
        raise ApiError(400, "query parameter 'at' is required: " + _TIME_DOC)
    events = await state_at(
        engine.runtime.store,
        at,
        engine.settings.markets,
        chart_hours=engine.settings.ui.chart_hours,
        timeline=MarketTimeline(engine.settings.market),
    )
    return json_response(RecordedState(at=at, events=events, count=len(events)))  # type: ignore[arg-type]


async def events(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    kind_name = query_choice(request, "kind", tuple(PAGED), None)
    if kind_name is None:
        raise ApiError(400, f"query parameter 'kind' is required: one of {', '.join(PAGED)}")
    kind, column = PAGED[kind_name]
    until = query_time(request, "until") or engine.now()
    since = query_time(request, "since")
    limit = query_int(
        request, "limit", default=200, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    key = request.query.get("key")
    found = await engine.runtime.store.recorded(
        kind, until=until, since=since, limit=limit, match={column: key} if key else None
    )
    # A full page continues just before its oldest event.
    more = found[-1].ts - timedelta(microseconds=1) if len(found) == limit else None
    page = RecordedPage(kind=kind_name, events=found, count=len(found), next_until=more)  # type: ignore[arg-type]
    return json_response(page)


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/recorder/span",
            span,
            "The first and last recorded instants: where a rewind can go",
            "recorder",
            response=Span,
        ),
        RouteSpec(
            "GET",
            "/api/v1/recorder/state",
            state,
            "Everything the dashboard showed at an instant, as engine events, oldest first",
            "recorder",
            params=(
                Param("at", "query", {"type": "string", "format": "date-time"}, _TIME_DOC, True),
            ),
            response=RecordedState,
            errors=(400,),
            description=(
                "Per market the chart window's intraday ticks and the day-ahead prices "
                "published by then; each open opportunity; each battery's and strategy's "
                "newest state; the newest alerts and forecasts — all stamped at or before `at`."
            ),
        ),
        RouteSpec(
            "GET",
            "/api/v1/recorder/events",
            events,
            "One kind of recorded event, newest first, paged back with next_until",
            "recorder",
            params=(
                Param(
                    "kind",
                    "query",
                    {"type": "string", "enum": list(PAGED)},
                    "what to page through",
                    True,
                ),
                Param(
                    "key",
                    "query",
                    {"type": "string"},
                    "only this rule / battery id / strategy / market / buying market",
                ),
                Param("until", "query", {"type": "string", "format": "date-time"}, _TIME_DOC),
                Param("since", "query", {"type": "string", "format": "date-time"}, _TIME_DOC),
                limit_param(200, max_page_size),
            ),
            response=RecordedPage,
            errors=(400,),
        ),
    ]
