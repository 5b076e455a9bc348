"""What ``gridtui backtest`` prints and writes.

The rich tables (metrics, strategies, stored runs, trades), the progress bar,
the engine's throughput line, and the HTML report (:mod:`gridtui.report`) of a
fresh run or of a stored one; the arguments, the runner and the handlers live
in :mod:`gridtui.commands.backtest`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

if TYPE_CHECKING:
    from engine.backtest_result import BacktestResult
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
    from gridtui.report import format_metric, metric_label

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        style = "red" if value < 0 and name != "max_drawdown" else None
        table.add_row(metric_label(name), format_metric(name, value), style=style)
    return table


def print_result(console: Console, result: BacktestResult) -> None:
    console.print(metrics_table(result.record.metrics, f"backtest {result.record.run_id}"))
    per = Table(title="strategies")
    for column in ("strategy", "what it does", "trades", "PnL €"):
        per.add_column(column, justify="right" if column in ("trades", "PnL €") else "left")
    counts: dict[str, tuple[int, float]] = {}
    for trade in result.trades:
        count, pnl = counts.get(trade.strategy, (0, 0.0))
        counts[trade.strategy] = (count + 1, pnl + trade.pnl_eur)
    for name, description in result.descriptions.items():
        count, pnl = counts.get(name, (0, 0.0))
        per.add_row(name, description, f"{count:,}", f"{pnl:,.0f}")
    console.print(per)
    for name, why in result.skipped.items():
        console.print(f"[yellow]left out[/] {name}: {why}")
    console.print(throughput(result))


def write_run_report(path: str, run_id: str, result: BacktestResult) -> Path:
    """The HTML report of a run just made: every chart, the battery's included."""
    from gridtui.report import write_report

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
    )


def runs_table(records: Sequence[BacktestRecord]) -> Table:
    """Stored runs, one a row: window, strategies, revenue and Sharpe ratio."""
    table = Table(title="backtests")
    for column in ("run", "created", "state", "window", "strategies", "revenue €", "sharpe"):
        table.add_column(column)
    for record in records:
        config, metrics = record.config, record.metrics
        table.add_row(
            record.run_id,
            f"{record.created_at:%Y-%m-%d %H:%M}",
            record.state,
            f"{str(config.get('from', ''))[:10]} → {str(config.get('to', ''))[:10]}",
            ", ".join(config.get("ran", config.get("strategies", []))),
            f"{metrics.get('total_revenue', 0.0):,.0f}",
            f"{metrics.get('sharpe_ratio', 0.0):.2f}",
        )
    return table


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
    from gridtui.report import write_report

    return write_report(
        path,
        run_id=record.run_id,
        config=record.config,
        metrics=record.metrics,
        equity_curve=record.equity_curve,
        trades=trades,
        notes=["Rebuilt from the store: battery and price charts need a fresh run."],
    )
