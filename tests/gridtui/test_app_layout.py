"""Layouts at 80×24, 120×40 and 200×50: every table column in full, or dropped whole.

Issue 15: at 80×24 the Strategies header read "Last actio", at 120×40 Trend,
Cost and €/h were cut at the pane's edge, and toasts piled over the tables.
Columns now drop whole, in each table's declared ``DROP_ORDER``.
"""

from __future__ import annotations

import re

import pytest

from gridtui.tui.app import GridApp
from gridtui.tui.widgets.dash_table import DashTable
from gridtui.tui.widgets.notice_area import NoticeArea
from tests.gridtui.test_app import running
from tests.stubs.scripted_client import ScriptedClient, dashboard_script, settle

SIZES = [(80, 24), (120, 40), (200, 50)]
TABLE_PANES = ["prices", "spreads", "strategies", "batteries", "backtests"]


def pane_table(app: GridApp, pane: str) -> DashTable:
    return app.dashboard.pane(pane).query(DashTable).first()


@pytest.mark.parametrize("size", SIZES)
async def test_every_table_shows_whole_columns_only(size):
    async with running(size=size) as (app, pilot, _client):
        for pane in TABLE_PANES:
            app.dashboard.focus_pane(pane)  # at 80×24 one pane shows at a time
            await pilot.pause()
            table = pane_table(app, pane)
            width = table.scrollable_content_region.width
            header = table.render_line(0).text
            labels = [label for _, label, _ in table.COLUMNS]
            shown = re.split(r"\s{2,}", header.strip())  # cells are padded, 2+ spaces apart
            for piece in shown:
                assert piece in labels, f"{pane} at {size}: {header.rstrip()!r} cuts {piece!r}"
            assert shown, f"{pane} at {size}: no column shows"
            assert sum(w + 2 for _, lbl, w in table.COLUMNS if lbl in shown) <= width, (
                f"{pane} at {size}: {header.rstrip()!r} is wider than its {width} columns"
            )
            rows = [table.render_line(y).text for y in range(1, len(table.row_keys) + 1)]
            assert rows and all(len(row) == width for row in rows)
            for row in rows:  # nor is a cell cut short with an ellipsis
                assert "…" not in row, f"{pane} at {size}: {row.rstrip()!r}"


@pytest.mark.parametrize("size", SIZES)
async def test_columns_drop_in_their_declared_order_and_no_more(size):
    async with running(size=size) as (app, pilot, _client):
        for pane in TABLE_PANES:
            app.dashboard.focus_pane(pane)
            await pilot.pause()
            table = pane_table(app, pane)
            keys = [key for key, _, _ in table.COLUMNS]
            dropped = [key for key in keys if key not in table.visible_columns]
            assert set(dropped) == set(table.DROP_ORDER[: len(dropped)])
            if dropped:  # the last one dropped would not have fitted
                last = table.DROP_ORDER[len(dropped) - 1]
                back = [k for k in keys if k in table.visible_columns or k == last]
                widths = dict((key, width) for key, _, width in table.COLUMNS)
                assert sum(widths[k] + 2 for k in back) > table.scrollable_content_region.width


async def test_a_wider_terminal_brings_dropped_columns_back():
    async with running(size=(80, 24)) as (app, pilot, _client):
        app.dashboard.focus_pane("strategies")
        await pilot.pause()
        table = pane_table(app, "strategies")
        assert "last" not in table.visible_columns
        assert "Last" not in table.render_line(0).text
        await pilot.resize_terminal(110, 28)
        await pilot.pause(0.1)
        assert "last" in table.visible_columns
        assert "Last action" in table.render_line(0).text


async def test_notices_take_their_own_lines_and_never_cover_a_table():
    client = ScriptedClient(dashboard_script(), strategies_available=False)
    app = GridApp(client)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        app.dashboard.focus_pane("strategies")
        await pilot.pause()
        pane = app.dashboard.pane("strategies")
        full_height = pane.region.height
        await pilot.press("9", "K", "y")  # three notices: warning, error, information
        await pilot.pause(0.3)
        shown = [t for t in app.screen.query("Toast") if t.display and t.region.area]
        for table in app.dashboard.query(DashTable):
            for toast in shown:
                assert not toast.region.overlaps(table.region), f"a toast covers {table.id}"
        area = app.dashboard.query_one(NoticeArea)
        lines = area.plain_lines
        assert [line[0] for line in lines] == ["ℹ", "✖", "⚠"]  # newest first
        assert "Nothing on key 9" in lines[2] and "Kill switch:" in lines[1]
        assert not area.region.overlaps(pane.region)
        assert pane.region.height < full_height  # the pane gave the notices its lines
        app.notify("short-lived", timeout=0.2)
        await pilot.pause(0.1)
        assert area.plain_lines[0] == "ℹ short-lived"
        await pilot.pause(0.4)
        assert all("short-lived" not in line for line in area.plain_lines)


async def test_at_most_three_notices_show_newest_first():
    async with running(size=(80, 24)) as (app, pilot, _client):
        for n in range(5):
            app.notify(f"notice {n}")
        await pilot.pause(0.1)
        lines = app.dashboard.query_one(NoticeArea).plain_lines
        assert lines == ("ℹ notice 4", "ℹ notice 3", "ℹ notice 2")
