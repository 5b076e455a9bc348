"""``gridtui fetch entsoe``: backfill ENTSO-E history into a parquet file or a store.

The command line and its report; the backfill itself (planning, skipping what
is there, sinks) is :mod:`feeds.entsoe.backfill`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from engine.spreads.config import parse_border
from engine.store.base import StoreError
from feeds.entsoe.backfill import (
    DATASETS,
    FetchReport,
    ParquetSink,
    Sink,
    StoreSink,
    backfill,
)
from feeds.entsoe.client import EntsoeClient
from feeds.entsoe.errors import EntsoeAuthError
from feeds.entsoe.zones import borders
from gridtui.commands.common import add_common, put
from gridtui.days import day_arg
from gridtui.settings.loader import Settings, SettingsError
from gridtui.settings.zones import zone_table
from gridtui.wiring import build_entsoe_client, build_store, entsoe_zones

HELP = """\
Backfill ENTSO-E Transparency Platform history, resumably: what is already in
the output is not fetched again, so the same command can be run again after
an interruption or to extend a file. Needs an API token in
GRIDTUI_ENTSOE_TOKEN (or `token` under [entsoe] in the config file).

datasets (--datasets, comma list; default prices):
  prices         day-ahead prices (A44; DE-LU: the SDAC auction, see
                 entsoe.day_ahead_sequence)
  generation     actual generation per production type (A75)
  load           actual total load (A65, A16)
  load_forecast  day-ahead total load forecast (A65, A01)
  flows          cross-border physical flows (A11), every border between the markets
  capacity       forecasted day-ahead transfer capacity (A61), same borders

Dates are UTC days; --to is exclusive and defaults to the day after tomorrow
(so tomorrow's prices are included once auctioned).

examples:
  gridtui fetch entsoe --from 2024-01-01 --to 2025-01-01 --out prices.parquet
  gridtui fetch entsoe --from 2024-01-01 --markets DE,FR --datasets prices,load,generation \\
                       --out history.parquet  # + history.load.parquet, …generation.parquet
  gridtui fetch entsoe --from 2024-06-01 --store sqlite:prices.db
  gridtui daemon --replay prices.parquet --speed 3600   # then watch it
  gridtui --replay history.parquet \
          --fundamentals history.load.parquet,history.generation.parquet  # + the Fundamentals pane
"""


# -- the command -------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "fetch",
        help="backfill history from ENTSO-E into a parquet file or a store",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", choices=["entsoe"], help="where history comes from")
    parser.add_argument(
        "--from", dest="start", required=True, type=day_arg, metavar="DATE", help="first UTC day"
    )
    parser.add_argument(
        "--to", dest="end", type=day_arg, metavar="DATE", help="day after the last (exclusive)"
    )
    parser.add_argument(
        "--datasets", metavar="LIST", default="prices", help=f"comma list of {', '.join(DATASETS)}"
    )
    parser.add_argument(
        "--borders",
        metavar="LIST",
        help="flows/capacity: FROM-TO pairs, e.g. DE-FR,FR-DE (default: every border "
        "between the markets, both ways)",
    )
    output = parser.add_mutually_exclusive_group(required=True)
    output.add_argument("--out", metavar="FILE.parquet", help="write parquet file(s)")
    output.add_argument(
        "--store", metavar="URL", help="write prices into a store: sqlite:PATH | postgresql://…"
    )
    parser.add_argument(
        "--chunk-days", type=int, default=31, metavar="N", help="days per request (default 31)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="requests in flight (default 4)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_common(parser)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    put(found, "store", "url", args.store)
    return found


def run(args: argparse.Namespace, settings: Settings) -> int:
    console = Console(stderr=True)
    try:
        return asyncio.run(_run(args, settings, console))
    except KeyboardInterrupt:
        _say(console, "interrupted: finished chunks are kept; run the same command to resume")
        return 130


def _options(
    args: argparse.Namespace, settings: Settings
) -> tuple[list[str], list[tuple[str, str]], dict[str, str], date, date]:
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = sorted(set(datasets) - set(DATASETS))
    if unknown or not datasets:
        raise SettingsError(f"unknown dataset(s) {unknown}: choose from {', '.join(DATASETS)}")
    if args.store and set(datasets) != {"prices"}:
        raise SettingsError("a store keeps prices only: use --out FILE.parquet for other datasets")
    if args.chunk_days < 1 or args.concurrency < 1:
        raise SettingsError("--chunk-days and --concurrency must be at least 1")
    markets = list(settings.markets)
    table = zone_table(settings)
    if args.borders:
        pairs = [
            parse_border(b.strip(), table.codes()) for b in args.borders.split(",") if b.strip()
        ]
    else:
        pairs = borders(markets, table)
    needed = tuple(dict.fromkeys([*markets, *(m for pair in pairs for m in pair)]))
    zones = entsoe_zones(settings, needed)
    start = args.start
    end = args.end or datetime.now(UTC).date() + timedelta(days=2)
    if end <= start:
        raise SettingsError(f"--to {end} must come after --from {start}")
    return datasets, pairs, zones, start, end


def _build_sink(args: argparse.Namespace, settings: Settings) -> Sink:
    if args.out:
        return ParquetSink(Path(args.out).expanduser())
    return StoreSink(build_store(settings))


async def _run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    try:
        datasets, pairs, zones, start, end = _options(args, settings)
        client = build_entsoe_client(settings)
        sink = _build_sink(args, settings)
    except (SettingsError, ValueError) as exc:
        _say(console, f"gridtui fetch: {exc}")
        return 2
    show = not args.no_progress and sys.stderr.isatty()
    try:
        await sink.open()
    except (StoreError, OSError) as exc:
        _say(console, f"gridtui fetch: cannot open the output: {exc}")
        await client.close()
        return 1
    status = 0
    report = FetchReport()
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not show,
        ) as progress:
            report = await backfill(
                client,
                sink,
                datasets=datasets,
                markets=list(settings.markets),
                border_pairs=pairs,
                zones=zones,
                start=start,
                end=end,
                chunk_days=args.chunk_days,
                concurrency=args.concurrency,
                sequence=settings.entsoe.day_ahead_sequence,
                progress=progress,
            )
    except* EntsoeAuthError as group:
        _say(console, f"gridtui fetch: {group.exceptions[0]}")
        status = 2
    finally:
        report.written = await sink.close()
        await client.close()
    if status == 0:
        _print_report(console, report, client)
        status = 1 if report.failed else 0
    return status


def _print_report(console: Console, report: FetchReport, client: EntsoeClient) -> None:
    table = Table(title="ENTSO-E backfill", show_header=True)
    table.add_column("dataset")
    table.add_column("rows", justify="right")
    for dataset, rows in report.rows.items():
        table.add_row(dataset, f"{rows:,}")
    console.print(table)
    _say(
        console,
        f"{report.fetched} chunk(s) fetched, {report.failed} failed, "
        f"{report.skipped_days} day(s) already there; {client.stats.requests} request(s), "
        f"{client.stats.retries} retried",
    )
    for line in report.written:
        _say(console, f"wrote {line}")
    for failure in report.failures:
        _say(console, f"failed: {failure}")
    if report.failed:
        _say(console, "run the same command again to fetch only what is missing")


def _say(console: Console, text: str) -> None:
    # Plain text: messages hold "[entsoe.zones]" and paths that are not markup.
    console.print(text, markup=False, highlight=False, soft_wrap=True)
