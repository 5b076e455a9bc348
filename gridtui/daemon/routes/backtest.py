"""``/api/v1/backtest``: start, status, results, trades, history, delete.

Starting goes through the engine client (``start_backtest``): while the engine
has no backtester it answers 503 with what brings one. Everything else reads
the store (runs, metrics, equity curves, per-run trades) and the live progress
events, so finished runs are served whoever ran them.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from engine.store.base import BacktestRecord
from gridtui.client.protocol import BacktestRequest, NotAvailable
from gridtui.daemon.keys import API_SETTINGS, BACKTESTS, ENGINE
from gridtui.daemon.openapi import Param, RouteSpec, limit_param
from gridtui.daemon.schemas import (
    BacktestHistory,
    BacktestResult,
    BacktestRun,
    BacktestStart,
    BacktestStarted,
    BacktestStatus,
    BacktestTrades,
)
from gridtui.daemon.state import DaemonEngine
from gridtui.daemon.validation import (
    ApiError,
    check_day,
    json_response,
    path_id,
    query_int,
    read_body,
)

MAX_DAYS = 3 * 366
RUN_ID = Param(
    "run_id", "path", {"type": "string", "maxLength": 128}, "backtest run id (bt-YYYYMMDD-…)"
)


def _run_id(request: web.Request) -> str:
    return path_id(request, "run_id")


async def _record(engine: DaemonEngine, run_id: str) -> BacktestRecord:
    record = await engine.runtime.store.backtest(run_id)
    if record is None:
        raise ApiError(404, f"no backtest run {run_id!r}")
    return record


async def start(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    body = await read_body(request, BacktestStart)
    # Refused up front: a run in year 1 or 9999 overflows deep in the backtest.
    check_day("start", body.start)
    check_day("end", body.end)
    if body.end < body.start:
        raise ApiError(422, "'end' must not be before 'start' (both are delivery days, included)")
    if body.end - body.start > timedelta(days=MAX_DAYS):
        raise ApiError(422, f"a backtest spans at most {MAX_DAYS} days")
    names = [name.strip() for name in body.strategies]
    if not names or not all(names):
        raise ApiError(422, "'strategies' must name at least one strategy")
    slots = request.app[BACKTESTS]
    cap = request.app[API_SETTINGS].max_running_backtests
    running = slots.running(engine)
    if running >= cap:
        raise ApiError(
            429,
            f"{running} backtests are running (api.max_running_backtests = {cap}); "
            "try again when one has finished",
            extra={"running": running},
        )
    try:
        run_id = await engine.client.start_backtest(
            BacktestRequest(start=body.start, end=body.end, strategies=tuple(names), data=body.data)
        )
    except NotAvailable as exc:
        raise ApiError(503, str(exc)) from None
    except (ValueError, KeyError) as exc:
        raise ApiError(422, f"cannot start this backtest: {exc}") from None
    slots.started(run_id)
    return json_response(
        BacktestStarted(run_id=run_id, status_url=f"/api/v1/backtest/status/{run_id}"), status=202
    )


async def status(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    run_id = _run_id(request)
    progress = engine.live.backtests.get(run_id)
    if progress is not None:
        body = BacktestStatus(
            run_id=run_id,
            state=progress.state,
            percent=progress.percent,
            events_done=progress.events_done,
            events_total=progress.events_total,
            eta_s=progress.eta_s,
        )
    else:
        record = await _record(engine, run_id)
        done = record.state != "running"
        body = BacktestStatus(
            run_id=run_id,
            state=record.state,
            percent=100.0 if done else 0.0,
            events_done=0,
            events_total=0,
        )
    return json_response(body)


async def results(request: web.Request) -> web.Response:
    record = await _record(request.app[ENGINE], _run_id(request))
    return json_response(
        BacktestResult(
            run_id=record.run_id,
            created_at=record.created_at,
            state=record.state,
            config=record.config,
            metrics=record.metrics,
            equity_curve=record.equity_curve,
        )
    )


async def trades(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    run_id = _run_id(request)
    limit = query_int(
        request, "limit", default=1000, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    await _record(engine, run_id)
    strategy = request.query.get("strategy") or None
    found = await engine.runtime.store.backtest_trades(run_id, strategy=strategy, limit=limit)
    return json_response(BacktestTrades(run_id=run_id, trades=found, count=len(found)))


async def history(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    limit = query_int(
        request, "limit", default=100, minimum=1, maximum=request.app[API_SETTINGS].max_page_size
    )
    runs = [
        BacktestRun(run_id=r.run_id, created_at=r.created_at, state=r.state, metrics=r.metrics)
        for r in await engine.runtime.store.backtests(limit)
    ]
    return json_response(BacktestHistory(runs=runs, count=len(runs)))


async def delete(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    run_id = _run_id(request)
    if not await engine.runtime.store.delete_backtest(run_id):
        raise ApiError(404, f"no backtest run {run_id!r}")
    engine.live.backtests.pop(run_id, None)
    return web.Response(status=204)


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "POST",
            "/api/v1/backtest/start",
            start,
            "Queue a backtest; progress arrives as backtest_progress on the WebSocket",
            "backtest",
            body=BacktestStart,
            response=BacktestStarted,
            status=202,
            errors=(503,),
        ),
        RouteSpec(
            "GET",
            "/api/v1/backtest/status/{run_id}",
            status,
            "Progress of one run",
            "backtest",
            params=(RUN_ID,),
            response=BacktestStatus,
            errors=(404, 503),
        ),
        RouteSpec(
            "GET",
            "/api/v1/backtest/results/{run_id}",
            results,
            "Config, headline metrics and equity curve of one run",
            "backtest",
            params=(RUN_ID,),
            response=BacktestResult,
            errors=(404, 503),
        ),
        RouteSpec(
            "GET",
            "/api/v1/backtest/trades/{run_id}",
            trades,
            "Trades of one run, oldest first",
            "backtest",
            params=(
                RUN_ID,
                limit_param(1000, max_page_size),
                Param("strategy", "query", {"type": "string"}, "only this strategy's trades"),
            ),
            response=BacktestTrades,
            errors=(404, 503),
        ),
        RouteSpec(
            "GET",
            "/api/v1/backtest/history",
            history,
            "Stored runs, newest first",
            "backtest",
            params=(limit_param(100, max_page_size),),
            response=BacktestHistory,
            errors=(503,),
        ),
        RouteSpec(
            "DELETE",
            "/api/v1/backtest/{run_id}",
            delete,
            "Delete a run and its trades",
            "backtest",
            params=(RUN_ID,),
            status=204,
            errors=(404, 503),
        ),
    ]
