"""ScriptedClient: an EngineClient that plays a fixed list of events, for TUI tests.

The dashboard talks to it exactly as to the in-process engine (same protocol),
but every event, timestamp and statistic is fixed, so Pilot tests can assert on
state and snapshot tests are byte-stable. Commands the engine would carry out
(toggle a strategy, stop them all, start a backtest) are recorded, and answered
with the events a real engine would publish — or with ``NotAvailable`` when the
client is built without that engine part.

``dashboard_script()`` builds a realistic afternoon on six markets: day-ahead
curves, four hours of intraday ticks, open spreads, batteries, strategies,
backtests, forecasts, alerts, and one market (GB) gone stale.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.backtest.rerun import RerunComparison
from engine.capture.book import CaptureBook
from engine.capture.rows import LedgerSnapshot
from engine.cockpit.board import GateBoard
from engine.cockpit.rows import CockpitSnapshot
from engine.events import (
    Alert,
    AuditEntry,
    BacktestProgress,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)
from engine.spreads.config import SpreadConfig
from engine.store.base import BacktestRecord
from gridtui.client.protocol import (
    BacktestRequest,
    ClientInfo,
    ClientStats,
    ForecasterInfo,
    NotAvailable,
    Origin,
    RerunRequest,
)
from tests.stubs.fundamentals_script import FORECASTERS, fundamentals_script

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
NOW = datetime(2025, 11, 5, 14, 30, tzinfo=UTC)
BASE_PRICE = {"DE": 92.0, "FR": 78.0, "NL": 95.0, "BE": 90.0, "AT": 101.0, "GB": 112.0}


class ScriptedClient:
    """Plays ``events`` on the first ``next_events`` call; more with :meth:`push`."""

    def __init__(
        self,
        events: Iterable[Event] = (),
        *,
        markets: Sequence[str] = MARKETS,
        clock: str = "live",
        strategies_available: bool = True,
        backtests_available: bool = True,
        events_per_s: float = 1234.0,
        now: datetime = NOW,
        forecasters: Sequence[ForecasterInfo] = FORECASTERS,
        ledger: CaptureBook | None = None,
        gates: GateBoard | None = None,
    ) -> None:
        """``ledger``: a real capture book fed every delivered event, as the engine's is;
        ``gates``: a real gate board, fed so too and asked at ``now``."""
        self.markets = tuple(markets)
        self.ledger = ledger
        self.gates = gates
        self.forecasters = tuple(forecasters)
        self.clock = clock
        self.strategies_available = strategies_available
        self.backtests_available = backtests_available
        self.events_per_s = events_per_s
        self.now = now
        self._pending: list[Event] = list(events)
        self._ready = asyncio.Event()
        self.delivered = 0
        self.started = False
        self.closed = False
        self.calls: list[tuple[str, object]] = []
        self.metrics: dict[str, dict[str, float]] = {}
        self.records: dict[str, BacktestRecord] = {}
        self._strategies: dict[str, str] = {}

    @property
    def info(self) -> ClientInfo:
        return ClientInfo(
            feed="mock",
            store="sqlite",
            bus="memory",
            clock=self.clock,
            markets=self.markets,
            forecasters=self.forecasters,
        )

    async def start(self) -> None:
        self.started = True
        if self._pending:
            self._ready.set()

    def push(self, events: Iterable[Event]) -> None:
        """Hand the app more events, as the engine would publish them."""
        self._pending.extend(events)
        self._ready.set()

    async def next_events(self, timeout: float | None = None) -> list[Event]:
        if self.closed:
            raise ConnectionError("client closed")
        if not self._pending:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return []
        batch, self._pending = self._pending, []
        for event in batch:
            if isinstance(event, StrategyStatus):
                self._strategies[event.strategy] = event.state
        if self.ledger is not None:
            self.ledger.observe(batch)
        if self.gates is not None:
            self.gates.observe(batch)
            self.gates.advance(self.now)
        self.delivered += len(batch)
        return batch

    async def latest_prices(self, kind: PriceKind = PriceKind.INTRADAY) -> dict[str, PriceTick]:
        return {}

    async def price_history(
        self, market: str, limit: int = 500, kind: PriceKind | None = None
    ) -> list[PriceTick]:
        return []

    def stats(self) -> ClientStats:
        return ClientStats(
            events_in=self.delivered,
            events_per_s=self.events_per_s,
            rejected=0,
            stored=self.delivered,
            pending=0,
            store_up=True,
            dropped_for_viewer=0,
        )

    def transmission_costs(self) -> dict[tuple[str, str], float]:
        return SpreadConfig(markets=self.markets).cost_matrix_eur_mwh()

    async def toggle_strategy(self, name: str, on: bool, *, origin: Origin | None = None) -> None:
        self.calls.append(("toggle_strategy", (name, on)))
        if not self.strategies_available:
            raise NotAvailable("strategies arrive with the strategy engine")
        if name not in self._strategies:
            raise KeyError(name)
        state = "running" if on else "stopped"
        self.push([StrategyStatus(ts=self.now, strategy=name, state=state, last_action=state)])

    async def audit_log(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[AuditEntry]:
        return []

    async def stop_all_strategies(self, *, origin: Origin | None = None) -> None:
        self.calls.append(("stop_all_strategies", None))
        if not self.strategies_available:
            raise NotAvailable("no strategy is running: strategies arrive with the strategy engine")
        self.push(
            StrategyStatus(ts=self.now, strategy=name, state="stopped", last_action="kill switch")
            for name in sorted(self._strategies)
        )

    async def start_backtest(self, request: BacktestRequest) -> str:
        self.calls.append(("start_backtest", request))
        if not self.backtests_available:
            raise NotAvailable("backtests arrive with the backtest engine; nothing was started")
        run_id = f"bt-{len(self.calls):03d}"
        self.push(
            [
                BacktestProgress(
                    ts=self.now,
                    run_id=run_id,
                    state="running",
                    percent=0.0,
                    events_done=0,
                    events_total=1_000_000,
                )
            ]
        )
        return run_id

    async def cancel_backtests(self) -> int:
        return 0

    async def backtest_metrics(self, run_id: str) -> dict[str, float]:
        return self.metrics.get(run_id, {})

    async def backtest_record(self, run_id: str) -> BacktestRecord | None:
        return self.records.get(run_id)

    async def initial_events(self) -> list[Event]:
        return []  # the script is the whole story

    async def recording_span(self) -> None:
        raise NotAvailable("a scripted engine records nothing")

    async def state_at(self, at: datetime) -> list[Event]:
        raise NotAvailable("a scripted engine records nothing")

    async def rerun(self, request: RerunRequest) -> RerunComparison:
        self.calls.append(("rerun", request))
        raise NotAvailable("a scripted engine records nothing to re-run")

    async def capture_ledger(self) -> LedgerSnapshot:
        if self.ledger is None:
            return LedgerSnapshot(rows=[], count=0)
        return self.ledger.snapshot()

    async def cockpit(self) -> CockpitSnapshot:
        if self.gates is None:
            return CockpitSnapshot()
        return self.gates.snapshot(self.now)

    async def close(self) -> None:
        self.closed = True
        self._ready.set()


def _price(market: str, ts: datetime) -> float:
    """A smooth, deterministic price path with a daily shape (no randomness)."""
    hours = ts.hour + ts.minute / 60 + ts.second / 3600
    index = MARKETS.index(market) if market in MARKETS else 0
    daily = 18 * math.sin((hours - 8) / 24 * 2 * math.pi)
    wiggle = 4 * math.sin(hours * 3.1 + index) + 2 * math.sin(hours * 11.3 + 2 * index)
    return round(BASE_PRICE.get(market, 90.0) + daily + wiggle, 2)


def dashboard_script(now: datetime = NOW, markets: Sequence[str] = MARKETS) -> list[Event]:
    """A full dashboard's worth of events, in time order, ending at ``now``."""
    events: list[Event] = []
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for market in markets:
        for quarter in range(96 * 2):  # today and tomorrow, 15-minute MTUs
            start = day + timedelta(minutes=15 * quarter)
            events.append(
                PriceTick(
                    ts=start,
                    market=market,
                    price_eur_mwh=round(_price(market, start + timedelta(minutes=7)) - 3, 2),
                    kind=PriceKind.DAY_AHEAD,
                    delivery_minutes=15,
                    source="mock",
                )
            )
    for minute in range(4 * 60, -1, -1):
        ts = now - timedelta(minutes=minute)
        for market in markets:
            if market == "GB" and minute < 10:
                continue  # GB's feed went quiet ten minutes ago: stale
            events.append(
                PriceTick(ts=ts, market=market, price_eur_mwh=_price(market, ts), source="mock")
            )
    for step in range(1, 9):
        target = now + timedelta(minutes=15 * step)
        value = _price("DE", target) + 1.5
        events.append(
            Forecast(
                ts=now,
                market="DE",
                target_ts=target,
                horizon_steps=step,
                price_eur_mwh=value,
                lower_eur_mwh=value - 2 - step,
                upper_eur_mwh=value + 2 + step,
                model_id="xgb-de-v1",
            )
        )
    events += fundamentals_script(now, markets)
    for buy, sell, minutes_open in (("FR", "AT", 42), ("FR", "NL", 17), ("FR", "DE", 3)):
        if buy not in markets or sell not in markets:
            continue
        buy_price, sell_price = _price(buy, now), _price(sell, now)
        cost = SpreadConfig(markets=tuple(markets)).cost_matrix_eur_mwh()[buy, sell]
        events.append(
            SpreadOpportunity(
                ts=now,
                buy_market=buy,
                sell_market=sell,
                buy_price_eur_mwh=buy_price,
                sell_price_eur_mwh=sell_price,
                spread_eur_mwh=sell_price - buy_price,
                transmission_cost_eur_mwh=cost,
                net_spread_eur_mwh=sell_price - buy_price - cost,
                status=OpportunityStatus.OPENED if minutes_open < 5 else OpportunityStatus.UPDATED,
                opened_at=now - timedelta(minutes=minutes_open),
                duration_s=minutes_open * 60.0,
                capacity_mw=500.0 if buy == "FR" and sell == "AT" else None,
                profit_eur_h=(sell_price - buy_price - cost) * 500
                if buy == "FR" and sell == "AT"
                else None,
            )
        )
    events += [
        BatteryState(
            ts=now,
            battery_id="bess-de-1",
            market="DE",
            soc_mwh=62.0,
            soc_fraction=0.62,
            power_mw=-25.0,
            mode="charging",
            revenue_eur=4_210.0,
        ),
        BatteryState(
            ts=now,
            battery_id="bess-nl-1",
            market="NL",
            soc_mwh=11.0,
            soc_fraction=0.11,
            power_mw=0.0,
            mode="idle",
            revenue_eur=-120.0,
        ),
        BatteryState(
            ts=now,
            battery_id="bess-at-2",
            market="AT",
            soc_mwh=88.0,
            soc_fraction=0.88,
            power_mw=40.0,
            mode="discharging",
            revenue_eur=9_877.0,
        ),
        StrategyStatus(
            ts=now,
            strategy="cross-border-arb",
            state="running",
            pnl_eur=12_345.0,
            trades=48,
            last_action="buy FR 20 MWh @ 78.10",
        ),
        StrategyStatus(
            ts=now,
            strategy="da-id-reversion",
            state="stopped",
            pnl_eur=-830.0,
            trades=12,
            last_action="stopped by operator",
        ),
        StrategyStatus(
            ts=now, strategy="peak-shaver", state="armed", pnl_eur=0.0, trades=0, last_action=""
        ),
        BacktestProgress(
            ts=now,
            run_id="bt-2025-q3",
            state="running",
            percent=62.5,
            events_done=1_250_000,
            events_total=2_000_000,
            eta_s=95.0,
        ),
        BacktestProgress(
            ts=now - timedelta(minutes=30),
            run_id="bt-2025-q2",
            state="running",
            percent=0.0,
            events_done=0,
            events_total=1_800_000,
        ),
        BacktestProgress(
            ts=now - timedelta(minutes=12),
            run_id="bt-2025-q2",
            state="finished",
            percent=100.0,
            events_done=1_800_000,
            events_total=1_800_000,
        ),
        Alert(
            ts=now - timedelta(minutes=50),
            rule="price-spike",
            severity=Severity.WARNING,
            message="AT intraday 14% above day-ahead",
            market="AT",
        ),
        Alert(
            ts=now - timedelta(minutes=10),
            rule="feed-silence",
            severity=Severity.CRITICAL,
            message="no GB tick for 10 minutes",
            market="GB",
        ),
        Alert(
            ts=now - timedelta(minutes=3),
            rule="spread-open",
            severity=Severity.INFO,
            message="FR→DE net 5.2 €/MWh",
        ),
        FeedHealth(
            ts=now,
            source="mock",
            state="up",
            last_success=now,
            events_total=len(events),
            since=now - timedelta(hours=4),
        ),
    ]
    return events


async def settle(pilot: Any, timeout_s: float = 5.0) -> None:
    """Wait until the app has drawn every event its ScriptedClient handed out.

    Polls (never sleeps a fixed time): the client has nothing pending, the model
    has folded all that was delivered, and the screen shows the model's latest
    snapshot. Works only while rendering is not paused.
    """
    app = pilot.app
    client = app.client
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        await pilot.pause(0.02)
        applied = app.model.events_applied
        if (
            client.started
            and not client._pending
            and applied >= client.delivered
            and app.dashboard.snapshot.events_applied == applied
            and app.frames_applied > 0
        ):
            await pilot.pause()
            return
    raise TimeoutError(f"the app did not settle within {timeout_s} s")
