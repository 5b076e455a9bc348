"""Builders for daemon API tests: a real runtime (SQLite, MemoryBus, spreads, alerts)
on a simulated clock, fed by a queue the test pushes into, served by aiohttp's test server.

Commands (strategy toggles, backtests) go to a :class:`FakeCommands` that records
them and answers as a full engine would, or to :class:`UnavailableCommands`,
which answers like an engine without strategies or backtester (NotAvailable).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from engine.alerts.engine import AlertEngine
from engine.backtest.rerun import RerunComparison
from engine.bus.memory import MemoryBus
from engine.clock import Clock, SimClock
from engine.events import Event, StrategyStatus
from engine.runtime import Runtime
from engine.spreads.engine import SpreadEngine
from engine.store.sqlite import SqliteStore
from engine.store.writer import WriterConfig
from gridtui.client.protocol import (
    BacktestRequest,
    ClientInfo,
    NotAvailable,
    Origin,
    RerunRequest,
)
from gridtui.daemon.app import create_app
from gridtui.daemon.auth import TokenAuth
from gridtui.daemon.sinks import AlertSink
from gridtui.daemon.state import DaemonEngine, Predictor, Trainer
from gridtui.settings.daemon import AlertSettings, ApiSettings
from gridtui.settings.loader import Settings
from tests.stubs.builders import T0

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


async def until(done: Callable[[], bool], within_s: float = 5.0, step_s: float = 0.005) -> None:
    """Poll ``done`` until it holds; TimeoutError after ``within_s``."""
    async with asyncio.timeout(within_s):
        for _ in iter(int, 1):  # forever; a for loop, so polling reads as polling
            if done():
                return
            await asyncio.sleep(step_s)


class QueueFeed:
    """A feed that stays open and yields whatever the test pushes."""

    name = "queue"

    def __init__(self) -> None:
        self.queue: asyncio.Queue[list[Event]] = asyncio.Queue()

    async def stream(self, clock: Clock) -> AsyncIterator[list[Event]]:
        while True:
            yield await self.queue.get()

    def push(self, events: Iterable[Event]) -> None:
        self.queue.put_nowait(list(events))


class UnavailableCommands:
    """An engine client without strategies or backtester (answers NotAvailable)."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime
        self.calls: list[tuple[str, object]] = []
        self.origins: list[Origin | None] = []  # who each command said it came from

    @property
    def info(self) -> ClientInfo:
        return ClientInfo(
            feed=self.runtime.kernel.feed.name,
            store=self.runtime.store.backend,
            bus=self.runtime.bus.backend,
            clock="replay",
            markets=self.settings.markets,
        )

    def transmission_costs(self) -> dict[tuple[str, str], float]:
        return self.settings.spreads.cost_matrix_eur_mwh()

    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        self.calls.append(("toggle_strategy", (name, on)))
        self.origins.append(origin)
        raise NotAvailable("strategies arrive with the strategy engine")

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        self.calls.append(("stop_all_strategies", None))
        self.origins.append(origin)
        raise NotAvailable("no strategy is running: strategies arrive with the strategy engine")

    async def start_backtest(self, request: BacktestRequest) -> str:
        self.calls.append(("start_backtest", request))
        raise NotAvailable("backtests arrive with the backtest engine; nothing was started")

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        self.calls.append(("rerun", request))
        raise NotAvailable("re-runs arrive with the backtest engine; nothing was run")

    async def cancel_backtests(self) -> int:
        return 0

    async def backtest_metrics(self, run_id: str) -> dict[str, float]:
        return {}

    # The rest of the EngineClient surface is not used by the daemon.
    async def start(self) -> None: ...
    async def close(self) -> None: ...


class FakeCommands(UnavailableCommands):
    """Answers like an engine with strategies ``alpha`` and ``beta`` and a backtester."""

    strategies = ("alpha", "beta")

    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        self.calls.append(("toggle_strategy", (name, on)))
        self.origins.append(origin)
        if name not in self.strategies:
            raise KeyError(name)
        state = "running" if on else "stopped"
        await self.runtime.bus.publish(
            [StrategyStatus(ts=self.runtime.clock.now(), strategy=name, state=state)]
        )

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        self.calls.append(("stop_all_strategies", None))
        self.origins.append(origin)

    async def start_backtest(self, request: BacktestRequest) -> str:
        self.calls.append(("start_backtest", request))
        if "nope" in request.strategies:
            raise ValueError("unknown strategy 'nope'")
        return f"bt-{len(self.calls):03d}"

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        self.calls.append(("rerun", request))
        until = request.until or request.since + timedelta(hours=1)
        return RerunComparison(
            run_id=f"rr-{len(self.calls):03d}",
            since=request.since,
            until=until,
            strategies=[],
            rerun_trades=[],
        )


@dataclass
class Daemon:
    """A running engine with its API, and what a test needs to drive it."""

    runtime: Runtime
    engine: DaemonEngine
    app: web.Application
    http: TestClient[web.Request, web.Application]
    feed: QueueFeed
    clock: SimClock
    auth: TokenAuth
    commands: UnavailableCommands
    settings: Settings
    tmp: Path
    logs: list[str] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.auth.token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def push(self, events: Sequence[Event], *, stored: bool = True) -> None:
        """Feed events through the kernel; wait until the API saw them (and stored them)."""
        seen = self.engine.live.events_seen
        before = self.runtime.kernel.stats.events_in
        latest = max((e.ts for e in events), default=self.clock.now())
        self.clock.advance_to(latest)
        self.feed.push(events)
        await until(lambda: self.runtime.kernel.stats.events_in >= before + len(events))
        await until(lambda: self.engine.live.events_seen >= seen + len(events))
        await until(lambda: not (stored and self.runtime.writer.pending))

    async def publish(self, events: Sequence[Event]) -> None:
        """Publish on the bus directly (events no feed would carry); wait for the API."""
        seen = self.engine.live.events_seen
        await self.runtime.bus.publish(events)
        await until(lambda: self.engine.live.events_seen >= seen + len(events))


DaemonFactory = Callable[..., Awaitable[Daemon]]


@pytest.fixture
async def make_daemon(tmp_path: Path) -> AsyncIterator[DaemonFactory]:
    started: list[tuple[Daemon, asyncio.Task[Any]]] = []

    async def make(
        *,
        commands: type[UnavailableCommands] = FakeCommands,
        api: ApiSettings | None = None,
        alerts: AlertSettings | None = None,
        sinks: Sequence[AlertSink] = (),
        trainer: Trainer | None = None,
        predictor: Predictor | None = None,
        limiter_clock: Callable[[], float] | None = None,
        monitor_interval_s: float = 0.05,
        stale_after_s: float = 3600.0,
        extra_components: Sequence[Any] = (),
    ) -> Daemon:
        root = tmp_path / f"d{len(started)}"
        settings = Settings(
            markets=MARKETS,
            data_dir=str(root / "data"),
            api=api or ApiSettings(rate_limit_per_s=0),
            alerts=alerts or AlertSettings(),
        )
        clock = SimClock(T0 - timedelta(seconds=1))
        feed = QueueFeed()
        runtime = Runtime(
            feed=feed,
            clock=clock,
            bus=MemoryBus(),
            store=SqliteStore(root / "gridtui.db"),
            # Built by hand: the API must not depend on what the wiring adds later.
            components=[
                SpreadEngine(settings.spreads),
                AlertEngine(settings.alerts.rules()),
                *extra_components,
            ],
            writer_config=WriterConfig(batch_size=1000, max_age_s=0.01, max_in_flight=1),
            validation=settings.validation,
            stale_after_s=stale_after_s,
        )
        await runtime.start()
        task = asyncio.create_task(runtime.run())
        auth, _ = TokenAuth.load_or_create(root / "data" / "api-token")
        client = commands(settings, runtime)
        engine = DaemonEngine(
            runtime=runtime,
            client=client,  # type: ignore[arg-type]
            settings=settings,
            trainer=trainer,
            predictor=predictor,
            started_monotonic=clock.monotonic(),
        )
        options: dict[str, Any] = {"sinks": sinks, "monitor_interval_s": monitor_interval_s}
        if limiter_clock is not None:
            options["limiter_clock"] = limiter_clock
        app = create_app(engine, settings.api, auth, **options)
        http = TestClient(TestServer(app))
        await http.start_server()
        daemon = Daemon(
            runtime=runtime,
            engine=engine,
            app=app,
            http=http,
            feed=feed,
            clock=clock,
            auth=auth,
            commands=client,
            settings=settings,
            tmp=root,
        )
        started.append((daemon, task))
        return daemon

    yield make
    for daemon, task in started:
        await daemon.http.close()
        daemon.runtime.stop()
        with contextlib.suppress(Exception):
            await task
        await daemon.runtime.close()


@pytest.fixture
async def daemon(make_daemon: DaemonFactory) -> Daemon:
    return await make_daemon()
