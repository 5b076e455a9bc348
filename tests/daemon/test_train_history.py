"""Training over the API: how much history it needs, and training on a file in the data dir."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gridtui.daemon.keys import JOBS
from gridtui.daemon.model_jobs import StoreTrainer, needed_days
from gridtui.daemon.state import TrainRequest
from gridtui.wiring import model_registry
from tests.daemon.conftest import Daemon, DaemonFactory
from tests.daemon.test_routes import body
from tests.models.forecast_builders import as_ticks, synthetic_prices
from tests.stubs.builders import T0

pytest.importorskip("xgboost")


async def with_trainer(make_daemon: DaemonFactory) -> Daemon:
    trainers: list[StoreTrainer] = []

    async def trainer(request: TrainRequest, progress: Any) -> str:
        return await trainers[0](request, progress)

    daemon = await make_daemon(trainer=trainer)
    trainers.append(StoreTrainer(daemon.settings, daemon.runtime.store, daemon.clock.now))
    return daemon


def data_dir(daemon: Daemon) -> Path:
    root = Path(daemon.settings.data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


async def train(daemon: Daemon, payload: dict[str, Any], status: int = 202) -> dict[str, Any]:
    response = await daemon.http.post("/api/v1/models/train", json=payload, headers=daemon.headers)
    found: dict[str, Any] = await body(response, status)
    return found


async def finished(daemon: Daemon, started: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = {}
    for _ in range(600):
        job = await body(await daemon.http.get(started["status_url"]))
        if job["state"] in ("finished", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"the job did not end: {job}")


async def test_a_fresh_daemon_says_how_much_history_training_needs_and_holds(
    make_daemon: DaemonFactory,
) -> None:
    daemon = await with_trainer(make_daemon)
    frame = synthetic_prices(("DE", "FR"), days=2, seed=4, start=T0 - timedelta(days=2))
    ticks = [t for t in as_ticks(frame) if t.ts < T0]
    await daemon.push(ticks)
    started = await train(daemon, {"task": "intraday", "markets": ["DE", "FR"]})
    job = await finished(daemon, started)
    assert job["state"] == "failed"
    need = needed_days("intraday")
    assert need > 2
    message = job["message"]
    assert f"needs ≥ {need} days of prices per market with a known target" in message
    de = [t.ts for t in ticks if t.market == "DE"]
    held = (max(de) - min(de)).total_seconds() / 86_400
    assert (
        f"the store holds (the last 28 days read: params.days) {held:.1f} days for DE "
        f"from {min(de):%Y-%m-%d %H:%M} to {max(de):%Y-%m-%d %H:%M} UTC" in message
    )
    assert "known target in the range; is the data empty" not in message


async def test_it_trains_on_a_price_file_inside_the_data_dir(make_daemon: DaemonFactory) -> None:
    daemon = await with_trainer(make_daemon)
    root = data_dir(daemon)
    synthetic_prices(("DE", "FR"), days=30, seed=5).to_parquet(root / "history.parquet")
    started = await train(
        daemon,
        {
            "task": "dayahead",
            "markets": ["DE", "FR"],
            "params": {"data": "history.parquet", "n_estimators": 10},
        },
    )
    job = await finished(daemon, started)
    assert job["state"] == "finished", job
    meta = model_registry(daemon.settings).get(job["model_id"])
    assert meta.task == "dayahead" and set(meta.markets) == {"DE", "FR"}


async def test_a_price_file_outside_the_data_dir_is_refused(make_daemon: DaemonFactory) -> None:
    daemon = await with_trainer(make_daemon)
    root = data_dir(daemon)
    outside = root.parent / "outside.parquet"
    synthetic_prices(("DE",), days=30).to_parquet(outside)
    (root / "link.parquet").symlink_to(outside)
    for path in ("../outside.parquet", str(outside), "link.parquet"):
        refused = await train(daemon, {"params": {"data": path}}, status=422)
        assert f"params.data {path!r} is outside the daemon's data dir" in refused["error"]
        assert str(root) not in refused["error"]  # no server paths in answers
    bad: list[tuple[object, str]] = [
        ("missing.parquet", "no such file in the daemon's data dir"),
        ("notes.txt", "is not a price file"),
        (7, "must be a file name in the data dir"),
    ]
    for value, why in bad:
        refused = await train(daemon, {"params": {"data": value}}, status=422)
        assert why in refused["error"]
    assert daemon.app[JOBS].jobs == {}  # nothing was queued, so nothing ran
