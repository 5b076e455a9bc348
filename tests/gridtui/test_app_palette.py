"""The command palette (Ctrl+P) and every text the dashboard hands Textual's markup parser.

Textual reads command names and help, binding descriptions and tooltips, toast
messages and Static text as *content markup*: a ``[`` starts a tag, so a help text
that names the filter key ``[/]`` crashed the app the moment Ctrl+P opened
(issue 15). The texts here are collected from the running app — its bindings,
its palette, its help rows, its panes' empty states, the toasts its actions
raise — never from a hand-written list, so a new text is checked the day it lands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from textual.binding import Binding
from textual.command import CommandPalette
from textual.content import Content
from textual.dom import DOMNode
from textual.notifications import SeverityLevel

from gridtui.tui.app import GridApp
from gridtui.tui.keymap import COMMANDS
from gridtui.tui.messages import EngineStopped
from gridtui.tui.screens.backtest_form import BacktestForm
from gridtui.tui.screens.help import HelpScreen
from gridtui.tui.widgets.formatting import literal_markup
from gridtui.tui.widgets.market_filter import MarketFilter
from gridtui.tui.widgets.notice_area import NoticeArea
from gridtui.tui.widgets.pane import Pane
from tests.gridtui.test_app import current, running
from tests.stubs.scripted_client import ScriptedClient, dashboard_script, settle

WORD = re.compile(r"\w+")


def parsed_plain(text: str, where: str) -> str:
    """``text`` through Textual's markup parser; fails naming ``where`` on a markup error."""
    try:
        return Content.from_markup(text).plain
    except Exception as exc:  # MarkupError and the tokenizer's own errors
        raise AssertionError(f"{where}: {text!r} is not valid markup: {exc}") from exc


def assert_reads_as_written(text: str, where: str, literal: str | None = None) -> None:
    """Parses, and no word vanished into a tag ("Kill [K]" reads "Kill ")."""
    plain = parsed_plain(text, where)
    meant = text if literal is None else literal
    lost = set(WORD.findall(meant)) - set(WORD.findall(plain))
    assert not lost, f"{where}: {text!r} shows as {plain!r}; lost {sorted(lost)}"


def binding_texts(node: DOMNode | type[DOMNode]) -> Iterator[tuple[str, str]]:
    for binding in node.BINDINGS:
        if isinstance(binding, Binding):
            yield f"{getattr(node, '__name__', type(node).__name__)} binding", binding.description
            if binding.tooltip:
                yield f"{binding.key} tooltip", binding.tooltip


async def test_ctrl_p_opens_the_palette_and_runs_an_action_from_it():
    """Issue 15: Ctrl+P crashed with MarkupError from the filter's "[/]" help text."""
    async with running() as (app, pilot, _client):
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert isinstance(current(app), CommandPalette)
        await pilot.press(*"Filter")
        await pilot.pause(0.3)  # the palette searches in a worker
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert current(app) is app.dashboard
        assert app.dashboard.query_one(MarketFilter).display  # the action ran
        assert app.is_running


async def test_every_palette_entry_reads_as_written():
    async with running() as (app, _pilot, _client):
        commands = list(app.get_system_commands(app.dashboard))
        assert len(commands) >= len(COMMANDS)
        for command in commands:
            assert_reads_as_written(command.title, "palette name")
            if command.help:
                assert_reads_as_written(command.help, f"palette help of {command.title}")
        helps = {parsed_plain(c.help, "palette help") for c in commands}
        assert any(help_text.endswith("[/]") for help_text in helps)  # the filter key, shown


async def test_every_binding_help_row_and_empty_text_reads_as_written():
    async with running() as (app, pilot, _client):
        nodes: list[Any] = [app, *app.dashboard.walk_children(with_self=True)]
        texts = [item for node in nodes for item in binding_texts(node)]
        texts += [item for screen in (HelpScreen, BacktestForm) for item in binding_texts(screen)]
        for node in app.dashboard.query(Pane):
            texts.append((f"empty text of {node.id}", str(node.empty_state.content)))
        for keys, what in app.help_rows():
            texts += [("help keys", keys), ("help text", what)]
        assert len(texts) > 40
        for where, text in texts:
            assert_reads_as_written(text, where)
        await pilot.press("question_mark")
        assert isinstance(current(app), HelpScreen)


class RecordingApp(GridApp):
    """GridApp that keeps every toast it raised, with its markup flag."""

    def __init__(self, client: ScriptedClient) -> None:
        super().__init__(client)
        self.toasts: list[tuple[str, str, bool]] = []

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        self.toasts.append((message, title, markup))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)


async def test_every_toast_an_action_raises_reads_as_written():
    """Every palette action runs once (and its toasts are parsed); bracketed engine text too."""
    app = RecordingApp(ScriptedClient(dashboard_script(), strategies_available=False))
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await settle(pilot)
        skip = {"Quit", "Command palette", "Quit the application"}
        for command in list(app.get_system_commands(app.dashboard)):
            if command.title in skip or "screenshot" in command.title.lower():
                continue
            result = command.callback()
            if result is not None:
                await result
            await pilot.pause(0.05)
            while current(app) is not app.dashboard:
                await pilot.press("escape")  # close what it opened (help, form, palette…)
                await pilot.pause(0.05)
        reason = "replay file x.csv: no column [/] named [K]"
        app.post_message(EngineStopped(reason))
        await pilot.pause(0.2)
        assert app.is_running  # the toast rendered; no MarkupError ended the app
        assert len(app.toasts) >= 3
        for message, title, markup in app.toasts:
            shown = message if markup else literal_markup(message)
            assert_reads_as_written(shown, f"toast {title!r}", literal=message)
        assert (reason, "Engine stopped", False) in app.toasts
        notices = app.dashboard.query_one(NoticeArea).plain_lines
        assert f"✖ Engine stopped: {reason}" in notices  # as written, brackets and all


@given(st.text(st.characters(exclude_categories=("Cc", "Cs"))))
def test_literal_markup_shows_any_text_as_it_is(text):
    assert Content.from_markup(literal_markup(text)).plain == text
