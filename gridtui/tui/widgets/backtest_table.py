"""BacktestTable: running and finished backtests — progress bar, ETA, wall and simulated time.

Enter on a row posts :class:`BacktestTable.RunSelected`; the app opens the
run's result screen. Run ids are never cut: the id column widens to the
longest one.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive

from gridtui.tui.views import BacktestView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import DashTable, Row


class BacktestTable(DashTable):
    """The Backtests pane's table; Enter opens the run under the cursor."""

    COLUMNS = (
        ("run", "Run", 10),
        ("state", "State", 10),
        ("progress", "Progress", 15),
        ("eta", "ETA / ran", 11),
        ("simulated", "Simulated", 9),
        ("events", "Events", 13),
        ("metrics", "Metrics", 30),
    )
    # Dropped in this order when the pane is narrow; the run and its state always
    # show (Enter opens the result screen with every metric and both times).
    DROP_ORDER = ("events", "eta", "progress", "simulated", "metrics")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_run", "Open result", show=False),
    ]

    class RunSelected(Message):
        """Enter on the row of run ``run_id``."""

        def __init__(self, table: BacktestTable, run_id: str) -> None:
            super().__init__()
            self.table = table
            self.run_id = run_id

        @property
        def control(self) -> BacktestTable:
            return self.table

    backtests: reactive[tuple[BacktestView, ...]] = reactive((), init=False)

    def watch_backtests(self) -> None:
        if self.backtests:
            self.widen_column("run", max(len(view.run_id) for view in self.backtests))
            # Cropped by the pane's edge only, never by a fixed width; Enter shows them all.
            self.widen_column("metrics", max(len(_metrics(view)) for view in self.backtests))
        self.rebuild()

    def action_open_run(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.RunSelected(self, self.cursor_key))

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        for view in self.backtests:
            style = {
                "running": palette.accent,
                "finished": palette.good,
                "failed": palette.bad,
            }.get(view.state, "dim")
            glyph = {"running": "▶", "finished": "✔", "failed": "✖"}.get(view.state, "■")
            # Wall time and simulated span apart: a 10 s run over a week is not "6d23h".
            timing = (
                f"ETA {fmt.duration(view.eta_s)}"
                if view.state == "running"
                else f"ran {fmt.wall_time(view.wall_s)}"
            )
            metrics = _metrics(view)
            rows.append(
                (
                    view.run_id,
                    (
                        Text(view.run_id, style="bold"),
                        Text(f"{glyph} {view.state}", style=style),
                        Text.assemble(
                            (fmt.gauge(view.percent / 100, 10), style), f" {view.percent:3.0f}%"
                        ),
                        Text(timing, style="" if view.state == "running" else "dim"),
                        Text(fmt.duration(view.elapsed_s), style="dim"),
                        Text(f"{fmt.count(view.events_done)}/{fmt.count(view.events_total)}"),
                        Text(metrics or fmt.DASH, style="" if metrics else "dim"),
                    ),
                )
            )
        return rows


def _metrics(view: BacktestView) -> str:
    return "  ".join(f"{name} {value:,.2f}" for name, value in view.metrics)
