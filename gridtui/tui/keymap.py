"""The dashboard's key table: every user action, its default binding and its help text.

:data:`COMMANDS` is the one list the app's bindings, the ``[keys]`` keymap, the
help screen and the command palette are all built from; the strategy number
keys are :data:`STRATEGY_SLOTS` extra bindings on ``strategy(slot)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from textual.binding import Binding, BindingType

from gridtui.settings.interface import KeySettings

STRATEGY_SLOTS: Final = 9


@dataclass(frozen=True, slots=True)
class Command:
    """One user action: its key-settings field, action, footer label and help text."""

    key_field: str
    action: str
    label: str
    help: str
    show: bool = True


COMMANDS: Final = (
    Command("help", "help", "Help", "List every key"),
    Command("filter", "filter", "Filter", "Filter markets by name (Enter keeps, Esc clears)"),
    Command("pause", "pause", "Pause", "Pause / resume rendering (events are still collected)"),
    Command("new_backtest", "new_backtest", "Backtest", "Open the new-backtest form"),
    Command("audit", "audit", "Audit", "Audit log: who started, stopped or traded what"),
    Command("kill_switch", "kill_switch", "Kill all", "Kill switch: stop every strategy at once"),
    Command("zoom", "zoom", "Zoom", "Maximise the current pane / restore the layout"),
    Command("theme", "toggle_theme", "Theme", "Switch between dark and light theme"),
    Command(
        "grid", "toggle_grid", "Grid", "Prices: a compact grid of every market / the table", False
    ),
    Command("rewind", "rewind", "Rewind", "Rewind to the present (flight recorder) / back to live"),
    Command("rewind_tick_back", "rewind_tick_back", "Tick back", "Rewind: one tick back", False),
    Command("rewind_tick_forward", "rewind_tick_forward", "Tick on", "Rewind: one tick on", False),
    Command("rewind_hour_back", "rewind_hour_back", "Hour back", "Rewind: an hour back", False),
    Command("rewind_hour_forward", "rewind_hour_forward", "Hour on", "Rewind: an hour on", False),
    Command("rewind_day_back", "rewind_day_back", "Day back", "Rewind: a day back", False),
    Command("rewind_day_forward", "rewind_day_forward", "Day on", "Rewind: a day on", False),
    Command("go_to", "go_to", "Go to", "Rewind to a date and time (market time, or …Z)", False),
    Command("rerun", "rerun", "Re-run", "Rewind: re-run strategies from here beside live", False),
    Command("confirm", "confirm", "Confirm", "Confirm the armed strategy toggle", show=False),
    Command("cancel", "cancel", "Cancel", "Disarm a toggle, restore zoom, clear the filter", False),
    Command("quit", "quit", "Quit", "Quit cleanly (the store is flushed first)"),
)


def binding_id(key_field: str) -> str:
    return f"gridtui.{key_field}"


def default_bindings() -> list[BindingType]:
    defaults = KeySettings()
    bindings: list[BindingType] = [
        Binding(
            getattr(defaults, c.key_field),
            c.action,
            c.label,
            show=c.show,
            id=binding_id(c.key_field),
            tooltip=c.help,
        )
        for c in COMMANDS
    ]
    bindings += [
        Binding(
            defaults.strategies[slot] if slot < len(defaults.strategies) else f"f{13 + slot}",
            f"strategy({slot})",
            "Toggle strategy",
            show=slot == 0,
            id=binding_id(f"strategy_{slot + 1}"),
        )
        for slot in range(STRATEGY_SLOTS)
    ]
    return bindings


def keymap_for(keys: KeySettings) -> dict[str, str]:
    """Binding id → keys, from the ``[keys]`` settings (Textual applies it app-wide)."""
    keymap = {binding_id(c.key_field): getattr(keys, c.key_field) for c in COMMANDS}
    for slot, key in enumerate(keys.strategies[:STRATEGY_SLOTS]):
        keymap[binding_id(f"strategy_{slot + 1}")] = key
    return keymap
