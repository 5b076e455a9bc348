"""The help screen's rows: every key from the live key settings, grouped as users look."""

from __future__ import annotations

from collections.abc import Callable

from gridtui.settings.interface import KeySettings
from gridtui.tui.keymap import COMMANDS, STRATEGY_SLOTS


def help_rows(keys: KeySettings, label: Callable[[str], str]) -> list[tuple[str, str]]:
    """``(keys, what they do)``; a row with empty keys is a section heading.

    ``label`` turns a binding's keys into what the terminal shows (``ctrl+p``, ``[``).
    """
    strategy_fields = ("confirm", "cancel", "kill_switch")
    by_field = {c.key_field: c for c in COMMANDS}
    rows: list[tuple[str, str]] = [("", "Dashboard")]
    steps = (("tick", "recorded tick"), ("hour", "hour"), ("day", "day"))
    in_sections = {
        *strategy_fields,
        "go_to",
        *(f"rewind_{step}_{way}" for step, _ in steps for way in ("back", "forward")),
    }
    rows += [
        (label(getattr(keys, c.key_field)), c.help)
        for c in COMMANDS
        if c.key_field not in in_sections
    ]
    # The rewind steps in pairs, back then on: one row each for tick, hour and day.
    rows += [
        ("", "Rewind: every pane as it was (a step key while live rewinds first)"),
        *(
            (
                f"{label(getattr(keys, f'rewind_{step}_back'))} "
                f"{label(getattr(keys, f'rewind_{step}_forward'))}",
                f"One {what} back / on",
            )
            for step, what in steps
        ),
        (label(keys.go_to), by_field["go_to"].help),
    ]
    strategy_keys = " ".join(keys.strategies[:STRATEGY_SLOTS])
    rows += [
        ("", "Strategies (a toggle trades, so it is armed first)"),
        (strategy_keys, "Arm the toggle of the strategy in that row; press again to do it"),
    ]
    rows += [(label(getattr(keys, name)), by_field[name].help) for name in strategy_fields]
    rows += [
        ("", "Moving around"),
        ("tab shift+tab", "Next / previous pane (on small terminals: the tabs)"),
        ("↑ ↓ pgup pgdn", "Move in the current pane; in Prices, pick the charted market"),
        ("enter", "In Backtests: open the run's result (metrics, trades, equity, report)"),
        ("ctrl+p", "Command palette: every action by name"),
        ("ctrl+q", "Quit (same as the quit key)"),
    ]
    return rows
