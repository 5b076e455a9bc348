"""InProcessClient: the :class:`~gridtui.client.protocol.EngineClient` that runs the engine here.

It builds a :class:`engine.runtime.Runtime` from the settings (the default: mock
feed, embedded SQLite), hands the dashboard the runtime's events, toggles its
strategies and runs backtests beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from engine.backtest.rerun import RerunComparison
from engine.bus.base import BusError, Subscription
from engine.capture.rows import LedgerSnapshot
from engine.clock import LiveClock
from engine.cockpit.rows import CockpitSnapshot
from engine.events import ALL_TOPICS, AuditEntry, BacktestProgress, Event, PriceKind, PriceTick
from engine.market.timeline import MarketTimeline
from engine.runtime import Runtime
from engine.store.base import BacktestRecord, StoreError
from engine.store.recording import RecordingSpan, recording_span, state_at
from engine.strategies.manager import StrategyManager
from engine.strategies.registry import parse_names
from gridtui.client.engine_state import RECENT_ALERTS, RECENT_BACKTESTS, stored_backtest_events
from gridtui.client.protocol import (
    DASHBOARD,
    BacktestRequest,
    ClientInfo,
    ClientStats,
    NotAvailable,
    Origin,
    RerunRequest,
    clock_mode,
    forecasters_of,
)
from gridtui.settings.loader import Settings
from gridtui.settings.zones import regions_of
from gridtui.wiring import build_runtime

if TYPE_CHECKING:
    from gridtui.backtest_runs import Prepared

log = logging.getLogger(__name__)


class InProcessClient:
    """Runs the engine inside the front end's own event loop."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime = runtime or build_runtime(settings)
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[object] | None = None
        self._backtests: set[asyncio.Task[None]] = set()
        self._reruns = 0  # re-runs being answered (each a backtest on the recording)

    @property
    def info(self) -> ClientInfo:
        feed = self.runtime.kernel.feed.name
        return ClientInfo(
            feed=feed,
            store=self.runtime.store.backend,
            bus=self.runtime.bus.backend,
            clock=clock_mode(self.runtime.clock, feed),
            markets=self.settings.markets,
            forecasters=forecasters_of(self.runtime.kernel.components),
            regions=regions_of(self.settings),
        )

    async def start(self) -> None:
        await self.runtime.start()
        self._subscription = await self.runtime.bus.subscribe(
            ALL_TOPICS, name="tui", lossless=False, maxsize=20_000
        )
        self._task = asyncio.create_task(self.runtime.run(), name="engine")

    async def next_events(self, timeout: float | None = None) -> list[Event]:
        if self._subscription is None:
            raise RuntimeError("client not started: await client.start() first")
        return await self._subscription.next_batch(timeout)

    async def latest_prices(self, kind: PriceKind = PriceKind.INTRADAY) -> dict[str, PriceTick]:
        return await self.runtime.store.latest_prices(self.settings.markets, kind)

    async def price_history(
        self, market: str, limit: int = 500, kind: PriceKind | None = None
    ) -> list[PriceTick]:
        return await self.runtime.store.price_history(market, limit=limit, kind=kind)

    def stats(self) -> ClientStats:
        kernel, writer = self.runtime.kernel, self.runtime.writer
        return ClientStats(
            events_in=kernel.stats.events_in,
            events_per_s=kernel.events_per_s(),
            rejected=self.runtime.validator.rejected_total,
            stored=writer.stats.written,
            pending=writer.pending,
            store_up=writer.stats.store_up,
            dropped_for_viewer=self._subscription.dropped if self._subscription else 0,
        )

    def transmission_costs(self) -> dict[tuple[str, str], float]:
        return self.settings.spreads.cost_matrix_eur_mwh()

    def _strategies(self) -> StrategyManager:
        for component in self.runtime.kernel.components:
            if isinstance(component, StrategyManager):
                return component
        raise NotAvailable("no strategies are loaded (strategies.enabled is empty)")

    async def _emit(self, events: Sequence[Event]) -> None:
        """Publish and store events made outside the kernel loop (toggles, backtest progress)."""
        self.runtime.writer.add(events)
        try:
            await self.runtime.bus.publish(events)
        except BusError as exc:
            log.error("could not publish %d events (they are stored): %s", len(events), exc)

    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        manager = self._strategies()
        verb = "start" if on else "stop"
        # Without an origin the call came from this process's own dashboard keys.
        origin = origin or Origin(
            actor=DASHBOARD, detail=f"{verb}: strategy key pressed and confirmed on the dashboard"
        )
        events = manager.set_running(
            name, on, now=self.runtime.clock.now(), actor=origin.actor, reason=origin.detail
        )
        await self._emit(events)

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        manager = self._strategies()
        origin = origin or Origin(actor=DASHBOARD, detail="kill switch key on the dashboard")
        events = manager.stop_all(
            now=self.runtime.clock.now(), actor=origin.actor, reason=origin.detail
        )
        await self._emit(events)

    async def audit_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[AuditEntry]:
        return await self.runtime.store.audit_log(
            actor=actor, action=action, limit=limit, offset=offset
        )

    @property
    def running_backtests(self) -> int:
        """Backtests started here that have not ended, re-runs included (the daemon caps them)."""
        return len(self._backtests) + self._reruns

    async def start_backtest(self, request: BacktestRequest) -> str:
        from engine.backtest.run import new_run_id
        from gridtui.backtest_runs import prepare

        names = parse_names(request.strategies)
        if not names:
            raise ValueError("name at least one strategy")
        data = "mock" if request.data == "mock" else self.settings.feed.path
        if not data:
            raise ValueError(
                "no stored history to replay: set feed.path (or run `gridtui backtest --data FILE`)"
            )
        now = LiveClock().now()
        run_id = f"{new_run_id(now)}-{secrets.token_hex(2)}"
        # Off the loop: preparing reads the price file (its span, for the window check)
        # and builds the strategies, ~0.2-1 s the dashboard would otherwise freeze for.
        prepared = await asyncio.to_thread(
            prepare,
            self.settings,
            data=data,
            start=request.start,
            end=request.end,
            names=names,
            run_id=run_id,
        )
        task = asyncio.create_task(self._run_backtest(prepared, now), name=f"backtest-{run_id}")
        self._backtests.add(task)
        task.add_done_callback(self._backtests.discard)
        return run_id

    async def _run_backtest(self, prepared: Prepared, created_at: datetime) -> None:
        """Run in the background; progress goes to the dashboard's bus, the result to the store.

        A run that is cancelled (the daemon stops) or fails is recorded with that
        state, so history says what became of it instead of losing it.
        """
        from gridtui.backtest_runs import run_and_save

        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()
        finished: list[BacktestProgress] = []
        last = BacktestProgress(
            ts=created_at,
            run_id=prepared.config.run_id,
            state="running",
            percent=0.0,
            events_done=0,
            events_total=0,
        )

        def forward(progress: BacktestProgress) -> None:
            nonlocal last
            last = progress
            if progress.state == "finished":
                finished.append(progress)  # published once the record is stored
                return
            task = loop.create_task(self._emit([progress]))
            pending.add(task)
            task.add_done_callback(pending.discard)

        try:
            # The result screen links the report: every run from here writes one.
            report = Path(self.settings.data_dir) / "reports" / f"{prepared.config.run_id}.html"
            await run_and_save(
                prepared,
                self.runtime.store,
                created_at=created_at,
                on_progress=forward,
                report=report,
            )
        except asyncio.CancelledError:
            # Progress still in flight goes out before the end state, never after
            # the bus has closed.
            await asyncio.gather(*pending, return_exceptions=True)
            await self._end_backtest(prepared, created_at, last, "cancelled")
            raise
        except Exception:
            log.exception("backtest %s failed", prepared.config.run_id)
            await asyncio.gather(*pending, return_exceptions=True)
            await self._end_backtest(prepared, created_at, last, "failed")
            return
        await asyncio.gather(*pending, return_exceptions=True)
        if finished:
            await self._emit(finished[-1:])

    async def _end_backtest(
        self, prepared: Prepared, created_at: datetime, last: BacktestProgress, state: str
    ) -> None:
        """Record and announce a run that ended without a result."""
        config = prepared.config
        record = BacktestRecord(
            run_id=config.run_id,
            created_at=created_at,
            state=state,
            config={
                "from": config.start.isoformat(),
                "to": config.end.isoformat(),
                "data": config.data,
                "markets": list(config.markets),
                "strategies": list(config.strategies),
                "events_done": last.events_done,
            },
        )
        try:
            await self.runtime.store.save_backtest(record)
        except StoreError as exc:
            log.error("could not record backtest %s as %s: %s", config.run_id, state, exc)
        log.info(
            "backtest %s %s at %.0f%% (%d events replayed)",
            config.run_id,
            state,
            last.percent,
            last.events_done,
        )
        await self._emit([msgspec.structs.replace(last, state=state, eta_s=None)])

    async def backtest_metrics(self, run_id: str) -> dict[str, float]:
        record = await self.runtime.store.backtest(run_id)
        return dict(record.metrics) if record is not None else {}

    async def backtest_record(self, run_id: str) -> BacktestRecord | None:
        return await self.runtime.store.backtest(run_id)

    async def initial_events(self) -> list[Event]:
        """Recent alerts and stored backtests: what the store kept from earlier sessions.

        Prices come with the price history; strategies and batteries announce
        themselves when the engine starts.
        """
        store = self.runtime.store
        alerts = await store.alerts(RECENT_ALERTS)
        runs = await store.backtests(RECENT_BACKTESTS)
        events: list[Event] = sorted(alerts, key=lambda alert: alert.ts)
        for record in reversed(runs):  # oldest first, as they were run
            events += stored_backtest_events(record)
        return events

    async def cancel_backtests(self) -> int:
        # Awaited while the store and the bus are still open, so each run records
        # its end and nothing is published after the bus closes.
        backtests = list(self._backtests)
        for backtest in backtests:
            backtest.cancel()
        await asyncio.gather(*backtests, return_exceptions=True)
        return len(backtests)

    async def capture_ledger(self) -> LedgerSnapshot:
        from gridtui.ledger_wiring import find_capture

        found = find_capture(self.runtime.kernel.components)
        return found.snapshot() if found is not None else LedgerSnapshot(rows=[], count=0)

    async def cockpit(self) -> CockpitSnapshot:
        from gridtui.cockpit_wiring import find_cockpit

        found = find_cockpit(self.runtime.kernel.components)
        return found.snapshot(self.runtime.clock.now()) if found is not None else CockpitSnapshot()

    async def recording_span(self) -> RecordingSpan | None:
        return await recording_span(self.runtime.store, self.info.markets)

    async def state_at(self, at: datetime) -> list[Event]:
        return await state_at(
            self.runtime.store,
            at,
            self.info.markets,
            chart_hours=self.settings.ui.chart_hours,
            timeline=MarketTimeline(self.settings.market),
        )

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        from engine.backtest.run import new_run_id
        from gridtui.reruns import run_rerun

        now = LiveClock().now()
        run_id = f"rr-{new_run_id(now).removeprefix('bt-')}-{secrets.token_hex(2)}"
        self._reruns += 1
        try:
            comparison = await run_rerun(
                self.settings, self.runtime.store, request, run_id=run_id, created_at=now
            )
        finally:
            self._reruns -= 1
        record = await self.runtime.store.backtest(run_id)
        if record is not None:  # the backtests pane lists it like any finished run
            await self._emit(stored_backtest_events(record))
        return comparison

    async def close(self) -> None:
        await self.cancel_backtests()
        self.runtime.stop()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        await self.runtime.close()
