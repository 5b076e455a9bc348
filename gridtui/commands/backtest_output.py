"""What ``gridtui backtest`` prints and writes.

The rich tables (metrics, strategies, stored runs, trades), the progress bar,
the engine's throughput line, and the HTML report (:mod:`gridtui.report.html`) of a
fresh run or of a stored one; the arguments, the runner and the handlers live
in :mod:`gridtui.commands.backtest`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console, JustifyMethod
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from engine.backtest.result import BacktestResult
    from engine.events import Trade
    from engine.store.base import BacktestRecord


def run_progress(console: Console) -> Progress:
    """The bar of a running backtest: percent done and events so far (gone when done)."""
    return Progress(
        TextColumn("[bold]backtest"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[events]}"),
        console=console,
        transient=True,
    )


def _battery_prices(result: BacktestResult) -> list[tuple[datetime, float]]:
    if not result.battery_states:
        return []
    return result.prices.get(result.battery_states[0].market, [])


def throughput(result: BacktestResult) -> str:
    return (
        f"engine: {result.events_in:,} ticks in, {result.events_derived:,} events derived, "
        f"{result.engine_s:.2f} s ({result.events_per_s:,.0f} events/s); "
        f"whole run {result.total_s:.2f} s"
    )


def metrics_table(metrics: dict[str, float], title: str = "metrics") -> Table:
    from gridtui.report.html import format_metric, metric_label

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        style = "red" if value < 0 and name != "max_drawdown" else None
        table.add_row(metric_label(name), format_metric(name, value), style=style)
    return table


def strategies_table(result: BacktestResult) -> Table:
    """One row per strategy: its fills, volume, PnL, fees, win rate, Sharpe, what is left open."""
    table = Table(title="strategies")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("strategy", "left"),
        ("fills", "right"),
        ("MWh", "right"),
        ("PnL €", "right"),
        ("fees €", "right"),
        ("win", "right"),
        ("Sharpe", "right"),
        ("open at end", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for name, report in result.strategies.items():
        figures = report.figures
        open_words = (
            f"{report.open_periods} ({report.open_mwh:,.0f} MWh)" if report.open_periods else "0"
        )
        if report.delivered_open:
            open_words += f", {report.delivered_open} delivered!"
        table.add_row(
            name,
            f"{figures.fills:,}",
            f"{figures.volume_mwh:,.0f}",
            f"{figures.revenue_eur:,.0f}",
            f"{figures.fees_eur:,.0f}",
            f"{100 * figures.win_rate:.0f} %" if figures.settlements else "-",
            f"{figures.sharpe_ratio:.2f}",
            open_words,
            style="red" if figures.revenue_eur < 0 else None,
        )
    return table


def print_result(console: Console, result: BacktestResult) -> None:
    console.print(metrics_table(result.record.metrics, f"backtest {result.record.run_id}"))
    console.print(strategies_table(result))
    console.print(
        "open at end: positions for delivery after the window (committed at a gate inside "
        "it), not in the PnL"
    )
    for name, description in result.descriptions.items():
        console.print(f"[bold]{name}[/]: {description}")
        report = result.strategies.get(name)
        if report is not None:
            # Worded from the run (its fills' products, its markets' gates, how it
            # settled), not from its kind.
            console.print(f"  traded under: {report.traded_under}")
    for name, why in result.skipped.items():
        console.print(f"[yellow]left out[/] {name}: {why}")
    console.print(throughput(result))


def write_run_report(
    path: str, run_id: str, result: BacktestResult, ledger: Sequence[Any] = ()
) -> Path:
    """The HTML report of a run just made: every chart, the battery's included, and
    ``ledger`` (the run's capture-ledger rows, :func:`engine.backtest.capture.run_ledger`)."""
    from gridtui.report.html import write_report

    return write_report(
        path,
        run_id=run_id,
        config=result.record.config,
        metrics=result.record.metrics,
        equity_curve=result.equity_curve,
        strategy_equity=result.strategy_equity,
        trades=result.trades,
        battery_states=result.battery_states,
        battery_prices=_battery_prices(result),
        descriptions=result.descriptions,
        notes=[throughput(result)],
        ledger=ledger,
    )


def runs_table(records: Sequence[BacktestRecord], width: int = 80) -> Table:
    """Stored runs, one a row: window, strategies, revenue and Sharpe ratio.

    Ids are never cut: the table wraps to the terminal's width instead.
    """
    from gridtui.commands.tables import fitting_table

    rows = []
    for record in records:
        config, metrics = record.config, record.metrics
        rows.append(
            (
                record.run_id,
                f"{record.created_at:%Y-%m-%d %H:%M}",
                record.state,
                f"{str(config.get('from', ''))[:10]} → {str(config.get('to', ''))[:10]}",
                ", ".join(config.get("ran", config.get("strategies", []))),
                f"{metrics.get('total_revenue', 0.0):,.0f}",
                f"{metrics.get('sharpe_ratio', 0.0):.2f}",
            )
        )
    headers = ("run", "created", "state", "window", "strategies", "revenue €", "sharpe")
    return fitting_table("backtests", headers, rows, width=width, right=("revenue €", "sharpe"))


def trades_table(trades: Sequence[Trade], limit: int) -> Table:
    """The first ``limit`` trades of a stored run."""
    table = Table(title=f"first {min(limit, len(trades))} of {len(trades):,} trades")
    for column in ("time", "strategy", "side", "market", "MWh", "price", "PnL €", "why"):
        table.add_column(column)
    for trade in trades[:limit]:
        table.add_row(
            f"{trade.ts:%Y-%m-%d %H:%M}",
            trade.strategy,
            trade.side,
            trade.market,
            f"{trade.volume_mwh:,.1f}",
            f"{trade.price_eur_mwh:,.2f}",
            f"{trade.pnl_eur:,.2f}",
            trade.reason,
        )
    return table


def write_stored_report(path: str, record: BacktestRecord, trades: list[Trade]) -> Path:
    """The HTML report of a stored run, from what the store keeps."""
    from gridtui.report.html import write_report

    return write_report(
        path,
        run_id=record.run_id,
        config=record.config,
        metrics=record.metrics,
        equity_curve=record.equity_curve,
        trades=trades,
        notes=["Rebuilt from the store: battery and price charts need a fresh run."],
    )
