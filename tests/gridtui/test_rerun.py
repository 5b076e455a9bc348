"""Re-run from here, on a real in-process engine: a backtest on the recording, beside live.

The engine runs the simulator on a 360× clock into a temporary SQLite store with
strategies trading live; its feed is teed so the test keeps the prices exactly
as the live engine got them, batch by batch. A re-run from an instant must make
the very trades of a plain :func:`engine.backtest.run.run_backtest` of the same
strategies and config fed those live batches (the Must-show), and the
dashboard's ``R`` key in rewind must end on the comparison screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from engine.backtest.config import BacktestConfig
from engine.backtest.rerun import TradeLine
from engine.backtest.run import run_backtest
from engine.clock import Clock, SimClock
from engine.events import Event, PriceKind, PriceTick, Trade
from engine.ports import Feed
from gridtui.client.in_process import InProcessClient
from gridtui.client.protocol import RerunRequest
from gridtui.settings.loader import Settings, load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.screens.rerun_compare import RerunCompareScreen
from gridtui.tui.screens.rerun_form import RerunForm
from gridtui.wiring import build_feed, build_runtime, build_strategies

# 12:00 in Brussels on a Monday: the day-ahead gate closes now and the results
# come out at 12:45 (11:45 UTC), inside the recording.
START = datetime(2025, 1, 6, 11, 0, tzinfo=UTC)
STRATEGIES = ("technical", "mining")
REPLAYED = (PriceKind.INTRADAY, PriceKind.DAY_AHEAD)


class TeeFeed:
    """The live feed, with every batch's prices kept as the engine got them (and when)."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.batches: list[tuple[datetime, list[PriceTick]]] = []

    @property
    def name(self) -> str:
        return self.feed.name

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        async for batch in self.feed.stream(clock):
            prices = [e for e in batch if isinstance(e, PriceTick) and e.kind in REPLAYED]
            self.batches.append((clock.now(), prices))
            yield batch


class LiveBatchesFeed:
    """The plain backtest's history: the live batches from ``since`` on, on a SimClock.

    What had come out before ``since`` (the day-ahead curves already published)
    goes with the first batch; the clock stands at each batch's intraday instant.
    """

    name = "live-batches"

    def __init__(self, batches: list[tuple[datetime, list[PriceTick]]], since: datetime) -> None:
        self.batches = batches
        self.since = since

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        known: list[Event] = []
        for at, prices in self.batches:
            intraday = [p.ts for p in prices if p.kind is PriceKind.INTRADAY]
            instant = max(intraday) if intraday else at
            if instant < self.since:
                known.extend(prices)
                continue
            clock.advance_to(instant)  # type: ignore[attr-defined]
            yield [*known, *prices]
            known = []


def engine_settings(tmp_path) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "forecast": {"enabled": False},  # the re-run feeds prices only
            "strategies": {"autostart": list(STRATEGIES)},
        },
    )


async def record(client: InProcessClient, until: datetime) -> None:
    """Run the live engine until its clock passes ``until`` and the writer has flushed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60.0
    while client.runtime.clock.now() < until:
        assert loop.time() < deadline, "the live engine did not get there in time"
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # the writer flushes at least once a second


def lines(trades: Sequence[Trade]) -> list[TradeLine]:
    return [TradeLine.of(t) for t in sorted(trades, key=lambda t: (t.ts, t.trade_id))]


async def test_a_rerun_from_an_instant_trades_as_a_backtest_of_the_same_span(tmp_path):
    settings = engine_settings(tmp_path)
    tee = TeeFeed(build_feed(settings))
    client = InProcessClient(
        settings, build_runtime(settings, clock=SimClock(START, speed=360), feed=tee)
    )
    await client.start()
    try:
        await record(client, START + timedelta(minutes=70))
        since = START + timedelta(minutes=15)
        comparison = await client.rerun(RerunRequest(since=since, strategies=STRATEGIES))
        store = client.runtime.store

        # The plain backtest: the same strategies, config and span, fed the live batches.
        config = BacktestConfig(
            run_id="plain",
            start=since,
            end=comparison.until,
            strategies=STRATEGIES,
            markets=settings.markets,
            price_kind=PriceKind.INTRADAY,  # what the simulator's live strategies trade
            execution=settings.strategies.execution,
            spreads=settings.spreads,
            timeline=settings.market,
        )
        plain = await run_backtest(
            config, LiveBatchesFeed(tee.batches, since), build_strategies(settings, STRATEGIES)
        )
        # Stored like any backtest, with the same trades.
        stored = await store.backtest_trades(comparison.run_id, limit=100_000)
        record_ = await store.backtest(comparison.run_id)
    finally:
        await client.close()

    assert plain.trades, "the strategies made no trade: nothing would be compared"
    assert comparison.rerun_trades == lines(plain.trades)
    assert lines(stored) == comparison.rerun_trades
    assert record_ is not None and record_.config["data"] == f"recording from {since.isoformat()}"
    # The re-run covers the recording from the instant to its end, day-ahead curves included.
    assert comparison.since == since and comparison.until > START + timedelta(minutes=70)
    assert comparison.ticks_replayed > 0

    # Live beside re-run: what each side made and the difference between them.
    by_name = {row.strategy: row for row in comparison.strategies}
    assert set(by_name) == set(STRATEGIES)
    for name, row in by_name.items():
        ours = [t for t in plain.trades if t.strategy == name]
        assert row.rerun_trades == len(ours)
        assert row.same_trades + row.only_rerun_count == row.rerun_trades
        assert row.same_trades + row.only_live_count == row.live_trades
        assert row.pnl_diff_eur == pytest.approx(row.rerun_pnl_eur - row.live_pnl_eur)
        assert row.rerun_pnl_eur == pytest.approx(
            sum(t.pnl_eur - t.fee_eur for t in ours), abs=1e-9
        )
    assert any(row.live_trades for row in by_name.values()), "nothing traded live"


async def test_rewind_then_R_shows_live_beside_the_rerun_with_the_difference(tmp_path):
    settings = engine_settings(tmp_path)
    client = InProcessClient(settings, build_runtime(settings, clock=SimClock(START, speed=360)))
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60.0
        while app.model.now is None or app.model.now < START + timedelta(minutes=40):
            assert loop.time() < deadline, "timed out waiting for the engine"
            await pilot.pause(0.05)
        await pilot.pause(1.5)  # the writer flushes at least once a second

        await pilot.press("R")  # live: it says to rewind first
        await pilot.pause()
        assert not isinstance(app.screen, RerunForm)

        await pilot.press("r")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        for key in "2025-01-06 12:10":  # Brussels: 11:10 UTC
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        while app.rewind.at != START + timedelta(minutes=10):
            assert loop.time() < deadline, f"rewind did not get there: {app.rewind.at}"
            await pilot.pause(0.05)

        await pilot.press("R")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RerunForm)
        assert form.at == START + timedelta(minutes=10)
        # The strategies running at the rewound instant are chosen.
        assert form.chosen == STRATEGIES or set(form.chosen) == set(STRATEGIES)
        await pilot.press("ctrl+s")
        while not isinstance(app.screen, RerunCompareScreen):
            assert loop.time() < deadline, "no comparison screen"
            await pilot.pause(0.05)
        screen = app.screen
        view = screen.view
        assert view.since == START + timedelta(minutes=10)
        assert {row.name for row in view.strategies} == set(STRATEGIES)
        table = screen.table()
        shown = [str(cell) for column in table.columns for cell in column.cells]
        for row in view.strategies:
            assert row.name in shown
            assert f"{row.live_pnl_eur:,.2f}" in shown and f"{row.rerun_pnl_eur:,.2f}" in shown
            assert f"{row.pnl_diff_eur:+,.2f}" in shown
        difference = screen.difference_text().plain
        assert f"Difference (re-run − live): {view.pnl_diff_eur:+,.2f} €" in difference
        assert "only live" in difference or "the same" in difference
        # The live side is what the store holds for the span.
        technical = next(r for r in view.strategies if r.name == "technical")
        live = await client.runtime.store.recorded(
            Trade,
            since=view.since,
            until=view.until - timedelta(microseconds=1),
            limit=100_000,
            match={"strategy": "technical"},
        )
        assert technical.live_trades == len(live) > 0
        await pilot.press("escape")
        await pilot.pause()
        assert app.rewind.active  # back on the rewound dashboard
