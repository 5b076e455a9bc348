"""``gridtui dashboard`` (and plain ``gridtui``): the Textual cockpit on an in-process engine.

Builds the runtime from the settings (mock feed and embedded SQLite by default),
wraps it in an :class:`~gridtui.client.in_process.InProcessClient` and runs
:class:`~gridtui.tui.app.GridApp` on it. Log lines go to a file in the data dir
while the dashboard owns the terminal. ``--demo`` runs a fast simulated market
on a throwaway store so a newcomer sees every pane move within seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from engine.clock import SimClock
from gridtui.client.in_process import InProcessClient
from gridtui.commands.common import add_common, put, split_list
from gridtui.logs import TextFormatter
from gridtui.settings.loader import Settings
from gridtui.wiring import build_runtime

# A simulated hour a ten seconds: the six-hour chart fills within a minute, spreads
# open and close within seconds, and the tick rate (~430/s) stays easy on the loop.
DEMO_SPEED = 360.0
DEMO_TICK_INTERVAL_S = 5.0

HELP = """\
Open the dashboard: prices with day-ahead curves, cross-border spreads, batteries,
strategies, backtests and alerts, live from the engine running in this process.
Keyboard first: press ? inside for every key; Ctrl+P offers every action by name.
Works over SSH from 80x24 up; set NO_COLOR=1 for a colourless terminal.

examples:
  gridtui                              # same as `gridtui dashboard`
  gridtui --demo                       # fast simulated market, throwaway store
  gridtui dashboard --tick-interval 1  # a tick a second per market
  gridtui dashboard --replay prices.parquet --speed 60  # history, an hour a minute
  gridtui dashboard --store postgresql://postgres@127.0.0.1:5432/gridtui

Keys are set in the [keys] section of the config file, pacing in [ui]:
  [keys]
  kill_switch = "ctrl+k"
  strategies = ["1", "2", "3"]
  [ui]
  refresh_hz = 10
  theme = "textual-light"

While the dashboard runs, log lines go to DATA_DIR/dashboard.log.
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="open the dashboard (the default command)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"simulated market at {DEMO_SPEED:g}x real time on a throwaway store",
    )
    parser.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help=f"simulated seconds per real second: the simulator on a simulated clock "
        f"(--demo: {DEMO_SPEED:g}; its ticks run ahead of real time, so without --demo give "
        "it its own --store), or a replay's pace",
    )
    parser.add_argument(
        "--feed",
        choices=["mock", "replay", "entsoe"],
        help="price source: mock simulator (default), replay of a file, or live ENTSO-E",
    )
    parser.add_argument(
        "--replay",
        metavar="FILE",
        help="replay this parquet/CSV price file (implies --feed replay)",
    )
    parser.add_argument(
        "--fundamentals",
        metavar="LIST",
        help="replay: comma list of the load/generation/load_forecast files `gridtui fetch` "
        "wrote beside the prices (FILE.load.parquet,FILE.generation.parquet,…)",
    )
    parser.add_argument(
        "--store", metavar="URL", help="sqlite (default) | sqlite:PATH | postgresql://…"
    )
    parser.add_argument("--bus", metavar="URL", help="memory (default) | redis://host:6379/0")
    parser.add_argument(
        "--tick-interval",
        type=float,
        metavar="SECONDS",
        help="simulator: seconds between ticks per market (default 10)",
    )
    parser.add_argument("--seed", type=int, help="simulator random seed (default 42)")
    parser.add_argument("--theme", metavar="NAME", help="textual-dark (default), textual-light, …")
    parser.add_argument(
        "--connect",
        metavar="URL",
        help="attach to a running `gridtui daemon` (e.g. http://127.0.0.1:8765) instead of "
        "running the engine here; toggles need its API token: GRIDTUI_API_TOKEN, or the "
        "daemon's DATA_DIR/api-token when on its host",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="with --connect: watch only — send no API token, so the daemon refuses anything "
        "that trades and the dashboard says why (gridtui serve's browser tabs run so unless "
        "opened with the token)",
    )
    add_common(parser)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if args.demo:
        put(found, "feed", "tick_interval_s", DEMO_TICK_INTERVAL_S)
    put(found, "feed", "kind", "replay" if args.replay else args.feed)
    put(found, "feed", "path", args.replay)
    put(found, "feed", "fundamentals", split_list(args.fundamentals))
    if args.replay or args.feed == "replay":
        put(found, "feed", "speed", args.speed)
    put(found, "feed", "tick_interval_s", args.tick_interval)
    put(found, "feed", "seed", args.seed)
    put(found, "store", "url", args.store)
    put(found, "bus", "url", args.bus)
    put(found, "ui", "theme", args.theme)
    return found


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.read_only and not args.connect:
        print("gridtui: --read-only watches a daemon: give it with --connect URL", file=sys.stderr)
        return 2
    if args.connect:
        return asyncio.run(run_remote_dashboard(settings, args.connect, read_only=args.read_only))
    # A replay paces itself (feed.speed); the simulator gets a fast clock on request.
    speed = args.speed if args.speed is not None else DEMO_SPEED if args.demo else None
    if settings.feed.kind != "mock":
        speed = None
    if not args.demo:
        return asyncio.run(run_dashboard(settings, speed=speed))
    with tempfile.TemporaryDirectory(prefix="gridtui-demo-") as scratch:
        if settings.store.url == "sqlite":
            # A simulated clock runs ahead of real time: keep its ticks out of the real store.
            settings = msgspec.structs.replace(settings, data_dir=scratch)
        return asyncio.run(run_dashboard(settings, speed=speed))


def _log_to_file(settings: Settings) -> Path:
    """The dashboard owns the terminal: send log lines to a file instead of stderr."""
    path = Path(settings.data_dir) / "dashboard.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path)
    handler.setFormatter(TextFormatter())
    logging.getLogger().handlers[:] = [handler]
    return path


async def run_dashboard(settings: Settings, *, speed: float | None = None) -> int:
    """Run the dashboard until the user quits; returns the exit status."""
    _log_to_file(settings)
    clock = SimClock(datetime.now(UTC), speed=speed) if speed else None
    client = InProcessClient(settings, build_runtime(settings, clock=clock))
    from gridtui.tui.app import GridApp  # only here: every other command runs without Textual

    app = GridApp(client, ui=settings.ui, keys=settings.keys, freeze_gc=True)
    try:
        await app.run_async()
    finally:
        await client.close()  # idempotent: a no-op after a clean quit
    return app.return_code or 0


READ_ONLY_REFUSAL = (
    "this dashboard is read-only (watch only): it holds no API token, so the daemon "
    "refuses anything that trades. To trade from a browser, open gridtui serve's address "
    "with ?token=<the daemon's API token> (DATA_DIR/api-token on the daemon's host)"
)


async def run_remote_dashboard(settings: Settings, url: str, *, read_only: bool = False) -> int:
    """The dashboard attached to a daemon over its API (``gridtui --connect URL``).

    ``read_only`` sends no token at all (not even the local token file's), so a
    watch-only view cannot trade even if its keys are pressed: the daemon is the judge.
    """
    from gridtui.client.remote import RemoteClient
    from gridtui.daemon.auth import client_token

    _log_to_file(settings)
    token = None if read_only else client_token(settings)
    client = RemoteClient(
        url, token=token, no_token_reason=READ_ONLY_REFUSAL if read_only else None
    )
    try:
        await client.connect()
    except (ConnectionError, ValueError, KeyError) as exc:
        await client.close()
        print(f"gridtui: cannot attach to the daemon at {url}: {exc}", file=sys.stderr)
        return 1
    from gridtui.tui.app import GridApp  # only here: every other command runs without Textual

    app = GridApp(client, ui=settings.ui, keys=settings.keys, freeze_gc=True)
    try:
        await app.run_async()
    finally:
        await client.close()
    return app.return_code or 0
