"""BacktestForm: the new-backtest form — date range, strategies, data source.

It validates before it lets go: dates in ISO form with From <= To, at least one
strategy, only strategies the engine knows when it knows any. It dismisses with
a :class:`~gridtui.client.protocol.BacktestRequest` (or None when cancelled); the app
hands that to the engine client and shows what the engine answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from gridtui.client.protocol import BacktestRequest
from gridtui.tui.screens.request_form import RequestForm

DATA_SOURCES: tuple[tuple[str, str], ...] = (
    ("mock simulator", "mock"),
    ("stored history (replay)", "replay"),
)


class BacktestForm(RequestForm[BacktestRequest]):
    """The new-backtest form (key ``b``): data, days and strategies; dismisses with a
    BacktestRequest or None.
    """

    DEFAULT_CSS = """
    BacktestForm { align: center middle; }
    BacktestForm > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: heavy $accent; background: $surface; padding: 0 1;
    }
    BacktestForm Label { margin-top: 1; }
    BacktestForm Input, BacktestForm Select { width: 1fr; }
    BacktestForm #form-errors { color: $text-error; height: auto; margin-top: 1; }
    BacktestForm Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    BacktestForm Button { margin-left: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Start backtest"),
    ]

    def __init__(self, *, today: date | None, strategies: Sequence[str]) -> None:
        super().__init__()
        self.today = today
        self.known_strategies = tuple(strategies)

    def compose(self) -> ComposeResult:
        start = end = ""
        if self.today is not None:
            start = (self.today - timedelta(days=7)).isoformat()
            end = (self.today - timedelta(days=1)).isoformat()
        hint = (
            "known: " + ", ".join(self.known_strategies)
            if self.known_strategies
            else "names, comma separated"
        )
        with Vertical() as form:
            form.border_title = "New backtest"
            form.border_subtitle = "Ctrl+S starts · Esc cancels"
            yield Label("From (YYYY-MM-DD, first delivery day)")
            yield self._input(start, "2024-01-01", "start")
            yield Label("To (YYYY-MM-DD, last delivery day, included)")
            yield self._input(end, "2024-01-31", "end")
            yield Label("Strategies")
            yield self._input(", ".join(self.known_strategies), hint, "strategies")
            yield Label("Data")
            yield Select(DATA_SOURCES, value="mock", allow_blank=False, id="data")
            yield Static("", id="form-errors")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Start", variant="primary", id="submit")

    def _input(self, value: str, placeholder: str, field_id: str) -> Input:
        field = Input(value, placeholder=placeholder, id=field_id)
        # A blinking cursor would make snapshots and screen captures flicker.
        field.cursor_blink = not self.app.is_headless
        return field

    def validate(self) -> BacktestRequest | list[str]:
        """The request the fields describe, or what is wrong with them."""
        errors: list[str] = []
        dates: list[date] = []
        for field_id, name in (("start", "From"), ("end", "To")):
            raw = self.query_one(f"#{field_id}", Input).value.strip()
            try:
                dates.append(date.fromisoformat(raw))
            except ValueError:
                errors.append(f"{name}: {raw!r} is not a date (YYYY-MM-DD)")
        if len(dates) == 2 and dates[0] > dates[1]:
            errors.append("From must not be after To")
        raw_names = self.query_one("#strategies", Input).value
        names = tuple(dict.fromkeys(n.strip() for n in raw_names.split(",") if n.strip()))
        if not names:
            errors.append("Strategies: name at least one")
        elif self.known_strategies:
            unknown = [n for n in names if n not in self.known_strategies]
            if unknown:
                errors.append(
                    f"Strategies: unknown {', '.join(unknown)} "
                    f"(known: {', '.join(self.known_strategies)})"
                )
        data = self.query_one("#data", Select).value
        if errors:
            return errors
        return BacktestRequest(start=dates[0], end=dates[1], strategies=names, data=str(data))
