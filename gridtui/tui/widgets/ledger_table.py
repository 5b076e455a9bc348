"""LedgerTable: realized money beside the perfect-foresight optimum, per owner and window.

Shown under the battery table in the Batteries pane (``kind="battery"``) and
under the strategy table in the Strategies pane (``kind="strategy"``). Each
row: who, the window (today, week, month, run), realized €, optimum €, the
share captured, and the gap split into forecast error and execution, with the
information each figure had. A strategy without a perfect-foresight model
shows "n/a" where a battery shows its optimum. Hidden while it has no rows.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import LedgerView
from gridtui.tui.widgets.dash_table import DashTable, Row

NOT_AVAILABLE = "n/a"
INFORMATION = {
    "gate_closure vs perfect_foresight": "gate vs PF",
    "gate_closure": "gate closure",
}


class LedgerTable(DashTable):
    """The ledger rows of one kind of owner (module docstring)."""

    COLUMNS = (
        ("owner", "Ledger", 10),
        ("window", "Window", 6),
        ("realized", "Realized €", 10),
        ("optimum", "Optimum €", 10),
        ("captured", "Capt.", 6),
        ("forecast", "Forecast €", 10),
        ("execution", "Exec. €", 10),
        ("information", "Info", 12),
    )
    # Narrow panes keep who, when, realized and the share captured.
    DROP_ORDER = ("information", "execution", "forecast", "optimum")

    rows: reactive[tuple[LedgerView, ...]] = reactive((), init=False)

    def __init__(self, *, kind: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = kind
        self.display = False

    def watch_rows(self) -> None:
        shown = any(view.kind == self.kind for view in self.rows)
        self.display = shown
        if self.parent is not None:
            # The pane splits its height with the table above (app.tcss) only while shown.
            self.parent.set_class(shown, "-with-ledger")
        self.rebuild()

    def build_rows(self) -> list[Row]:
        palette = self.palette

        def money(value: float | None, width: int, *, loss: bool = False) -> Text:
            if value is None:
                return Text(f"{NOT_AVAILABLE:>{width}}", style="dim")
            good = value <= 0 if loss else value >= 0
            return Text(f"{value:{width},.0f}", style=palette.good if good else palette.bad)

        built: list[Row] = []
        for view in self.rows:
            if view.kind != self.kind:
                continue
            captured = (
                Text(f"{view.captured_pct:5.1f}%", style="bold")
                if view.captured_pct is not None
                else Text(f"{NOT_AVAILABLE:>6}", style="dim")
            )
            built.append(
                (
                    f"{view.owner}/{view.window}",
                    (
                        Text(view.owner, style="bold"),
                        Text(view.window),
                        money(view.realized_eur, 10),
                        money(view.optimum_eur, 10),
                        captured,
                        money(view.forecast_error_eur, 10, loss=True),
                        money(view.execution_eur, 9, loss=True),
                        Text(INFORMATION.get(view.information, view.information), style="dim"),
                    ),
                )
            )
        return built
