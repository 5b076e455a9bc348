"""``gridtui backtest``: run strategies over history, print the metrics, write a report.

Also the shared runner behind the dashboard's new-backtest form
(:func:`prepare` + :func:`run_and_save`, used by ``gridtui.client.in_process``): the
same runtime as the live engine, driven by a replay of the file on a SimClock
(:mod:`engine.backtest.run`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from rich.console import Console

from engine.clock import LiveClock
from engine.events import BacktestProgress
from engine.ports import FeedError
from engine.store.base import StoreError
from engine.strategies.registry import KINDS, parse_names
from gridtui.backtest_runs import (
    parse_day,
    prepare,
    run_and_save,
)
from gridtui.commands.backtest_output import (
    metrics_table,
    print_result,
    run_progress,
    runs_table,
    trades_table,
    write_stored_report,
)
from gridtui.commands.common import add_common
from gridtui.settings.loader import Settings, SettingsError
from gridtui.wiring import build_store

if TYPE_CHECKING:
    # Imported when a backtest runs: `gridtui` itself starts without them.
    pass


HELP = f"""\
Test strategies on history before switching them on: the engine's own runtime
replays a price file on a simulated clock as fast as the CPU allows, the
strategies trade it through the same execution model as live (fees, slippage,
volume, border capacity, battery power), and the run's metrics, equity curve
and trades are stored. A report with charts (equity, daily PnL, the battery's
state of charge over price, trades) is written as one HTML file.

The real price files hold day-ahead prices only: there every strategy commits
delivery day D before its gate closure (12:00 CET on D-1) from what it knew
then, and its positions settle at delivery (a trader's at the clearing price,
so a price signal alone earns minus its fees). The simulator (--data mock) has
continuous intraday prices too. Per strategy the output says what it traded
under, worded from its fills, with its fills, volume, PnL, fees, win rate
(settled periods), Sharpe ratio and the positions left open at the end.

strategies: {", ".join(KINDS)} (or all).
A strategy whose inputs the data does not carry is left out and says so: a price
file has prices (and so spreads) but no fundamentals; ML needs a forecaster.

examples:
  gridtui backtest --data ../shared/data/prices_real_train.parquet \\
                   --from 2021-01-01 --to 2021-12-31 --strategies all
  gridtui backtest --data prices.parquet --strategies battery --battery-controller lp
  gridtui backtest --data mock --from 2025-01-06 --to 2025-01-12  # simulator + fundamentals
  gridtui backtest list                       # stored runs, newest first
  gridtui backtest show bt-20250106-101500    # metrics, config, first trades
  gridtui backtest show RUN --report run.html # the report again, from the store
  gridtui backtest delete RUN
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "backtest",
        help="test strategies on history: metrics, equity curve, report",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(parser)
    parser.add_argument(
        "--data", metavar="FILE", help="price file (parquet/CSV, long or wide) or `mock`"
    )
    parser.add_argument("--from", dest="start", metavar="DAY", help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--to", dest="end", metavar="DAY", help="last day, included")
    parser.add_argument(
        "--strategies", metavar="LIST", default="all", help="comma list, or all (default)"
    )
    parser.add_argument(
        "--battery-controller",
        choices=["lp", "mpc", "rule", "rl"],
        help="who plans the battery's committed day: the LP on its forecast, or the MPC, "
        "rule or RL policy rolled over it (default: strategies.battery.controller)",
    )
    parser.add_argument(
        "--report", metavar="PATH", help="where the HTML report goes (default: RUN_ID.html)"
    )
    parser.add_argument("--no-report", action="store_true", help="write no report")
    parser.add_argument("--no-save", action="store_true", help="do not keep the run in the store")
    parser.add_argument("--run-id", metavar="ID", help="name of the run (default: bt-DATE-TIME)")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--store", metavar="URL", help="store for the results (sqlite, …)")
    actions = parser.add_subparsers(dest="action", metavar="[ACTION]")
    listing = actions.add_parser("list", help="stored runs, newest first")
    listing.add_argument("--limit", type=int, default=20)
    show = actions.add_parser("show", help="one stored run: metrics, config, trades")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--trades", type=int, default=10, help="trades to print (default 10)")
    show.add_argument("--report", dest="show_report", metavar="PATH", help="write its report")
    delete = actions.add_parser("delete", help="delete a stored run and its trades")
    delete.add_argument("run_id", metavar="RUN_ID")


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if args.store:
        found["store"] = {"url": args.store}
    if args.battery_controller:
        found["strategies"] = {"battery": {"controller": args.battery_controller}}
    return found


def run(args: argparse.Namespace, settings: Settings) -> int:
    console = Console()
    try:
        if args.action == "list":
            return asyncio.run(_list(settings, args.limit, console))
        if args.action == "show":
            return asyncio.run(_show(settings, args, console))
        if args.action == "delete":
            return asyncio.run(_delete(settings, args.run_id, console))
        return asyncio.run(_run(settings, args, console))
    except (StoreError, FeedError, ValueError) as exc:
        print(f"gridtui backtest: {exc}", file=sys.stderr)
        return 2


# -- the commands ---------------------------------------------------------------------


async def _run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    from engine.backtest.run import new_run_id

    data = args.data or settings.feed.path
    if not data:
        raise SettingsError("name the history: --data FILE (or --data mock, or feed.path)")
    now = LiveClock().now()
    run_id = args.run_id or f"{new_run_id(now)}-{secrets.token_hex(2)}"
    names = parse_names(args.strategies)
    start = parse_day(args.start, "--from") if args.start else None
    end = parse_day(args.end, "--to") if args.end else None
    if start and end and end < start:
        raise SettingsError("--to is before --from")
    prepared = prepare(settings, data=data, start=start, end=end, names=names, run_id=run_id)
    config = prepared.config
    console.print(
        f"[bold]{run_id}[/]: {', '.join(names)} on {data}, "
        f"{config.start:%Y-%m-%d} → {config.end - timedelta(seconds=1):%Y-%m-%d}"
    )
    store = None if args.no_save else build_store(settings)
    if store is not None:
        await store.open()
    try:
        with run_progress(console) as bar:
            task = bar.add_task("backtest", total=100.0, events="")

            def progress(event: BacktestProgress) -> None:
                bar.update(task, completed=event.percent, events=f"{event.events_done:,} events")

            report = None if args.no_report else args.report or f"{run_id}.html"
            result = await run_and_save(
                prepared, store, created_at=now, on_progress=progress, report=report
            )
    finally:
        if store is not None:
            await store.close()
    if args.json:
        print(json.dumps(result.record.metrics, indent=2))
    else:
        print_result(console, result)
    if store is not None:
        console.print(f"stored as [bold]{run_id}[/] in {store.backend}")
    if "report" in result.record.config:
        console.print(f"report: {result.record.config['report']}")
    return 0


async def _list(settings: Settings, limit: int, console: Console) -> int:
    store = build_store(settings)
    await store.open()
    try:
        records = await store.backtests(limit)
    finally:
        await store.close()
    if not records:
        console.print("no backtests stored yet: run `gridtui backtest --data FILE`")
        return 0
    console.print(runs_table(records, console.width))
    return 0


async def _show(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    store = build_store(settings)
    await store.open()
    try:
        record = await store.backtest(args.run_id)
        trades = await store.backtest_trades(args.run_id) if record is not None else []
    finally:
        await store.close()
    if record is None:
        print(
            f"gridtui backtest: no run {args.run_id!r} (see `gridtui backtest list`)",
            file=sys.stderr,
        )
        return 1
    console.print(metrics_table(record.metrics, f"backtest {record.run_id} ({record.state})"))
    console.print_json(data=msgspec.to_builtins(record.config))
    if trades and args.trades > 0:
        console.print(trades_table(trades, args.trades))
    if args.show_report:
        path = write_stored_report(args.show_report, record, trades)
        console.print(f"report: {path}")
    return 0


async def _delete(settings: Settings, run_id: str, console: Console) -> int:
    store = build_store(settings)
    await store.open()
    try:
        deleted = await store.delete_backtest(run_id)
    finally:
        await store.close()
    if not deleted:
        print(f"gridtui backtest: no run {run_id!r}", file=sys.stderr)
        return 1
    console.print(f"deleted {run_id} and its trades")
    return 0
