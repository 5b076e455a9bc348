"""Pane: a titled dashboard pane with a body and a clear empty state.

Panes whose engine parts have not arrived yet show what will appear there and
why it is empty; they light up on the first event. The focus ring (a heavy
border, not only a colour) shows which pane the keys act on.
"""

from __future__ import annotations

from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static


class Pane(Vertical):
    """A bordered dashboard pane: its body, and an empty-state text while it has nothing to show."""

    ALLOW_MAXIMIZE = True

    empty: reactive[bool] = reactive(True)

    def __init__(self, *body: Widget, title: str, empty_text: str, id: str) -> None:
        self.empty_state = Static(empty_text, classes="empty-state")
        super().__init__(*body, self.empty_state, id=id)
        self.border_title = title
        self.pane_title = title

    def watch_empty(self, empty: bool) -> None:
        self.set_class(empty, "-empty")
