"""The dashboard with 40 markets: rows grouped by region, the filter on region names,
and a spread table that shows the best pairs instead of all 780.

A real engine (the simulator for the first 40 zones of the table, on a 360x
SimClock) drives the app through an InProcessClient; Pilot reads the tables.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from engine.clock import SimClock
from engine.market.zones import ZONES
from gridtui.client.in_process import InProcessClient
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.widgets.price_grid import PriceGrid
from gridtui.tui.widgets.price_table import GROUP_PREFIX, PriceTable
from gridtui.tui.widgets.spread_table import MORE_KEY, SpreadTable
from gridtui.wiring import build_runtime

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
FORTY = [code for code in ZONES if code != "LU"][:40]


async def until(pilot, condition, timeout_s: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


async def test_forty_markets_group_by_region_filter_by_region_and_cap_the_spreads(tmp_path):
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path), "markets": FORTY})
    client = InProcessClient(settings, build_runtime(settings, clock=SimClock(START, speed=360)))
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        prices = app.dashboard.query_one(PriceTable)
        spreads = app.dashboard.query_one(SpreadTable)
        await until(pilot, lambda: len(prices.row_keys) > 40 and len(spreads.row_keys) > 1)

        keys = prices.row_keys
        headers = [key.removeprefix(GROUP_PREFIX) for key in keys if key.startswith(GROUP_PREFIX)]
        assert headers[:3] == ["CWE", "GB/IE", "CEE"] and "Nordic" in headers
        markets = [key for key in keys if not key.startswith(GROUP_PREFIX)]
        assert sorted(markets) == sorted(FORTY)
        # Each market sits under its own region's header.
        region_of = client.info.regions
        current = None
        for key in keys:
            if key.startswith(GROUP_PREFIX):
                current = key.removeprefix(GROUP_PREFIX)
            else:
                assert region_of[key] == current
        assert prices.cell_text("IT-NORD", "market") == "IT-NORD"  # not cut to "IT…"

        # 780 pairs: the best ones, then a line that says how many more there are.
        assert len(spreads.row_keys) == SpreadTable.MAX_ROWS + 1
        assert spreads.row_keys[-1] == MORE_KEY
        assert spreads.cell_text(MORE_KEY, "pair") == f"+{780 - SpreadTable.MAX_ROWS}"

        # The compact grid: every market in a few lines, a block per region.
        grid = app.dashboard.query_one(PriceGrid)
        assert not grid.display
        await pilot.press("m")
        await pilot.pause(0.2)
        assert grid.display and not prices.display
        lines = grid.render().plain.splitlines()
        assert len(lines) < 20  # 40 markets, where the table needs 48 rows
        assert sum(line.startswith("Nordic") for line in lines) == 1
        cells = {word for line in lines for word in line.split()}
        assert set(FORTY) <= cells
        await pilot.press("m")
        await pilot.pause(0.2)
        assert prices.display and not grid.display

        await pilot.press("slash", *"nordic", "enter")
        await until(pilot, lambda: app.dashboard.market_filter == ("NORDIC",))
        await pilot.pause(0.2)
        nordic = {m for m in FORTY if region_of[m] == "Nordic"}
        shown = {key for key in prices.row_keys if not key.startswith(GROUP_PREFIX)}
        assert shown == nordic
        assert all(
            {a, b} & nordic
            for a, b in (key.split("|") for key in spreads.row_keys if key != MORE_KEY)
        )
