"""MarketFilter: the ``/`` bar that narrows every pane to some markets.

Type ``de fr`` (commas or spaces; prefixes match, case-blind). The filter
applies as you type; Enter keeps it and returns to the panes, Escape clears it.
It reports upward with its own messages; the screen hands the terms down.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from gridtui.tui.widgets.formatting import parse_market_filter


class MarketFilter(Horizontal):
    """The filter bar (key ``/``): narrows every market table to the typed codes."""

    DEFAULT_CSS = """
    MarketFilter { height: 1; display: none; }
    MarketFilter.-open { display: block; }
    MarketFilter Label { padding: 0 1; }
    MarketFilter Input { border: none; height: 1; padding: 0; width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "Clear filter", show=False)]

    class Changed(Message):
        """The filter terms changed (empty: no filter)."""

        def __init__(self, terms: tuple[str, ...]) -> None:
            super().__init__()
            self.terms = terms

    class Closed(Message):
        """The bar was closed: kept with Enter or cleared with Escape."""

    def compose(self) -> ComposeResult:
        yield Label("Filter markets:")
        yield Input(placeholder="e.g. de fr   (Enter keeps, Esc clears)", id="market-filter-input")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def open(self) -> None:
        self.add_class("-open")
        self.input.cursor_blink = not self.app.is_headless
        self.input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(parse_market_filter(event.value)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.remove_class("-open")
        self.post_message(self.Closed())

    def action_clear(self) -> None:
        self.input.value = ""
        self.remove_class("-open")
        self.post_message(self.Changed(()))
        self.post_message(self.Closed())
