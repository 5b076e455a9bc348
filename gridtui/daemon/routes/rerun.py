"""``POST /api/v1/rerun``: re-run strategies over the recording from an instant, beside live.

The body names the instant (``since``), optionally the end (``until``, default
the end of the recording), the strategies and per-run setting overrides; the
answer is the :class:`~engine.backtest.rerun.RerunComparison` (per strategy,
live and re-run trades and PnL, the difference, the trades only one side
made). It runs a backtest on the daemon, so it needs the bearer token like any
POST, counts against ``api.max_running_backtests`` (429 beyond), and the run
is kept with the other backtests (``rr-…``). The engine
client does the work (:meth:`~gridtui.client.protocol.EngineClient.rerun`); a
bad request answers 422 naming the field and what is accepted.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from aiohttp import web

from engine.backtest.rerun import RerunComparison
from engine.store.base import StoreError
from gridtui.client.protocol import NotAvailable, RerunRequest
from gridtui.daemon.keys import API_SETTINGS, BACKTESTS, ENGINE
from gridtui.daemon.openapi import RouteSpec
from gridtui.daemon.validation import ApiError, json_response, read_body


class RerunStart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Strategies re-run over the recording from ``since`` (to ``until``, default its end)."""

    since: datetime
    strategies: list[str]
    until: datetime | None = None
    settings: dict[str, str] = msgspec.field(default_factory=dict)


async def rerun(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    body = await read_body(request, RerunStart)
    for name, value in (("since", body.since), ("until", body.until)):
        if value is not None and value.tzinfo is None:
            raise ApiError(422, f"'{name}' {value.isoformat()} needs a time zone (Z or an offset)")
    names = [name.strip() for name in body.strategies]
    if not names or not all(names):
        raise ApiError(422, "'strategies' must name at least one strategy")
    # A re-run is a backtest: it shares their cap.
    running = request.app[BACKTESTS].running(engine)
    cap = request.app[API_SETTINGS].max_running_backtests
    if running >= cap:
        raise ApiError(
            429,
            f"{running} backtests are running (api.max_running_backtests = {cap}); "
            "try again when one has finished",
            extra={"running": running},
        )
    try:
        comparison = await engine.client.rerun(
            RerunRequest(
                since=body.since,
                until=body.until,
                strategies=tuple(names),
                settings=dict(body.settings),
            )
        )
    except NotAvailable as exc:
        raise ApiError(503, str(exc)) from None
    except StoreError as exc:
        raise ApiError(503, f"the store failed: {exc}") from None
    except ValueError as exc:
        raise ApiError(422, f"cannot re-run: {exc}") from None
    return json_response(comparison)


def routes(max_page_size: int) -> list[RouteSpec]:
    del max_page_size  # one answer, not a page
    return [
        RouteSpec(
            "POST",
            "/api/v1/rerun",
            rerun,
            "Re-run strategies over the recording from an instant; live beside re-run",
            "recorder",
            body=RerunStart,
            response=RerunComparison,
            errors=(422, 429, 503),
            description=(
                "A backtest whose prices are the stored intraday and day-ahead ticks from "
                "`since` (day-ahead only from its publication), the strategies starting flat; "
                "the answer sets its trades and PnL beside what the strategies did live over "
                "the same span, with the difference and the trades only one side made."
            ),
        ),
    ]
