"""``/openapi.json`` describes exactly the routes served, and schemathesis finds no 5xx.

Schemathesis generates valid (positive) and invalid (negative) requests for every
operation from the document and sends them to a real daemon app served on a
free port of 127.0.0.1 (in a thread of its own: schemathesis calls are blocking),
with the bearer token so that mutating routes are exercised past the 401. Two
engines: one with every part (commands answer, a trainer runs) where no 5xx at
all is allowed, and a bare one where the only 5xx is the documented 503 that
names the missing part.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from engine.alerts.engine import AlertEngine
from engine.bus.memory import MemoryBus
from engine.capture.book import CaptureBook
from engine.capture.component import CaptureComponent
from engine.clock import SimClock
from engine.events import BatteryState, Forecast, StrategyStatus
from engine.runtime import Runtime
from engine.spreads.engine import SpreadEngine
from engine.store.sqlite import SqliteStore
from engine.store.writer import WriterConfig
from gridtui.cockpit_wiring import cockpit_component
from gridtui.daemon.app import all_routes, create_app, start_server
from gridtui.daemon.auth import TokenAuth
from gridtui.daemon.keys import API_SETTINGS
from gridtui.daemon.state import DaemonEngine
from gridtui.settings.daemon import ApiSettings
from gridtui.settings.loader import Settings
from tests.daemon.conftest import MARKETS, Daemon, FakeCommands, QueueFeed, UnavailableCommands
from tests.daemon.test_routes import spread_ticks
from tests.stubs.builders import T0

EXAMPLES_PER_OPERATION = 6


class LiveApi:
    """A daemon app on a free port, run by a thread's own event loop."""

    def __init__(self, root: Path, commands: type[UnavailableCommands], trainer: bool) -> None:
        self.root = root
        self.commands = commands
        self.trainer = trainer
        self.url = ""
        self.token = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def __enter__(self) -> LiveApi:
        self._thread.start()
        assert self._ready.wait(30), "the API did not start"
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        settings = Settings(
            markets=MARKETS, data_dir=str(self.root / "data"), api=ApiSettings(rate_limit_per_s=0)
        )
        feed = QueueFeed()
        clock = SimClock(T0)
        runtime = Runtime(
            feed=feed,
            clock=clock,
            bus=MemoryBus(),
            store=SqliteStore(self.root / "gridtui.db"),
            components=[
                SpreadEngine(settings.spreads),
                AlertEngine(settings.alerts.rules()),
                # The full engine runs the capture ledger; the bare one answers its 503.
                *([CaptureComponent(CaptureBook())] if self.trainer else []),
                # And the gate-closure cockpit (no strategies: nobody is expected anywhere).
                *([cockpit_component(settings, [])] if self.trainer else []),
            ],
            writer_config=WriterConfig(max_age_s=0.01),
        )
        await runtime.start()
        kernel = asyncio.create_task(runtime.run())
        feed.push(spread_ticks())

        async def trainer(request, progress) -> str:
            progress(50.0, "half")
            return "forecast-test"

        auth, _ = TokenAuth.load_or_create(self.root / "data" / "api-token")
        self.token = auth.token
        engine = DaemonEngine(
            runtime=runtime,
            client=self.commands(settings, runtime),  # type: ignore[arg-type]
            settings=settings,
            trainer=trainer if self.trainer else None,
            started_monotonic=clock.monotonic(),
        )
        runner, self.url = await start_server(
            create_app(engine, settings.api, auth), "127.0.0.1", 0
        )
        if self.trainer:  # the full engine: batteries, strategies and forecasts publish
            await runtime.bus.publish(
                [
                    BatteryState(
                        ts=T0,
                        battery_id="b1",
                        market="DE",
                        soc_mwh=1.0,
                        soc_fraction=0.5,
                        power_mw=0.0,
                        mode="idle",
                    ),
                    StrategyStatus(ts=T0, strategy="alpha", state="running"),
                    *(
                        Forecast(
                            ts=T0,
                            market=m,
                            target_ts=T0 + timedelta(minutes=15),
                            horizon_steps=1,
                            price_eur_mwh=50.0,
                        )
                        for m in MARKETS
                    ),
                ]
            )
            await asyncio.sleep(0.1)
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        runtime.stop()
        await kernel
        await runtime.close()


@pytest.fixture(scope="module")
def full_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with LiveApi(tmp_path_factory.mktemp("full"), FakeCommands, trainer=True) as api:
        yield api


@pytest.fixture(scope="module")
def bare_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    with LiveApi(tmp_path_factory.mktemp("bare"), UnavailableCommands, trainer=False) as api:
        yield api


async def test_the_document_lists_every_route_served(daemon: Daemon) -> None:
    response = await daemon.http.get("/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.1")
    served = {
        (resource.canonical, route.method)
        for resource in daemon.app.router.resources()
        for route in resource
        if route.method != "HEAD"
    }
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert served == documented
    specs = all_routes(daemon.app, daemon.app[API_SETTINGS].max_page_size)
    assert len(specs) == len(documented)
    toggle = document["paths"]["/api/v1/trading/strategies/{name}/toggle"]["post"]
    assert toggle["security"] == [{"bearer": []}] and "401" in toggle["responses"]
    history = document["paths"]["/api/prices/history/{market}"]["get"]
    limit = next(p for p in history["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 1000
    assert "SpreadOpportunity" in document["components"]["schemas"]
    # The InTheGrid paths and the v1 groups are all there.
    for path in (
        "/health",
        "/api/prices/latest",
        "/api/spreads/opportunities",
        "/api/v1/dashboard/summary",
        "/api/v1/backtest/start",
        "/api/v1/models/predict",
        "/api/v1/trading/positions",
        "/api/v1/market/timeline",
        "/api/v1/settings",
        "/ws/real-time",
        "/metrics",
    ):
        assert path in document["paths"], path


def fuzz(api: LiveApi) -> list[tuple[str, int, str]]:
    """Every operation, positive and negative examples; the answers of 500 and above."""
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    session = requests.Session()
    headers = {"Authorization": f"Bearer {api.token}"}
    server_errors: list[tuple[str, int, str]] = []
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def call(case: Any) -> None:
                response = case.call(base_url=api.url, session=session, headers=headers, timeout=10)
                calls[0] += 1
                if response.status_code >= 500:
                    server_errors.append(
                        (
                            f"{case.method} {case.formatted_path}",
                            response.status_code,
                            response.text[:200],
                        )
                    )

            try:
                call()
            except Exception as exc:  # unsatisfiable negative schemas (nothing to negate)
                if "Unsatisfiable" not in type(exc).__name__:
                    raise
    assert calls[0] > 150
    return server_errors


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(full_api: LiveApi) -> None:
    assert fuzz(full_api) == []


@pytest.mark.slow
def test_a_bare_engine_only_answers_the_documented_503(bare_api: LiveApi) -> None:
    errors = fuzz(bare_api)
    assert errors, "a bare engine has parts missing: some route must say so"
    for operation, status, text in errors:
        assert status == 503, (operation, status, text)
        assert any(why in text for why in ("arrive", "no forecast", "no model trainer")), (
            operation,
            text,
        )
