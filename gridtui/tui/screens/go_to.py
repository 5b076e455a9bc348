"""GoToPrompt: the rewind's "go to" prompt — one line, a date and time, Enter goes.

It parses before it lets go (:func:`gridtui.tui.instant.parse_instant`): a
mistyped time keeps the prompt open with the reason and what is accepted. It
dismisses with the UTC instant, or None on Escape.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from gridtui.tui.instant import parse_instant


class GoToPrompt(ModalScreen[datetime | None]):
    """Asks for the instant to rewind to; dismisses with it (UTC) or None."""

    DEFAULT_CSS = """
    GoToPrompt { align: center middle; }
    GoToPrompt > Vertical {
        width: 64; max-width: 100%; height: auto;
        border: heavy $accent; background: $surface; padding: 0 1;
    }
    GoToPrompt #go-to-error { color: $text-error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, zone: ZoneInfo, today: date, span: str) -> None:
        super().__init__()
        self.zone = zone
        self.today = today
        self.span = span

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Rewind to (market time {self.zone.key}, or …Z for UTC)")
            yield Input(placeholder="2025-01-06 14:30", id="go-to-input")
            yield Static(self.span, id="go-to-span")
            yield Static("", id="go-to-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            instant = parse_instant(event.value, self.zone, self.today)
        except ValueError as exc:
            self.query_one("#go-to-error", Static).update(str(exc))
            return
        self.dismiss(instant)

    def action_cancel(self) -> None:
        self.dismiss(None)
