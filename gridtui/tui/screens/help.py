"""HelpScreen: every key the dashboard answers to, generated from the live key map.

The rows come from the same table that builds the bindings, so keys changed in
the TOML config show here as they are. Escape, ``q`` or the help key close it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """The ``?`` screen: every key and what it does, from the keymap."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: heavy $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1,enter", "dismiss", "Close help"),
    ]

    def __init__(self, rows: Sequence[tuple[str, str]]) -> None:
        """``rows``: ``(keys, what they do)``; a row with empty keys is a section heading."""
        super().__init__()
        self.rows = tuple(rows)

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows:
            if not keys:
                table.add_row("", Text(what, style="bold underline"))
            else:
                table.add_row(keys, what)
        with VerticalScroll() as scroll:
            scroll.border_title = "gridtui keys"
            scroll.border_subtitle = "Esc closes"
            yield Static(table)
