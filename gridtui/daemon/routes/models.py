"""``/api/v1/models``: list, train, status, metrics, predict.

Listing and metrics read the model registry (``DATA_DIR/models`` over the
shipped defaults). Training runs a :class:`~gridtui.daemon.state.Trainer` the
daemon command hands the API (``gridtui.daemon.model_jobs``), one job at a
time, with progress on the WebSocket as ``model_training_progress``; without
one the route answers 503. Predictions
come from a :class:`~gridtui.daemon.state.Predictor` when there is one, else
from the forecasts the running engine last published (``source: live``).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from gridtui.daemon.keys import API_SETTINGS, ENGINE, JOBS
from gridtui.daemon.model_jobs import resolve_data_file
from gridtui.daemon.openapi import Param, RouteSpec
from gridtui.daemon.schemas import ModelList, ModelMetrics, ModelRow, Predictions, TrainStarted
from gridtui.daemon.state import PARTS, TrainingJob, TrainRequest
from gridtui.daemon.validation import (
    ApiError,
    json_response,
    market_of,
    path_id,
    query_choice,
    query_int,
    read_body,
)
from gridtui.wiring import model_registry
from models.registry import ModelMeta, RegistryError

KINDS = ("forecast", "policy")
TRAINER_MISSING = (
    "this engine has no model trainer (`gridtui daemon` serves one, trained on its stored "
    "prices); train offline with `gridtui train forecast --data FILE` instead"
)


async def list_models(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    kind = query_choice(request, "kind", KINDS, None)
    task = request.query.get("task") or None
    registry = model_registry(engine.settings)

    def read() -> tuple[list[ModelMeta], set[str]]:
        found = registry.models(kind, task)
        promoted = set()
        for meta in found:
            chosen = registry.promoted(meta.kind, meta.task)
            if chosen is not None:
                promoted.add(chosen.model_id)
        return found, promoted

    try:
        found, promoted = await asyncio.to_thread(read)
    except RegistryError as exc:
        raise ApiError(503, f"the model registry cannot be read: {exc}") from None
    rows = [
        ModelRow(
            model_id=m.model_id,
            kind=m.kind,
            task=m.task,
            version=m.version,
            markets=list(m.markets),
            horizon=m.horizon,
            created=m.created,
            metrics=m.metrics,
            promoted=m.model_id in promoted,
        )
        for m in found
    ]
    return json_response(ModelList(models=rows, count=len(rows)))


async def train(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    body = await read_body(request, TrainRequest)
    if body.kind not in KINDS:
        raise ApiError(422, f"'kind' must be one of: {', '.join(KINDS)}")
    unknown = sorted(set(body.markets) - set(engine.settings.markets))
    if unknown:
        raise ApiError(
            422, f"unknown markets {unknown}; configured: {list(engine.settings.markets)}"
        )
    if "data" in body.params:
        # Refused here, not in the job: a path outside the data dir is never even queued.
        try:
            resolve_data_file(engine.settings, body.params["data"])
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
    if engine.trainer is None:
        raise ApiError(503, TRAINER_MISSING)
    jobs = request.app[JOBS]
    cap = request.app[API_SETTINGS].max_queued_jobs
    queued = jobs.queued()
    if queued >= cap:
        raise ApiError(
            429,
            f"{queued} training jobs are already waiting (api.max_queued_jobs = {cap}); "
            "try again when one has started",
            extra={"queued": queued},
        )
    job = jobs.submit(body)
    return json_response(
        TrainStarted(job_id=job.job_id, status_url=f"/api/v1/models/status/{job.job_id}"),
        status=202,
    )


async def status(request: web.Request) -> web.Response:
    job_id = path_id(request, "job_id")
    job = request.app[JOBS].jobs.get(job_id)
    if job is None:
        raise ApiError(404, f"no training job {job_id!r} (jobs are kept while the daemon runs)")
    return json_response(job)


async def metrics(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    model_id = path_id(request, "model_id")
    registry = model_registry(engine.settings)
    try:
        meta = await asyncio.to_thread(registry.get, model_id)
    except RegistryError:
        raise ApiError(404, f"no model {model_id!r}; GET /api/v1/models lists them") from None
    return json_response(
        ModelMetrics(
            model_id=meta.model_id,
            kind=meta.kind,
            task=meta.task,
            version=meta.version,
            metrics=meta.metrics,
            train_from=meta.train_from,
            train_to=meta.train_to,
        )
    )


async def predict(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    market = market_of(request, engine.settings.markets)
    horizon = query_int(request, "horizon", default=4, minimum=1, maximum=192)
    if engine.predictor is not None:
        try:
            forecasts = await engine.predictor(market, horizon)
        except ValueError as exc:
            raise ApiError(422, f"cannot forecast {market}: {exc}") from None
        return json_response(Predictions(market=market, source="forecaster", forecasts=forecasts))
    live = engine.live.forecasts.get(market)
    if not live:
        if engine.has_part("forecasts"):
            raise ApiError(503, f"no forecast for {market} has been published yet; try again soon")
        raise ApiError(503, PARTS["forecasts"][1])
    chosen = [live[step] for step in sorted(live) if step <= horizon]
    return json_response(Predictions(market=market, source="live", forecasts=chosen))


def routes(max_page_size: int) -> list[RouteSpec]:
    return [
        RouteSpec(
            "GET",
            "/api/v1/models",
            list_models,
            "Models in the registry, newest first",
            "models",
            params=(
                Param("kind", "query", {"type": "string", "enum": list(KINDS)}, "forecast|policy"),
                Param("task", "query", {"type": "string"}, "e.g. intraday, dayahead, battery"),
            ),
            response=ModelList,
            errors=(503,),
        ),
        RouteSpec(
            "POST",
            "/api/v1/models/train",
            train,
            "Start a training job; progress arrives as model_training_progress",
            "models",
            body=TrainRequest,
            response=TrainStarted,
            status=202,
            errors=(429, 503),
        ),
        RouteSpec(
            "GET",
            "/api/v1/models/status/{job_id}",
            status,
            "State of a training job",
            "models",
            params=(Param("job_id", "path", {"type": "string"}, "training job id"),),
            response=TrainingJob,
            errors=(400, 404),
        ),
        RouteSpec(
            "GET",
            "/api/v1/models/metrics/{model_id}",
            metrics,
            "Evaluation metrics of one model",
            "models",
            params=(Param("model_id", "path", {"type": "string"}, "model id"),),
            response=ModelMetrics,
            errors=(400, 404),
        ),
        RouteSpec(
            "GET",
            "/api/v1/models/predict",
            predict,
            "Price forecasts for one market up to `horizon` steps ahead",
            "models",
            params=(
                Param("market", "query", {"type": "string"}, "market code, e.g. DE", True),
                Param(
                    "horizon",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 192, "default": 4},
                    "steps ahead (1..192)",
                ),
            ),
            response=Predictions,
            errors=(404, 422, 503),
        ),
    ]
