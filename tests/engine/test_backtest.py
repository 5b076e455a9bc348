"""The backtester: the live runtime on a replay feed and a SimClock, and what it keeps."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd
import pytest

from engine.backtest.config import BacktestConfig
from engine.backtest.recorder import BacktestRecorder
from engine.backtest.results_only_store import ResultsOnlyStore
from engine.backtest.run import run_backtest
from engine.backtest.window_feed import WindowFeed
from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import BacktestProgress, Event, PriceKind, PriceTick, Trade
from engine.runtime import Runtime
from engine.spreads.config import SpreadConfig
from engine.spreads.engine import SpreadEngine
from engine.store.sqlite import SqliteStore
from engine.strategies import registry
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.config import ManagerConfig
from engine.strategies.execution import ExecutionConfig
from engine.strategies.manager import StrategyManager
from engine.strategies.mining import MiningConfig
from engine.validation import ValidationConfig
from feeds.mock.feed import MockFeed, MockFeedConfig
from feeds.replay import ReplayConfig, ReplayFeed
from tests.stubs.scripted_feed import ScriptedFeed

REAL_PRICES = Path(__file__).resolve().parents[3] / "shared" / "data" / "prices_real_train.parquet"
START = datetime(2021, 1, 4, tzinfo=UTC)
MARKETS = ("DE", "FR", "NL")
DAYS = 14


def write_prices(path: Path, days: int = DAYS, seed: int = 7) -> Path:
    """Hourly prices with a daily shape, noise and a level per market; long format."""
    rng = np.random.default_rng(seed)
    hours = days * 24
    times = pd.date_range(START, periods=hours, freq="h", tz="UTC")
    shape = 25 * np.sin((np.arange(hours) % 24 - 6) / 24 * 2 * np.pi)
    frames = []
    for i, market in enumerate(MARKETS):
        noise = rng.normal(0, 8 + 4 * i, hours)
        prices = np.round(60 + 10 * i + shape + noise, 2)
        frames.append(pd.DataFrame({"timestamp": times, "market": market, "price_eur_mwh": prices}))
    frame = pd.concat(frames, ignore_index=True)
    frame.to_parquet(path)
    return path


@pytest.fixture
def price_file(tmp_path: Path) -> Path:
    return write_prices(tmp_path / "prices.parquet")


def every_strategy() -> list[Strategy]:
    return [
        registry.build(kind, {"controller": "rule"} if kind == "battery" else None)
        for kind in registry.KINDS
    ]


def config(**changes) -> BacktestConfig:
    base = BacktestConfig(
        run_id="bt-test",
        start=START,
        end=START + timedelta(days=DAYS),
        strategies=registry.KINDS,
        data="generated",
        markets=MARKETS,
    )
    return msgspec.structs.replace(base, **changes)


async def test_a_backtest_runs_what_has_inputs_and_keeps_its_results(price_file, tmp_path):
    progress: list[BacktestProgress] = []
    result = await run_backtest(
        config(progress_interval_s=0.0),
        ReplayFeed(ReplayConfig(path=str(price_file))),
        every_strategy(),
        on_progress=progress.append,
    )
    assert set(result.skipped) == {"ml", "fundamental"}
    assert result.events_in == DAYS * 24 * len(MARKETS)
    ran = {t.strategy for t in result.trades}
    assert {"technical", "mining"} <= ran
    metrics = result.record.metrics
    revenue = math.fsum(t.pnl_eur for t in result.trades)
    assert metrics["total_revenue"] == pytest.approx(revenue)
    # Nothing is held past the data: what was delivered settled, D+1's bids never cleared.
    assert result.equity_curve[-1][1] == pytest.approx(revenue)
    fills = [t for t in result.trades if t.side != "settle"]
    assert metrics["total_trades"] == len(fills)
    assert metrics["total_volume_mwh"] == pytest.approx(math.fsum(t.volume_mwh for t in fills))
    assert metrics["max_drawdown"] <= 0 and 0 <= metrics["win_rate"] <= 1
    assert all(r.delivered_open == 0 for r in result.strategies.values())
    reports = result.record.config["per_strategy"]
    assert reports["mining"]["traded_under"] == (
        "day-ahead, committed before gate closure D-1 12:00 Europe/Brussels, "
        "filled at clearing; settled: consumed at its value"
    )
    assert reports["technical"]["traded_under"].endswith("settled: at the day-ahead clearing price")
    assert 0 < metrics["battery_perfect_foresight_pct"] <= 100
    assert all(START <= t.ts < START + timedelta(days=DAYS) for t in result.trades)
    assert all(t.trade_id.startswith("bt-test/") for t in result.trades)
    percents = [p.percent for p in progress]
    assert percents == sorted(percents)
    assert progress[-1].state == "finished" and progress[-1].percent == 100.0
    assert len(result.battery_states) == DAYS * 24

    store = SqliteStore(tmp_path / "results.db")
    await store.open()
    await store.save_backtest(result.record)
    await store.save_backtest_trades("bt-test", result.trades)
    assert await store.backtest("bt-test") == result.record
    # The store keeps the fill; product and delivery period travel on the bus.
    kept = [
        msgspec.structs.replace(t, product="", delivery_start=None, delivery_minutes=None)
        for t in result.trades
    ]
    assert await store.backtest_trades("bt-test") == kept
    await store.close()


async def test_the_same_strategies_trade_identically_live_on_a_simclock_and_in_a_backtest(
    price_file,
):
    execution = ExecutionConfig()
    backtest = await run_backtest(
        config(run_id="same", execution=execution),
        ReplayFeed(ReplayConfig(path=str(price_file))),
        every_strategy(),
    )

    # Live: the runtime as the daemon builds it, on a SimClock that really sleeps
    # between instants (one instant per batch), with the same strategies.
    clock = SimClock(START, speed=3600 * 4000)
    manager = StrategyManager(
        every_strategy(),
        ManagerConfig(price_kind=PriceKind.DAY_AHEAD, execution=execution, id_prefix="same/"),
    )
    recorder = BacktestRecorder(config(), clock)
    runtime = Runtime(
        feed=ReplayFeed(ReplayConfig(path=str(price_file))),
        clock=clock,
        bus=MemoryBus(),
        store=ResultsOnlyStore(),
        components=[
            SpreadEngine(SpreadConfig(markets=MARKETS, price_kind=PriceKind.DAY_AHEAD)),
            manager,
            recorder,
        ],
        validation=ValidationConfig(markets=MARKETS),
    )
    for name in ("arbitrage", "battery", "technical", "mining"):
        recorder.take(manager.start(name, now=START, actor="test"))
    stats = await runtime.run()
    recorder.take(manager.stop_all(now=manager.event_now, actor="test", finish_bar=True))
    # What was delivered by the end settles, as a backtest does at its end.
    recorder.take(manager.settle_until(START + timedelta(days=DAYS)))
    await runtime.close()
    assert stats.batches == DAYS * 24  # live pace: one instant at a time

    def key(t: Trade) -> tuple[object, ...]:
        return (t.trade_id, t.ts, t.market, t.side, t.volume_mwh, t.price_eur_mwh, t.pnl_eur)

    live = sorted(recorder.trades, key=lambda t: (t.ts, t.trade_id))
    assert len(live) > 100
    assert [key(t) for t in live] == [key(t) for t in backtest.trades]
    assert [t.reason for t in live] == [t.reason for t in backtest.trades]


async def test_on_day_ahead_history_mining_gets_every_bid_it_wins_and_technical_pays_its_fees(
    price_file,
):
    execution = ExecutionConfig(fee_eur_mwh=0.1)
    result = await run_backtest(
        config(execution=execution),
        ReplayFeed(ReplayConfig(path=str(price_file))),
        [registry.build("mining"), registry.build("technical")],
    )
    frame = pd.read_parquet(price_file)
    # The first gate bar, 2021-01-04 10:00 UTC, commits 2021-01-05 (from 01-04 23:00 UTC).
    first = pd.Timestamp("2021-01-04 23:00", tz="UTC")
    limit = MiningConfig().break_even_eur_mwh - MiningConfig().margin_eur_mwh
    won = frame[(frame.market == "DE") & (frame.timestamp >= first)]
    won = won[won.price_eur_mwh <= limit]
    mining = [t for t in result.trades if t.strategy == "mining" and t.side == "buy"]
    # Every hour it bid for and cleared at or below its limit: filled, at that price.
    assert [(t.delivery_start, t.price_eur_mwh) for t in mining] == [
        (ts.to_pydatetime(), p) for ts, p in zip(won.timestamp, won.price_eur_mwh, strict=True)
    ]
    technical = result.strategies["technical"].figures
    assert technical.fills > 0
    # A position bought or sold in the auction settles at the same price: its fees.
    assert technical.revenue_eur == pytest.approx(-technical.fees_eur)
    assert technical.fees_eur == pytest.approx(0.1 * technical.volume_mwh)
    assert technical.win_rate == 0.0


class Peeker(Strategy):
    """Tries to see ahead: after each DE price it looks at FR, which ticks just after."""

    kind = "peeker"
    wants = (PriceTick,)

    def __init__(self) -> None:
        super().__init__(StrategyConfig())
        self.glimpses: list[tuple[datetime, datetime, datetime | None, float | None]] = []

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        assert isinstance(event, PriceTick)
        if event.market == "DE":
            self.glimpses.append((event.ts, ctx.now, ctx.price_ts("FR"), ctx.price("FR")))


async def test_a_strategy_that_tries_to_peek_ahead_in_a_backtest_fails_to(price_file):
    peeker = Peeker()
    frame = pd.read_parquet(price_file)
    fr = {ts.to_pydatetime(): p for ts, m, p in frame.itertuples(index=False) if m == "FR"}
    await run_backtest(config(inputs=()), ReplayFeed(ReplayConfig(path=str(price_file))), [peeker])
    assert len(peeker.glimpses) == DAYS * 24
    for de_ts, now, fr_ts, fr_price in peeker.glimpses:
        assert now == de_ts  # ten thousand ticks in a batch, and still only the present
        if fr_ts is not None:
            # FR for this hour comes after DE in the feed: what the strategy sees
            # is the hour before, never the price it could profit from knowing.
            assert fr_ts == de_ts - timedelta(hours=1)
            assert fr_price == fr[fr_ts]


async def test_window_feed_cuts_the_stream():
    ticks = [
        PriceTick(
            ts=START + timedelta(hours=h), market="DE", price_eur_mwh=h, kind=PriceKind.DAY_AHEAD
        )
        for h in range(10)
    ]
    feed = WindowFeed(ScriptedFeed([ticks[:3], ticks[3:6], ticks[6:]]), ticks[2].ts, ticks[7].ts)
    clock = SimClock(START)
    got = [[t.price_eur_mwh for t in batch] async for batch in feed.stream(clock)]  # type: ignore[attr-defined]
    assert got == [[2.0], [3.0, 4.0, 5.0], [6.0]]


async def test_a_simulated_market_feeds_the_fundamental_strategy():
    start = datetime(2025, 1, 6, tzinfo=UTC)
    feed = MockFeed(
        MockFeedConfig(markets=MARKETS, tick_interval_s=0, start=start, fast_step_s=900)
    )
    strategies = [
        registry.build("fundamental", {"warmup": 24}),
        registry.build("mining"),
    ]
    result = await run_backtest(
        config(
            start=start,
            end=start + timedelta(days=3),
            price_kind=PriceKind.INTRADAY,
            inputs=("fundamentals",),
        ),
        feed,
        strategies,
    )
    assert result.skipped == {}
    assert {t.strategy for t in result.trades} >= {"mining"}
    assert result.events_in > 3 * 96 * len(MARKETS)
    fundamental = result.strategies["fundamental"]
    if fundamental.figures.fills:  # the simulator may not leave it a gap worth trading
        assert fundamental.traded_under.startswith("continuous intraday until 30 min")


@pytest.mark.skipif(
    not REAL_PRICES.exists(), reason="needs ../shared/data (absent in a fresh clone)"
)
async def test_a_year_of_six_real_markets_backtests_every_strategy():
    # Its speed (the 10 CPU-second target) is bench/backtest_throughput.py's: a
    # timed assertion here failed on a quiet CI box at 10.7 s, and at 11.1 s on the
    # commit that had passed it, so it measured the machine, not the code.
    feed = ReplayFeed(ReplayConfig(path=str(REAL_PRICES)))
    strategies = [registry.build(kind) for kind in registry.KINDS]  # the battery on its MPC
    result = await run_backtest(
        BacktestConfig(
            run_id="bt-year",
            start=datetime(2022, 1, 1, tzinfo=UTC),
            end=datetime(2023, 1, 1, tzinfo=UTC),
            strategies=registry.KINDS,
            data=str(REAL_PRICES),
        ),
        feed,
        strategies,
    )
    assert result.events_in > 45_000  # GB starts on 2022-01-21
    assert {t.strategy for t in result.trades} >= {"technical", "mining"}
    assert result.metrics.battery_perfect_foresight_pct is not None
    assert all(r.delivered_open == 0 for r in result.strategies.values())
