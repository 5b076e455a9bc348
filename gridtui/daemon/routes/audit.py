"""``GET /api/v1/audit``: the audit log — who started, stopped or killed what, and every trade.

Read from the store, newest first, filtered by actor, action and time range and
paged with ``limit`` / ``offset``. It needs the bearer token although it is a
GET: it shows who did what from which address, which is not for anyone who can
reach the port (the other reads show market data only).
"""

from __future__ import annotations

import re
from typing import Final

import msgspec
from aiohttp import web

from engine.events import AuditEntry
from gridtui.daemon.keys import ENGINE
from gridtui.daemon.openapi import Param, RouteSpec, limit_param
from gridtui.daemon.validation import (
    ApiError,
    json_response,
    query_choice,
    query_int,
    query_time,
)

ACTIONS: Final = ("start", "stop", "kill", "trade", "reject", "error")
# An actor kind (``api``, ``dashboard``, ``system``) or a full actor (``api:10.0.0.7``).
_ACTOR: Final = re.compile(r"^[A-Za-z0-9_.-]{1,32}(:[A-Za-z0-9_.:%\[\]-]{1,96})?$")
MAX_OFFSET: Final = 1_000_000


class AuditPage(msgspec.Struct, kw_only=True):
    """One page of the audit log, newest first; ``next_offset`` is None on the last page."""

    entries: list[AuditEntry]
    count: int
    offset: int
    next_offset: int | None


def _actor(request: web.Request) -> str | None:
    raw = request.query.get("actor")
    if raw is None or raw == "":
        return None
    if not _ACTOR.match(raw):
        raise ApiError(
            400,
            f"query parameter 'actor' = {raw[:60]!r} is not valid: an actor kind such as "
            "dashboard, api, cli, system, strategy, or a full actor such as api:127.0.0.1",
        )
    return raw


async def audit(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    max_page = engine.settings.api.max_page_size
    actor = _actor(request)
    action = query_choice(request, "action", ACTIONS, None)
    start, end = query_time(request, "from"), query_time(request, "to")
    if start is not None and end is not None and start >= end:
        raise ApiError(400, "query parameter 'from' must be before 'to'")
    limit = query_int(request, "limit", default=100, minimum=1, maximum=max_page)
    offset = query_int(request, "offset", default=0, minimum=0, maximum=MAX_OFFSET)
    # One more than asked for says whether there is a next page (a StoreError is a 503).
    found = await engine.runtime.store.audit_log(
        actor=actor, action=action, start=start, end=end, limit=limit + 1, offset=offset
    )
    entries = found[:limit]
    more = len(found) > limit
    return json_response(
        AuditPage(
            entries=entries,
            count=len(entries),
            offset=offset,
            next_offset=offset + limit if more else None,
        )
    )


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/audit",
            audit,
            "The audit log, newest first: who toggled what, from where, and every trade",
            "trading",
            params=(
                Param(
                    "actor",
                    "query",
                    {"type": "string", "maxLength": 129},
                    "an actor kind (dashboard, api, cli, system, strategy, backtest: matches "
                    "every address) or a full actor (api:127.0.0.1)",
                ),
                Param("action", "query", {"type": "string", "enum": list(ACTIONS)}, "the action"),
                Param(
                    "from",
                    "query",
                    {"type": "string", "format": "date-time"},
                    "entries at or after this ISO 8601 time",
                ),
                Param(
                    "to",
                    "query",
                    {"type": "string", "format": "date-time"},
                    "entries before this ISO 8601 time",
                ),
                limit_param(100, max_page_size),
                Param(
                    "offset",
                    "query",
                    {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                    "skip this many entries (the previous page's next_offset)",
                ),
            ),
            response=AuditPage,
            errors=(503,),
            token=True,
        ),
    ]
