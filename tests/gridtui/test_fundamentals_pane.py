"""The Fundamentals pane: load, wind, solar, residual load and the fundamental strategy's inputs.

Folded from the events the simulator and the ENTSO-E feed publish; the Pilot
tests run the real app and read what the pane shows. The simulator test runs
the real mock feed, so the pane is shown to follow what it really sends.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from engine.clock import SimClock
from engine.events import Fundamentals, OpenPosition, StrategyStatus
from engine.strategies.fundamental import fundamental_inputs
from feeds.mock.config import MockFeedConfig
from feeds.mock.feed import MockFeed
from feeds.replay_fundamentals import load_fundamentals
from gridtui.client.in_process import InProcessClient
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.widgets.fundamentals_chart import FundamentalsChart
from gridtui.tui.widgets.fundamentals_table import FundamentalsTable
from tests.feeds.test_replay_fundamentals import fetch_real_history, needs_real
from tests.stubs.scripted_client import ScriptedClient, settle

T0 = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)


def drivers(market: str, minutes: int, load: float, wind: float, solar: float) -> Fundamentals:
    return Fundamentals(
        ts=T0 + timedelta(minutes=minutes),
        market=market,
        load_mw=load,
        wind_mw=wind,
        solar_mw=solar,
        source="mock",
    )


def row(model: DashboardModel, market: str):
    return next(f for f in model.snapshot().fundamentals if f.market == market)


def test_residual_load_and_the_newest_interval_per_market() -> None:
    model = DashboardModel(["DE", "FR"])
    assert model.snapshot().fundamentals == ()
    model.apply(
        [drivers("DE", 0, 60_000, 20_000, 10_000), drivers("DE", 15, 62_000, 21_000, 9_000)]
    )
    model.apply([drivers("DE", 5, 1.0, 1.0, 1.0)])  # late: the newer interval stays
    de = row(model, "DE")
    assert (de.load_mw, de.wind_mw, de.solar_mw) == (62_000, 21_000, 9_000)
    assert de.residual_mw == 62_000 - 21_000 - 9_000
    assert row(model, "FR").load_mw is None  # configured, nothing yet
    chart = model.snapshot().fundamentals_charts["DE"]
    assert [p[0] for p in chart.points] == [
        (T0 + timedelta(minutes=m)).timestamp() for m in (0, 15)
    ]


def test_the_strategy_inputs_are_the_strategys_own() -> None:
    model = DashboardModel(["DE"])
    event = drivers("DE", 0, 50_000, 30_000, 10_000)
    model.apply([event])
    assert row(model, "DE").strategy_share is None  # no fundamental strategy reports
    position = OpenPosition(
        market="DE", product="intraday", delivery_start=T0, delivery_minutes=60, net_mwh=-10.0
    )
    model.apply(
        [StrategyStatus(ts=T0, strategy="fundamental", state="running", positions=(position,))]
    )
    de = row(model, "DE")
    assert (de.strategy_share, de.strategy_load_gw) == fundamental_inputs(event) == (0.8, 50.0)
    assert de.strategy_line == "running, -10.0 MWh"


async def test_the_pane_lights_up_and_charts_the_highlighted_market() -> None:
    client = ScriptedClient([drivers("DE", 0, 60_000, 20_000, 10_000)], markets=("DE", "FR"))
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = app.dashboard
        assert not screen.pane("fundamentals").empty
        table = screen.query_one(FundamentalsTable)
        assert table.cell_text("DE", "residual").strip() == "30,000"
        assert table.cell_text("FR", "load").strip() == "—"
        assert table.cell_text("DE", "load_forecast").strip() == "—"  # the feed sent none
        chart = screen.query_one(FundamentalsChart)
        assert chart.series is not None and chart.series.market == "DE"
        with_forecast = msgspec.structs.replace(
            drivers("DE", 15, 61_000, 0, 0), load_forecast_mw=60_250.0
        )
        client.push([drivers("FR", 15, 50_000, 5_000, 4_000), with_forecast])
        await settle(pilot)
        assert table.cell_text("DE", "residual").strip() == "61,000"
        assert table.cell_text("DE", "load_forecast").strip() == "60,250"
        screen.focus_pane("fundamentals")
        await pilot.press("down")  # highlight FR: the chart follows
        await pilot.pause()
        assert table.cursor_key == "FR" and chart.series.market == "FR"


async def test_the_pane_says_what_will_appear_before_any_fundamentals() -> None:
    app = GridApp(ScriptedClient([], markets=("DE",)))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        pane = app.dashboard.pane("fundamentals")
        assert pane.empty and "load, wind, solar" in str(pane.empty_state.render()).lower()


@pytest.mark.parametrize("markets", [("DE", "FR")])
async def test_the_simulator_fills_the_pane(markets: tuple[str, ...]) -> None:
    feed = MockFeed(MockFeedConfig(markets=markets, tick_interval_s=0, start=T0))
    model = DashboardModel(markets)
    seen: list[Fundamentals] = []
    stream = feed.stream(SimClock(T0))
    async for batch in stream:
        model.apply(batch)
        seen += [e for e in batch if isinstance(e, Fundamentals)]
        if len({e.ts for e in seen}) >= 2:
            break
    await stream.aclose()
    newest = {e.market: e for e in seen}
    for market in markets:
        shown = row(model, market)
        sent = newest[market]
        assert (shown.load_mw, shown.wind_mw, shown.solar_mw) == (
            sent.load_mw,
            sent.wind_mw,
            sent.solar_mw,
        )
        assert shown.residual_mw == pytest.approx(sent.load_mw - sent.wind_mw - sent.solar_mw)


@needs_real
async def test_a_replay_of_fetched_entsoe_fundamentals_fills_the_pane(tmp_path) -> None:
    files = await fetch_real_history(tmp_path / "history.parquet")
    fundamentals = [str(files[d]) for d in ("load", "generation", "load_forecast")]
    settings = load_settings(
        overrides={
            "data_dir": str(tmp_path / "data"),
            "markets": ["DE"],
            "feed": {
                "kind": "replay",
                "path": str(files["prices"]),
                "fundamentals": fundamentals,
                "speed": 0,
            },
        },
    )
    sent = load_fundamentals(fundamentals, ["DE"]).events
    newest = sent[-1]
    app = GridApp(InProcessClient(settings), ui=settings.ui, keys=settings.keys)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.dashboard
        async with asyncio.timeout(30):
            # Until the app has its markets the pane has no DE row yet.
            while newest.ts not in {f.ts for f in app.model.snapshot().fundamentals}:
                await pilot.pause(0.05)
        await pilot.pause(0.2)
        shown = row(app.model, "DE")
        assert (shown.load_mw, shown.wind_mw, shown.solar_mw) == (
            newest.load_mw,
            newest.wind_mw,
            newest.solar_mw,
        )
        assert shown.residual_mw == pytest.approx(newest.load_mw - newest.wind_mw - newest.solar_mw)
        assert shown.source == "replay"
        assert not screen.pane("fundamentals").empty
        table = screen.query_one(FundamentalsTable)
        assert table.cell_text("DE", "load").strip() == f"{newest.load_mw:,.0f}"
        assert table.cell_text("DE", "residual").strip() == f"{shown.residual_mw:,.0f}"
        # The chart holds the last day of what the replay sent, hour by hour.
        chart = app.model.snapshot().fundamentals_charts["DE"]
        assert [p[0] for p in chart.points][-1] == newest.ts.timestamp()
        assert len(chart.points) == len(
            [e for e in sent if e.ts >= newest.ts - timedelta(hours=24)]
        )
