"""The re-run form: what it accepts, what it refuses (naming the field), what it hands on."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from textual.widgets import Input, Static

from gridtui.client.protocol import RerunRequest
from gridtui.tui.app import GridApp
from gridtui.tui.screens.rerun_form import RerunForm
from tests.stubs.scripted_client import ScriptedClient, dashboard_script

AT = datetime(2025, 1, 6, 11, 10, tzinfo=UTC)  # 12:10 in Brussels
BRUSSELS = ZoneInfo("Europe/Brussels")


async def test_the_form_refuses_bad_fields_then_hands_on_the_request():
    client = ScriptedClient(dashboard_script())
    app = GridApp(client)
    answers: list[RerunRequest | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        form = RerunForm(
            at=AT, zone=BRUSSELS, strategies=("technical", "battery"), chosen=("technical",)
        )
        app.push_screen(form, answers.append)
        await pilot.pause()
        assert form.query_one("#since", Input).value == "2025-01-06 12:10:00"
        assert form.query_one("#strategies", Input).value == "technical"

        form.query_one("#since", Input).value = "yesterday-ish"
        form.query_one("#until", Input).value = "2025-01-06 12:00"
        form.query_one("#strategies", Input).value = "technical, crystal-ball"
        form.query_one("#settings", Input).value = "technical.indicator"
        await pilot.press("ctrl+s")
        await pilot.pause()
        shown = str(form.query_one("#form-errors", Static).render())
        assert "From: 'yesterday-ish' is not a time" in shown
        assert "unknown crystal-ball (known: technical, battery)" in shown
        assert "'technical.indicator' is not strategy.field=value" in shown
        assert answers == []

        form.query_one("#since", Input).value = "2025-01-06 12:10"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "To must come after From" in str(form.query_one("#form-errors", Static).render())

        form.query_one("#until", Input).value = "11:40Z"
        form.query_one("#strategies", Input).value = "technical, battery"
        form.query_one("#settings", Input).value = "technical.indicator=rsi, battery.controller=mpc"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert answers == [
        RerunRequest(
            since=AT,
            until=datetime(2025, 1, 6, 11, 40, tzinfo=UTC),
            strategies=("technical", "battery"),
            settings={"technical.indicator": "rsi", "battery.controller": "mpc"},
        )
    ]


async def test_an_engine_that_cannot_rerun_says_so():
    client = ScriptedClient(dashboard_script())
    app = GridApp(client)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.reruns.run(RerunRequest(since=AT, strategies=("technical",)))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("records nothing to re-run" in m for m in messages), messages
        assert client.calls[-1][0] == "rerun"
        assert not app.rewind.active
