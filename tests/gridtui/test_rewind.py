"""Rewind (the flight recorder) on a real in-process engine: every pane at a recorded instant.

The engine runs the simulator on a 360× clock into a temporary SQLite store;
the dashboard is rewound with its keys and each pane's figures are checked
against what the store holds at that instant, then it returns to live.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import SimClock
from engine.events import (
    Alert,
    BatteryState,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
    StrategyStatus,
)
from gridtui.client.in_process import InProcessClient
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.instant import parse_instant
from gridtui.tui.widgets.alert_log import AlertLog
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.tui.widgets.status_bar import StatusBar
from gridtui.wiring import build_runtime

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # 10:00 in Brussels


def status_line(app: GridApp) -> str:
    return app.dashboard.query_one(StatusBar).render().plain


async def until(pilot, condition, timeout_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


async def settled(app: GridApp, pilot) -> None:
    await pilot.pause()
    # Only the rewind workers: an empty list would wait for every worker, the engine's too.
    rewinding = [w for w in app.workers if w.group == "rewind"]
    if rewinding:
        await app.workers.wait_for_complete(rewinding)
    await pilot.pause()


@pytest.fixture
def client(tmp_path):
    settings = load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path), "strategies": {"autostart": ["battery"]}},
    )
    return InProcessClient(settings, build_runtime(settings, clock=SimClock(START, speed=360)))


async def newest(store, event_type, at, **match):
    found = await store.recorded(event_type, until=at, limit=1, match=match)
    return found[0] if found else None


async def test_rewind_shows_the_stored_state_of_every_pane_then_returns_to_live(client):
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(
            pilot,
            lambda: app.model.now is not None and app.model.now > START + timedelta(minutes=40),
        )
        store = client.runtime.store
        await pilot.pause(1.5)  # the writer flushes at least once a second

        await pilot.press("r")
        await settled(app, pilot)
        assert app.rewind.active and "◀◀ REWIND" in status_line(app)
        entered = app.rewind.at
        assert entered is not None

        # "go to" in market time: 10:20 Brussels is 09:20 UTC.
        await pilot.press("g")
        await pilot.pause()
        for key in "2025-01-06 10:20":
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await settled(app, pilot)
        at = START + timedelta(minutes=20)
        assert app.rewind.at == at
        assert "2025-01-06 10:20 CET · 09:20 UTC" in status_line(app), status_line(app)

        snapshot = app.dashboard.snapshot
        assert snapshot.now == at
        markets = client.info.markets
        for view in snapshot.markets:
            stored = await newest(store, PriceTick, at, market=view.market, kind="intraday")
            assert stored is not None and view.price_eur_mwh == stored.price_eur_mwh
            shown = app.dashboard.query_one(PriceTable).cell_text(view.market, "price")
            assert f"{stored.price_eur_mwh:,.2f}" in shown
        for view in snapshot.markets:  # forecasts: only ones issued by then
            if view.forecast_eur_mwh is not None:
                issued = await store.recorded(
                    Forecast, until=at, limit=96, match={"market": view.market}
                )
                assert view.forecast_eur_mwh in {f.price_eur_mwh for f in issued}
            if view.day_ahead_eur_mwh is not None:  # day-ahead: only a published auction's
                published = await store.price_history(
                    view.market, end=at + timedelta(hours=1), kind=PriceKind.DAY_AHEAD, limit=10
                )
                assert view.day_ahead_eur_mwh in {t.price_eur_mwh for t in published}
        assert any(v.forecast_eur_mwh is not None for v in snapshot.markets) or not (
            await store.recorded(Forecast, until=at, limit=1)
        )
        for battery in snapshot.batteries:
            stored = await newest(store, BatteryState, at, battery_id=battery.battery_id)
            assert stored is not None
            assert (battery.soc_mwh, battery.revenue_eur) == (stored.soc_mwh, stored.revenue_eur)
        assert snapshot.batteries or not await store.recorded_keys(BatteryState, "battery_id")
        strategies = await store.recorded_keys(StrategyStatus, "strategy")
        assert {s.name for s in snapshot.strategies} == set(strategies)
        for strategy in snapshot.strategies:
            stored = await newest(store, StrategyStatus, at, strategy=strategy.name)
            assert stored is not None
            held: dict[str, float] = {}  # its positions then, per market
            for position in stored.positions:
                held[position.market] = held.get(position.market, 0.0) + position.net_mwh
            assert dict(strategy.open_mwh) == {m: v for m, v in held.items() if abs(v) >= 1e-9}
            assert (strategy.state, strategy.pnl_eur, strategy.trades) == (
                stored.state,
                stored.pnl_eur,
                stored.trades,
            )
        open_pairs = set()
        for buy in markets:
            for sell in markets:
                if buy != sell:
                    found = await newest(
                        store, SpreadOpportunity, at, buy_market=buy, sell_market=sell
                    )
                    if found is not None and found.status is not OpportunityStatus.CLOSED:
                        open_pairs.add((buy, sell))
        assert {(s.buy_market, s.sell_market) for s in snapshot.spreads if s.is_open} == open_pairs
        alerts = await store.recorded(Alert, until=at, limit=100)
        assert [(a.rule, a.ts) for a in snapshot.alerts][: len(alerts)] == [
            (a.rule, a.ts) for a in alerts
        ][: len(snapshot.alerts)]
        assert all(a.ts <= at for a in snapshot.alerts)
        log = app.dashboard.query_one(AlertLog)  # started over: the live lines are gone
        assert log.frame == at.isoformat()
        assert log.last_seq == max((a.seq for a in snapshot.alerts), default=0)

        # One tick back lands on the previous recorded tick.
        await pilot.press("comma")
        await settled(app, pilot)
        assert app.rewind.at is not None and app.rewind.at < at
        previous = await store.recorded(
            PriceTick,
            until=at - timedelta(microseconds=1),
            limit=1,
            match={"market": markets[0], "kind": PriceKind.INTRADAY.value},
        )
        assert app.rewind.at == previous[0].ts

        # Back to live: the live stream was folded all along.
        await pilot.press("r")
        await pilot.pause(0.3)
        assert not app.rewind.active
        assert "REWIND" not in status_line(app)
        assert log.frame == "live"
        live_now = app.dashboard.snapshot.now
        assert live_now is not None and live_now >= entered


async def test_rewinding_before_the_recording_stops_at_its_start(client):
    app = GridApp(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(
            pilot,
            lambda: app.model.now is not None and app.model.now > START + timedelta(minutes=5),
        )
        await pilot.pause(1.5)  # the writer flushes at least once a second
        await pilot.press("left_curly_bracket")  # a day back: before the first tick
        await settled(app, pilot)
        span = await client.recording_span()
        assert span is not None and app.rewind.at == span.first
        assert any("recording starts" in n.message for n in app._notifications)


def test_the_go_to_prompt_reads_market_time_utc_and_offsets():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Brussels")
    day = datetime(2025, 7, 1).date()
    assert parse_instant("2025-07-01 14:30", zone, day) == datetime(2025, 7, 1, 12, 30, tzinfo=UTC)
    assert parse_instant("2025-07-01 14:30Z", zone, day) == datetime(2025, 7, 1, 14, 30, tzinfo=UTC)
    assert parse_instant("2025-07-01T14:30+01:00", zone, day) == datetime(
        2025, 7, 1, 13, 30, tzinfo=UTC
    )
    assert parse_instant("08:00", zone, day) == datetime(2025, 7, 1, 6, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"'yesterday' is not a time.*2025-01-06 14:30"):
        parse_instant("yesterday", zone, day)
