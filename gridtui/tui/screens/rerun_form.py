"""RerunForm: "re-run from here" — the instant, the span, the strategies and their settings.

Opened in rewind mode (key ``R``) with the rewound instant filled in. It looks
and answers like the new-backtest form (:class:`~gridtui.tui.screens.backtest_form.BacktestForm`,
whose styles it shares) but asks for instants, not delivery days: From is the
rewound instant, To is empty for "the end of the recording"; both are read
like the rewind's "go to" prompt (:func:`gridtui.tui.instant.parse_instant`).
Settings are optional ``strategy.field=value`` pairs for this run only. It
dismisses with a :class:`~gridtui.client.protocol.RerunRequest` (or None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from gridtui.client.protocol import RerunRequest
from gridtui.tui.instant import parse_instant
from gridtui.tui.screens.backtest_form import BacktestForm
from gridtui.tui.screens.request_form import RequestForm


class RerunForm(RequestForm[RerunRequest]):
    """The re-run form (see the module docstring)."""

    DEFAULT_CSS = BacktestForm.DEFAULT_CSS.replace("BacktestForm", "RerunForm")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Re-run"),
    ]

    def __init__(
        self, *, at: datetime, zone: ZoneInfo, strategies: Sequence[str], chosen: Sequence[str]
    ) -> None:
        super().__init__()
        self.at = at
        self.zone = zone
        self.known_strategies = tuple(strategies)
        self.chosen = tuple(chosen) or self.known_strategies

    def compose(self) -> ComposeResult:
        local = self.at.astimezone(self.zone)
        hint = "known: " + ", ".join(self.known_strategies) if self.known_strategies else "names"
        with Vertical() as form:
            form.border_title = "Re-run from here"
            form.border_subtitle = "Ctrl+S runs · Esc cancels"
            yield Label(f"From (market time {local.tzname()}, or …Z for UTC)")
            yield self._input(f"{local:%Y-%m-%d %H:%M:%S}", "2025-01-06 14:30", "since")
            yield Label("To (empty: the end of the recording)")
            yield self._input("", "end of the recording", "until")
            yield Label("Strategies")
            yield self._input(", ".join(self.chosen), hint, "strategies")
            yield Label("Settings for this run (optional: strategy.field=value, …)")
            yield self._input("", "technical.indicator=rsi, battery.controller=mpc", "settings")
            yield Static("", id="form-errors")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Re-run", variant="primary", id="submit")

    def _input(self, value: str, placeholder: str, field_id: str) -> Input:
        field = Input(value, placeholder=placeholder, id=field_id)
        field.cursor_blink = not self.app.is_headless  # no flicker in snapshots
        return field

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def validate(self) -> RerunRequest | list[str]:
        """The request the fields describe, or what is wrong with them."""
        errors: list[str] = []
        today = self.at.astimezone(self.zone).date()
        instants: dict[str, datetime | None] = {"since": None, "until": None}
        for field_id, label in (("since", "From"), ("until", "To")):
            raw = self._value(field_id)
            if not raw and field_id == "until":
                continue
            try:
                instants[field_id] = parse_instant(raw, self.zone, today)
            except ValueError as exc:
                errors.append(f"{label}: {exc}")
        since, until = instants["since"], instants["until"]
        if since is not None and until is not None and until <= since:
            errors.append("To must come after From")
        names = tuple(dict.fromkeys(n.strip() for n in self._value("strategies").split(",")))
        names = tuple(n for n in names if n)
        if not names:
            errors.append("Strategies: name at least one")
        elif self.known_strategies:
            unknown = [n for n in names if n not in self.known_strategies]
            if unknown:
                errors.append(
                    f"Strategies: unknown {', '.join(unknown)} "
                    f"(known: {', '.join(self.known_strategies)})"
                )
        settings: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self._value("settings").split(","))):
            name, equals, value = pair.partition("=")
            if not equals or "." not in name or not value.strip():
                errors.append(f"Settings: {pair!r} is not strategy.field=value")
            else:
                settings[name.strip()] = value.strip()
        if errors or since is None:
            return errors
        return RerunRequest(since=since, until=until, strategies=names, settings=settings)
