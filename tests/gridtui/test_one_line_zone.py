"""A zone added by one config line reaches the simulator, the spreads, the TUI and the API.

``markets = [..., "CH"]`` names a zone of the built-in table; ``[zones.XK]`` adds
one it does not know (Kosovo, with its EIC code, region and border). The real
engine (``build_runtime`` on a 360x SimClock) runs the simulator with them; the
dashboard (Pilot) and the daemon's ``/api/prices/latest`` (aiohttp's test client,
on the same runtime) show them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer

from engine.clock import SimClock
from engine.events import PriceKind, PriceTick, SpreadOpportunity
from engine.spreads.engine import SpreadEngine
from gridtui.client.in_process import InProcessClient
from gridtui.daemon.app import create_app
from gridtui.daemon.auth import TokenAuth
from gridtui.daemon.state import DaemonEngine
from gridtui.settings.loader import Settings, load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.wiring import build_feed, build_runtime

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SIX = ["DE", "FR", "NL", "BE", "AT", "GB"]
CONFIG = (
    'markets = ["DE", "FR", "NL", "BE", "AT", "GB", "CH", "RS", "XK"]\n'
    "[zones.XK]\n"
    'eic = "10Y1001C--00100H"\n'
    'region = "SEE"\n'
    'neighbours = ["RS"]\n'
)


def settings_with_zones(tmp_path, **overrides) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    return load_settings(config, environ={}, overrides={"data_dir": str(tmp_path), **overrides})


def test_the_config_line_reaches_the_spreads_and_their_real_borders(tmp_path):
    settings = settings_with_zones(tmp_path)
    assert settings.spreads.markets[-3:] == ("CH", "RS", "XK")
    rights = settings.spreads.transmission
    assert rights is not None
    for border in ("DE-CH", "FR-CH", "AT-CH", "RS-XK"):
        assert border in rights.borders
        assert border in settings.strategies.arbitrage.transmission.borders
    # Trading stays on real borders: no right between zones without an interconnector.
    assert not rights.has_border("NL", "CH") and not rights.has_border("CH", "XK")
    engine = SpreadEngine(settings.spreads)
    assert engine.pair_count() == 9 * 8 // 2
    costs = settings.spreads.cost_matrix_eur_mwh()
    assert costs["DE", "CH"] == settings.spreads.default_transmission_cost_eur_mwh


async def test_the_simulator_emits_ticks_for_the_new_zones_and_spreads_pair_them(tmp_path):
    settings = settings_with_zones(tmp_path, feed={"tick_interval_s": 0, "start": START})
    feed = build_feed(settings)
    engine = SpreadEngine(settings.spreads)
    seen: dict[str, int] = {}
    opportunities: list[SpreadOpportunity] = []
    stream = feed.stream(SimClock(START))
    async for batch in stream:
        for event in batch:
            if isinstance(event, PriceTick) and event.kind is PriceKind.INTRADAY:
                seen[event.market] = seen.get(event.market, 0) + 1
                opportunities += engine.on_tick(event)
        if sum(seen.values()) > 20_000:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert set(seen) == set(settings.markets)
    assert min(seen.values()) > 1000
    pairs = {frozenset((o.buy_market, o.sell_market)) for o in opportunities}
    assert any("CH" in pair for pair in pairs)
    assert any("XK" in pair for pair in pairs)
    # A right is priced only where there is a border: CH-DE yes, CH-XK never.
    priced = {
        frozenset((o.buy_market, o.sell_market))
        for o in opportunities
        if o.right_price_eur_mwh is not None
    }
    assert frozenset(("CH", "XK")) not in priced


async def test_the_dashboard_and_the_api_show_the_new_zones(tmp_path):
    settings = settings_with_zones(tmp_path)
    client = InProcessClient(settings, build_runtime(settings, clock=SimClock(START, speed=360)))
    app = GridApp(client)
    async with app.run_test(size=(160, 60)) as pilot:
        table = app.dashboard.query_one(PriceTable)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30

        def priced(market: str) -> bool:
            return market in table.row_keys and any(
                char.isdigit() for char in table.cell_text(market, "price")
            )

        while not (priced("CH") and priced("XK")):
            assert loop.time() < deadline, "no CH/XK price in the table"
            await pilot.pause(0.05)
        assert "CH" in table.cell_text("CH", "market")

        engine = DaemonEngine(
            runtime=client.runtime,
            client=client,
            settings=settings,
            started_monotonic=client.runtime.clock.monotonic(),
        )
        auth, _ = TokenAuth.load_or_create(tmp_path / "api-token")
        http = TestClient(TestServer(create_app(engine, settings.api, auth)))
        await http.start_server()
        try:
            response = await http.get("/api/prices/latest")
            assert response.status == 200, await response.text()
            found = await response.json()
        finally:
            await http.close()
    by_market = {row["market"]: row for row in found["markets"]}
    assert {"CH", "XK", *SIX} <= set(by_market)
    assert by_market["CH"]["kind"] == "intraday"
    assert datetime.fromisoformat(by_market["XK"]["timestamp"]) > START - timedelta(minutes=1)
