"""RerunCompareScreen: a re-run beside what happened live, the difference called out.

Opened when a "re-run from here" (key ``R`` in rewind mode) comes back. One row
per strategy: trades and PnL live, the same for the re-run (a backtest on the
recording from the same instant, starting flat and closing its positions at
the end, as every backtest does), the trades both made, and
the PnL difference in bold, coloured by its sign. Below, per strategy, the
trades only one side made (the first of each), so the reason for a difference
can be read off. Everything comes from a :class:`~gridtui.tui.views.RerunView`;
the screen reads nothing itself. Escape, ``q`` or Enter go back.
"""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from gridtui.tui.views import RerunStrategyView, RerunTradeView, RerunView
from gridtui.tui.widgets import formatting as fmt

SHOWN_TRADES = 8  # per side and strategy on screen; the counts say how many in all


class RerunCompareScreen(Screen[None]):
    """Live vs re-run over the same span (see the module docstring)."""

    DEFAULT_CSS = """
    RerunCompareScreen > VerticalScroll { padding: 0 1; }
    RerunCompareScreen #rerun-title { text-style: bold; }
    RerunCompareScreen #rerun-span, RerunCompareScreen #rerun-keys { color: $text-muted; }
    RerunCompareScreen #rerun-table, RerunCompareScreen #rerun-difference,
    RerunCompareScreen #rerun-trades { height: auto; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss", "Back"),
    ]

    def __init__(self, view: RerunView, zone: ZoneInfo) -> None:
        super().__init__()
        self.view = view
        self.zone = zone
        self.palette = fmt.Palette()

    def compose(self) -> ComposeResult:
        view = self.view
        with VerticalScroll():
            yield Static(f"Re-run {view.run_id} · live vs re-run", id="rerun-title")
            yield Static(self.span_text(), id="rerun-span")
            yield Static(id="rerun-table")
            yield Static(id="rerun-difference")
            yield Static(id="rerun-trades")
            yield Static("Esc / q / Enter: back", id="rerun-keys")

    def on_mount(self) -> None:
        self.palette = fmt.Palette.from_variables(self.app.get_css_variables())
        self.query_one("#rerun-table", Static).update(self.table())
        self.query_one("#rerun-difference", Static).update(self.difference_text())
        self.query_one("#rerun-trades", Static).update(self.trades())

    def span_text(self) -> str:
        view = self.view
        since, until = view.since.astimezone(self.zone), view.until.astimezone(self.zone)
        return (
            f"from {since:%Y-%m-%d %H:%M:%S %Z} to {until:%Y-%m-%d %H:%M:%S %Z} · "
            f"{view.ticks_replayed:,} recorded ticks replayed · "
            "the re-run starts flat and closes its positions at the end"
        )

    def _signed(self, value: float, *, bold: bool = False) -> Text:
        tone = self.palette.good if value > 0 else self.palette.bad if value < 0 else ""
        return Text(f"{value:+,.2f}", style=f"{'bold ' if bold else ''}{tone}".strip())

    def table(self) -> Table:
        """Per strategy: trades and PnL live and re-run, the trades in common, ΔPnL."""
        table = Table(box=None, pad_edge=False, padding=(0, 0, 0, 2))
        # Two-line headers: the nine columns fit 80 with the figures uncut.
        headers = (
            "live\ntrades",
            "re-run\ntrades",
            "same",
            "live\nPnL €",
            "re-run\nPnL €",
            "Δ PnL €",
            "only\nlive",
            "only\nre-run",
        )
        table.add_column("strategy", justify="left", no_wrap=True, min_width=11)
        for header in headers:
            table.add_column(header, justify="right", no_wrap=True)
        for row in self.view.strategies:
            if row.skipped:
                table.add_row(
                    Text(row.name, style="bold"),
                    f"{row.live_trades:,}",
                    Text("skipped", style=self.palette.warn),
                    *([fmt.DASH] * 6),
                )
                continue
            table.add_row(
                Text(row.name, style="bold"),
                f"{row.live_trades:,}",
                f"{row.rerun_trades:,}",
                f"{row.same_trades:,}",
                f"{row.live_pnl_eur:,.2f}",
                f"{row.rerun_pnl_eur:,.2f}",
                self._signed(row.pnl_diff_eur, bold=True),
                f"{row.only_live_count:,}",
                f"{row.only_rerun_count:,}",
            )
        return table

    def difference_text(self) -> Text:
        """The difference, in words: what the re-run would have made more or less than live."""
        view = self.view
        total = view.pnl_diff_eur
        text = Text.assemble(
            ("Difference (re-run − live): ", "bold"), self._signed(total, bold=True)
        )
        text.append(" €")
        for row in view.strategies:
            text.append("\n")
            text.append_text(self._strategy_words(row))
        return text

    def _strategy_words(self, row: RerunStrategyView) -> Text:
        if row.skipped:
            return Text(f"{row.name}: left out of the re-run ({row.skipped})", style="dim")
        if not row.only_live_count and not row.only_rerun_count:
            words = f"{row.name}: the same {row.same_trades:,} trades live and in the re-run"
        else:
            words = (
                f"{row.name}: {row.only_live_count:,} trades only live, "
                f"{row.only_rerun_count:,} only in the re-run, {row.same_trades:,} in both"
            )
        if row.live_state_at_start and row.live_state_at_start != "running":
            words += f" (live was {row.live_state_at_start} at the start)"
        if row.live_status_pnl_eur is not None:
            words += f"; live status PnL moved {row.live_status_pnl_eur:+,.2f} €"
        return Text(words)

    def trades(self) -> RenderableType:
        """The first trades only one side made, per strategy and side."""
        parts: list[RenderableType] = []
        for row in self.view.strategies:
            for label, shown, count in (
                ("only live", row.only_live, row.only_live_count),
                ("only in the re-run", row.only_rerun, row.only_rerun_count),
            ):
                if not count:
                    continue
                table = Table(
                    title=f"{row.name} · {label} ({count:,})",
                    title_justify="left",
                    box=None,
                    pad_edge=False,
                )
                for header in ("time", "market", "side", "MWh", "€/MWh", "PnL €"):
                    table.add_column(
                        header, justify="left" if header in ("time", "market", "side") else "right"
                    )
                for trade in shown[:SHOWN_TRADES]:
                    table.add_row(*self._trade_cells(trade))
                if count > SHOWN_TRADES:
                    table.add_row(f"… {count - SHOWN_TRADES:,} more", "", "", "", "", "")
                parts.append(table)
        return Group(*parts) if parts else Text("No trade differs.")

    def _trade_cells(self, trade: RerunTradeView) -> tuple[str, ...]:
        local = trade.ts.astimezone(self.zone)
        return (
            f"{local:%m-%d %H:%M:%S}",
            trade.market,
            trade.side,
            f"{trade.volume_mwh:,.2f}",
            f"{trade.price_eur_mwh:,.2f}",
            f"{trade.pnl_eur:,.2f}",
        )
