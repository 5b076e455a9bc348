"""StrategyTable: name, state, PnL, trades, open positions, last action, and its toggle key.

A toggle trades, so it is armed first: the armed row reads ``⚠ confirm START``
(or STOP) with the keys that confirm it, until it is confirmed, cancelled or
times out. The arming itself lives in the app; this table only shows it.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import StrategyView
from gridtui.tui.widgets.dash_table import DashTable, Row

STATES = {
    "running": "▶ running",
    "stopped": "■ stopped",
    "armed": "◆ armed",
    "error": "✖ error",
}


def open_positions(net: tuple[tuple[str, float], ...]) -> str:
    """``DE +2.5 FR −1`` — what a strategy holds per market, not yet delivered."""
    return " ".join(f"{market} {mwh:+,.1f}".replace("-", "−") for market, mwh in net)


class StrategyTable(DashTable):
    """The Strategies pane's table: each strategy's key, state, PnL, trades and last action."""

    COLUMNS = (
        ("key", "Key", 3),
        ("strategy", "Strategy", 16),
        ("state", "State", 21),  # "⚠ START? 1 or y"; 21 keeps PnL at 120×40
        ("pnl", "PnL €", 10),
        ("trades", "Trades", 6),
        ("open", "Open MWh", 14),
        ("last", "Last action", 24),
    )
    # Dropped in this order when the pane is narrow; the key, the name and the
    # state (where an armed toggle's prompt shows) always show.
    DROP_ORDER = ("last", "open", "trades", "pnl")

    strategies: reactive[tuple[StrategyView, ...]] = reactive((), init=False)
    slot_keys: reactive[tuple[str, ...]] = reactive((), init=False)
    """The key shown for each row, in row order."""
    armed: reactive[tuple[str, str] | None] = reactive(None, init=False)
    """``(strategy name, prompt)`` while a toggle waits for confirmation."""

    def watch_strategies(self) -> None:
        self.rebuild()

    def watch_slot_keys(self) -> None:
        self.rebuild()

    def watch_armed(self, armed: tuple[str, str] | None) -> None:
        self.rebuild()
        if armed is not None and armed[0] in self.row_keys:
            self.move_cursor(self.row_keys.index(armed[0]))  # the row the keys act on

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        for index, view in enumerate(self.strategies):
            key = self.slot_keys[index] if index < len(self.slot_keys) else ""
            if self.armed is not None and self.armed[0] == view.name:
                state = Text(self.armed[1], style=f"bold reverse {palette.warn}")
            else:
                style = {
                    "running": f"bold {palette.good}",
                    "error": f"bold {palette.bad}",
                    "armed": palette.warn,
                }.get(view.state, "dim")
                state = Text(STATES.get(view.state, view.state), style=style)
            rows.append(
                (
                    view.name,
                    (
                        Text(key, style="bold"),
                        Text(view.name, style="bold"),
                        state,
                        Text(
                            f"{view.pnl_eur:10,.0f}",
                            style=palette.good if view.pnl_eur >= 0 else palette.bad,
                        ),
                        Text(f"{view.trades:6d}"),
                        Text(
                            open_positions(view.open_mwh) or "—",
                            style="" if view.open_mwh else "dim",
                        ),
                        Text(view.last_action, style="dim"),
                    ),
                )
            )
        return rows
