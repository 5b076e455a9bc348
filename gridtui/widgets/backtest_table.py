"""BacktestTable: running and finished backtests — progress bar, ETA, headline metrics."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.views import BacktestView
from gridtui.widgets import formatting as fmt
from gridtui.widgets.dash_table import DashTable, Row


class BacktestTable(DashTable):
    COLUMNS = (
        ("run", "Run", 10),
        ("state", "State", 10),
        ("progress", "Progress", 15),
        ("eta", "ETA / took", 10),
        ("events", "Events", 13),
        ("metrics", "Metrics", 30),
    )
    # Dropped in this order when the pane is narrow; the run, its state and its
    # headline metrics always show.
    DROP_ORDER = ("events", "eta", "progress")

    backtests: reactive[tuple[BacktestView, ...]] = reactive((), init=False)

    def watch_backtests(self) -> None:
        self.rebuild()

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
            timing = (
                f"ETA {fmt.duration(view.eta_s)}"
                if view.state == "running"
                else fmt.duration(view.elapsed_s)
            )
            metrics = "  ".join(f"{name} {value:,.2f}" for name, value in view.metrics)
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
                        Text(f"{fmt.count(view.events_done)}/{fmt.count(view.events_total)}"),
                        Text(metrics or fmt.DASH, style="" if metrics else "dim"),
                    ),
                )
            )
        return rows
