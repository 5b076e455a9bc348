"""BacktestResultScreen: one finished backtest — ten metrics, its trades, equity, report path.

Opened by Enter on a run in the Backtests pane. Everything on it comes from a
:class:`~gridtui.tui.views.BacktestResultView` (built from the stored record by
:func:`gridtui.tui.backtest_result_view.result_view`), so the screen never reads
the store itself. Wall time and simulated span are told apart ("ran 9.8 s ·
simulated 6d23h"); the run id and the report's path wrap, never cut.
Escape, ``q`` or Enter go back to the dashboard.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from gridtui.tui.views import BacktestResultView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.equity_chart import EquityChart


class BacktestResultScreen(Screen[None]):
    """The result of one backtest run (see the module docstring)."""

    DEFAULT_CSS = """
    BacktestResultScreen > Vertical { padding: 0 1; }
    BacktestResultScreen #result-title { text-style: bold; }
    BacktestResultScreen #result-timing { color: $text-muted; }
    BacktestResultScreen #result-metrics, BacktestResultScreen #result-trades {
        height: auto; margin-top: 1;
    }
    BacktestResultScreen #result-equity { margin-top: 1; }
    BacktestResultScreen #result-report { height: auto; }
    BacktestResultScreen #result-keys { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss", "Back to the dashboard"),
    ]

    def __init__(self, view: BacktestResultView) -> None:
        super().__init__()
        self.view = view
        self.palette = fmt.Palette()

    def compose(self) -> ComposeResult:
        view = self.view
        glyph = {"finished": "✔", "failed": "✖"}.get(view.state, "■")
        with Vertical():
            yield Static(f"Backtest {view.run_id} · {glyph} {view.state}", id="result-title")
            yield Static(self.timing_text(), id="result-timing")
            yield Static(id="result-metrics")
            yield Static(id="result-trades")
            equity = EquityChart(id="result-equity")
            equity.points = view.equity
            yield equity
            report = view.report_path or "none written for this run"
            yield Static(Text.assemble(("report: ", "bold"), report), id="result-report")
            yield Static("Esc / q / Enter: back to the dashboard", id="result-keys")

    def on_mount(self) -> None:
        self.palette = fmt.Palette.from_variables(self.app.get_css_variables())
        self.query_one("#result-metrics", Static).update(self.metrics_table())
        self.query_one("#result-trades", Static).update(self.trades_table())

    def timing_text(self) -> str:
        """``ran 9.8 s · simulated 6d23h · 2021-01-04 → 2021-01-10 · data FILE``."""
        view = self.view
        parts = [f"ran {fmt.wall_time(view.wall_s)}", f"simulated {fmt.duration(view.simulated_s)}"]
        parts += [part for part in (view.window, f"data {view.data}" if view.data else "") if part]
        return " · ".join(parts)

    def metrics_table(self) -> Table:
        """The ten headline metrics, two to a row: label, value, label, value."""
        table = Table.grid(padding=(0, 2), expand=True)
        justify: JustifyMethod
        for justify in ("left", "right", "left", "right"):
            table.add_column(justify=justify)
        cells: list[Text] = []
        for label, value, tone in self.view.metrics:
            style = self.palette.bad if tone == "bad" else ""
            cells += [Text(label, style="dim"), Text(value, style=f"bold {style}".strip())]
        for row in range(0, len(cells), 4):
            table.add_row(*cells[row : row + 4])
        return table

    def trades_table(self) -> Table | Text:
        """Per strategy: fills, MWh, PnL, fees, win rate, positions open at the end."""
        rows = self.view.strategies
        if not rows:
            return Text(f"{fmt.count(self.view.total_trades)} trades; no per-strategy figures.")
        table = Table(
            title=f"trades: {self.view.total_trades:,}",
            title_justify="left",
            box=None,
            pad_edge=False,
            expand=True,
        )
        for header in ("strategy", "fills", "MWh", "PnL €", "fees €", "win", "open"):
            table.add_column(header, justify="left" if header == "strategy" else "right")
        for row in rows:
            table.add_row(
                Text(row.name, style="bold"),
                f"{row.fills:,}",
                f"{row.volume_mwh:,.0f}",
                Text(f"{row.pnl_eur:,.0f}", style=self.palette.bad if row.pnl_eur < 0 else ""),
                f"{row.fees_eur:,.0f}",
                fmt.DASH if row.win_rate is None else f"{100 * row.win_rate:.0f} %",
                f"{row.open_periods}",
            )
        return table
