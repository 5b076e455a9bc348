"""Training and predicting over the API with the daemon's real trainer and predictor."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from gridtui.daemon.model_jobs import LivePredictor, StoreTrainer
from gridtui.daemon.state import TrainRequest
from gridtui.wiring import model_registry
from models.forecast.component import ForecastComponent
from models.forecast.onnx_forecaster import OnnxForecaster
from tests.daemon.conftest import DaemonFactory
from tests.daemon.test_routes import body
from tests.models.forecast_builders import as_ticks, saved_model, synthetic_prices
from tests.stubs.builders import T0

pytest.importorskip("xgboost")

DAYS = 30


async def test_a_forecast_trains_on_stored_prices_and_is_registered(
    make_daemon: DaemonFactory,
) -> None:
    trainers: list[StoreTrainer] = []

    async def trainer(request: TrainRequest, progress) -> str:
        return await trainers[0](request, progress)

    daemon = await make_daemon(trainer=trainer)
    trainers.append(StoreTrainer(daemon.settings, daemon.runtime.store, daemon.clock.now))
    frame = synthetic_prices(("DE", "FR"), days=DAYS, seed=4, start=T0 - timedelta(days=DAYS))
    ticks = [t for t in as_ticks(frame) if t.ts < T0]
    await daemon.push(ticks)

    invalid = await body(
        await daemon.http.post(
            "/api/v1/models/train",
            json={"kind": "forecast", "markets": ["DE", "FR"], "params": {"n_estimators": 5}},
            headers=daemon.headers,
        ),
        202,
    )
    started = await body(
        await daemon.http.post(
            "/api/v1/models/train",
            json={
                "kind": "forecast",
                "task": "intraday",
                "markets": ["DE", "FR"],
                "params": {"n_estimators": 20, "days": DAYS, "promote": True},
            },
            headers=daemon.headers,
        ),
        202,
    )
    job: dict[str, Any] = {}
    for _ in range(600):
        job = await body(await daemon.http.get(started["status_url"]))
        if job["state"] in ("finished", "failed"):
            break
        await asyncio.sleep(0.1)
    assert job["state"] == "finished", job
    model_id = job["model_id"]
    registry = model_registry(daemon.settings)
    meta = registry.get(model_id)
    assert meta.kind == "forecast" and meta.task == "intraday"
    assert set(meta.markets) == {"DE", "FR"}
    promoted = registry.promoted("forecast", "intraday")
    assert promoted is not None and promoted.model_id == model_id
    # The registered files load and forecast: a usable model, not a record.
    assert OnnxForecaster.load(registry, model_id).horizons
    listed = await body(await daemon.http.get("/api/v1/models?kind=forecast"))
    assert any(m["model_id"] == model_id and m["promoted"] for m in listed["models"])
    # The first job asked for too few trees: it failed, saying why.
    first = await body(await daemon.http.get(invalid["status_url"]))
    assert first["state"] == "failed"
    assert "n_estimators must be within 10..2000" in first["message"]


async def test_the_trainer_refuses_what_it_cannot_train(make_daemon: DaemonFactory) -> None:
    daemon = await make_daemon()
    trainer = StoreTrainer(daemon.settings, daemon.runtime.store, daemon.clock.now)

    def progress(percent: float, message: str) -> None:
        pass

    with pytest.raises(ValueError, match="gridtui train battery"):
        await trainer(TrainRequest(kind="policy", task="battery"), progress)
    with pytest.raises(ValueError, match="task must be one of"):
        await trainer(TrainRequest(task="weekly"), progress)
    with pytest.raises(ValueError, match="unknown params"):
        await trainer(TrainRequest(params={"epochs": 3}), progress)
    with pytest.raises(ValueError, match="n_estimators must be within"):
        await trainer(TrainRequest(params={"n_estimators": 10**6}), progress)
    with pytest.raises(ValueError, match="no stored intraday prices"):
        await trainer(TrainRequest(markets=("DE",)), progress)


async def test_predict_asks_the_running_model_for_a_fresh_forecast(
    make_daemon: DaemonFactory, tmp_path
) -> None:
    component = ForecastComponent(OnnxForecaster.load(*saved_model(tmp_path, "intraday")))
    predictors: list[LivePredictor] = []

    async def predictor(market: str, horizon: int):
        return await predictors[0](market, horizon)

    daemon = await make_daemon(predictor=predictor)
    predictors.append(LivePredictor([component], daemon.clock.now))
    frame = synthetic_prices(days=12, seed=9, start=T0 - timedelta(days=12))
    ticks = [t for t in as_ticks(frame) if t.ts < T0]
    for tick in ticks:
        component.on_events([tick], tick.ts)
    daemon.clock.advance_to(ticks[-1].ts)

    found = await body(await daemon.http.get("/api/v1/models/predict?market=DE&horizon=4"))
    assert found["source"] == "forecaster"
    assert {f["horizon_steps"] for f in found["forecasts"]} == {1}
    assert all(f["market"] == "DE" for f in found["forecasts"])
    expected = component.forecast_now(ticks[-1].ts)
    mine = next(f for f in expected if f.market == "DE" and f.horizon_steps == 1)
    assert found["forecasts"][0]["price_eur_mwh"] == mine.price_eur_mwh
    wide = await body(await daemon.http.get("/api/v1/models/predict?market=FR&horizon=60"))
    assert {f["horizon_steps"] for f in wide["forecasts"]} == set(component.forecaster.horizons)
    missing = await body(await daemon.http.get("/api/v1/models/predict?market=GB"), 422)
    assert "no running forecast model covers GB" in missing["error"]
