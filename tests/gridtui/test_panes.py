"""The dashboard's panes come from one list, :data:`gridtui.tui.panes.PANES`.

A pane added there must show up everywhere a pane does — in the grid, in the
tab strip, in Tab order and in the command palette — and be fed by its own
``show``, with no other table in the screen to edit.
"""

from __future__ import annotations

import pytest
from textual.widget import Widget
from textual.widgets import Static

from gridtui.tui import app as app_module
from gridtui.tui.panes import PANES, PaneSpec
from gridtui.tui.screens import dashboard as dashboard_module
from gridtui.tui.views import DashboardSnapshot
from gridtui.tui.widgets.alert_log import AlertLog
from gridtui.tui.widgets.pane import Pane
from gridtui.tui.widgets.pane_tabs import PaneTabs
from tests.gridtui.test_app import running


async def test_every_declared_pane_is_built_in_order_with_its_title_and_empty_text():
    async with running(size=(80, 24)) as (app, _pilot, _client):
        panes = list(app.dashboard.query(Pane))
        assert [p.id for p in panes] == [spec.id for spec in PANES]
        assert [p.border_title for p in panes] == [spec.title for spec in PANES]
        assert [str(p.empty_state.content) for p in panes] == [spec.empty_text for spec in PANES]
        tabs = app.dashboard.query_one(PaneTabs)
        assert tabs.titles == tuple((spec.id, spec.title) for spec in PANES)


def _show_alert_count(pane: Widget, snapshot: DashboardSnapshot, _selected_market: str) -> bool:
    pane.query_one("#alert-count", Static).update(f"{len(snapshot.alerts)} alerts")
    return not snapshot.alerts


ALERT_COUNT = PaneSpec(
    id="alert-count",
    title="Alert count",
    empty_text="No alerts to count.",
    # A log, as focus_pane gives the keys to a pane's table or log.
    body=lambda zone: (Static(id="alert-count"), AlertLog(id="counted-alerts", market_zone=zone)),
    show=_show_alert_count,
)


async def test_a_pane_added_to_the_list_is_built_tabbed_offered_and_fed(
    monkeypatch: pytest.MonkeyPatch,
):
    extended = (*PANES, ALERT_COUNT)
    monkeypatch.setattr(dashboard_module, "PANES", extended)
    monkeypatch.setattr(app_module, "PANES", extended)
    async with running(size=(80, 24)) as (app, pilot, _client):
        screen = app.dashboard
        pane = screen.pane("alert-count")
        assert pane.border_title == "Alert count"
        assert ("alert-count", "Alert count") in screen.query_one(PaneTabs).titles
        assert screen.snapshot.alerts, "the dashboard script raises alerts"
        assert not pane.empty
        shown = str(pane.query_one("#alert-count", Static).content)
        assert shown == f"{len(screen.snapshot.alerts)} alerts"

        screen.focus_pane(PANES[-1].id)
        await pilot.press("tab")
        assert screen.current_pane == "alert-count"

        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Go to Alert count" in titles
