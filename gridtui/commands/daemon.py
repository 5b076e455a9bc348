"""``gridtui daemon``: the engine headless — feed → store, spreads, bus."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import signal
from typing import Any

from engine.bus.base import BusClosed, BusError
from engine.events import SPREADS, OpportunityStatus, SpreadOpportunity
from engine.ports import FeedError
from engine.runtime import Runtime
from engine.store.base import StoreError
from gridtui.commands.common import add_common, put, split_list
from gridtui.daemon.stop_watch import StopWatch
from gridtui.roles.active import run_node
from gridtui.roles.build import build_role_runtime, lease_watcher, node_and_lease
from gridtui.roles.lease import LeaseLost
from gridtui.settings.loader import Settings, SettingsError

log = logging.getLogger("gridtui.daemon")

HELP = """\
Run the engine headless: ingest the feed, store every tick, detect spreads,
raise alerts to the configured sinks, and serve the REST + WebSocket API
(127.0.0.1:8765 by default; /openapi.json describes it, /metrics for
Prometheus). Stops on Ctrl-C / SIGTERM after flushing everything to the store.

examples:
  gridtui daemon                                   # simulator → SQLite in the data dir
  gridtui daemon --tick-interval 0.5 --duration 60 # faster market, one minute
  gridtui daemon --store postgresql://postgres@127.0.0.1:5432/test \\
                 --bus redis://127.0.0.1:6379/0    # production backends
  GRIDTUI_SPREADS_MIN_NET_SPREAD_EUR_MWH=10 gridtui daemon
  gridtui daemon --replay prices.parquet --speed 60  # history, an hour a minute
  gridtui daemon --replay prices.parquet --store sqlite:history.db  # load a file, max speed
  GRIDTUI_ENTSOE_TOKEN=… gridtui daemon --feed entsoe  # live ENTSO-E day-ahead + fundamentals
  gridtui daemon --host 0.0.0.0 --port 8765        # API for other hosts (put TLS in front)
  gridtui daemon --rotate-token                    # new API token; the old one stops working
  gridtui --connect http://127.0.0.1:8765          # attach a dashboard to a running daemon
  gridtui daemon --role ingest --store postgresql://… --bus redis://…  # one node of several
  gridtui daemon --role api --port 8766 --store postgresql://… --bus redis://…

Every flag has a TOML key and a GRIDTUI_ variable (see `gridtui config --help`).
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "daemon",
        help="run the engine headless (feed → store, spreads, bus)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--feed",
        choices=["mock", "replay", "entsoe"],
        help="price source: mock simulator (default), replay of a file, or live ENTSO-E "
        "(token in GRIDTUI_ENTSOE_TOKEN)",
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
        "--speed",
        type=_speed,
        metavar="X",
        help="replay: simulated seconds per real second (1, 60, …); max or 0 = as fast "
        "as possible (default)",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite (default, a file in the data dir) | sqlite:PATH | postgresql://…",
    )
    parser.add_argument("--bus", metavar="URL", help="memory (default) | redis://host:6379/0")
    parser.add_argument(
        "--duration",
        type=_seconds,
        metavar="SECONDS",
        help="stop after this long (default: run until stopped)",
    )
    parser.add_argument(
        "--tick-interval",
        type=float,
        metavar="SECONDS",
        help="simulator: seconds between ticks per market (default 10; 0 = as fast as possible)",
    )
    parser.add_argument("--seed", type=int, help="simulator random seed (default 42)")
    parser.add_argument(
        "--start",
        metavar="ISO-TIME",
        help="simulator: timestamp of the first tick, e.g. 2026-01-05T00:00:00Z (default: now); "
        "ticks are still paced in real time, and the same seed and start give the same events",
    )
    parser.add_argument(
        "--host",
        metavar="ADDRESS",
        help="API: address to bind (default 127.0.0.1; 0.0.0.0 exposes it, put TLS in front)",
    )
    parser.add_argument(
        "--port", type=int, metavar="PORT", help="API: TCP port (default 8765; 0 = any free port)"
    )
    parser.add_argument(
        "--role",
        choices=["all", "ingest", "analytics", "api"],
        help="what this node runs (default all): ingest = feed → store + bus; analytics = "
        "spreads, forecasts, batteries, strategies, alerts from the bus; api = REST + "
        "WebSocket from the bus and the store. Split roles need --bus redis://… and "
        "--store postgresql://…; one ingest and one analytics node per feed is active "
        "(a lease in Redis), the others stand by",
    )
    parser.add_argument(
        "--node-id", metavar="NAME", help="this node's name in /health (default HOST-PID)"
    )
    parser.add_argument("--no-api", action="store_true", help="run without the REST/WebSocket API")
    parser.add_argument(
        "--rotate-token",
        action="store_true",
        help="write a new API bearer token to the token file (mode 0600) and exit; a running "
        "daemon accepts only the new token from then on",
    )
    add_common(parser)


def _seconds(text: str) -> float:
    """A finite number of seconds > 0 (argparse names the flag and exits 2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds > 0, not {text!r}")
    return value


def _speed(text: str) -> float:
    if text.lower() in ("max", "inf", "fast"):
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number or 'max', not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("speed must be >= 0")
    return value


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    put(found, "feed", "kind", args.feed or ("replay" if args.replay else None))
    put(found, "feed", "path", args.replay)
    put(found, "feed", "fundamentals", split_list(args.fundamentals))
    put(found, "feed", "speed", args.speed)
    put(found, "feed", "tick_interval_s", args.tick_interval)
    put(found, "feed", "seed", args.seed)
    put(found, "feed", "start", args.start)
    put(found, "store", "url", args.store)
    put(found, "bus", "url", args.bus)
    put(found, "api", "host", args.host)
    put(found, "api", "port", args.port)
    put(found, "api", "enabled", False if args.no_api else None)
    put(found, "daemon", "role", args.role)
    put(found, "daemon", "node_id", args.node_id)
    return found


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.rotate_token:
        from gridtui.daemon.auth import TokenError
        from gridtui.daemon.server import rotate

        try:
            path = rotate(settings)
        except TokenError as exc:
            log.error("%s", exc)
            return 1
        print(f"new API token written to {path} (mode 0600); the old one no longer works")
        return 0
    return asyncio.run(run_daemon(settings, args.duration))


async def _log_opportunities(runtime: Runtime) -> None:
    """Log each spread opportunity as it opens and closes, in plain words."""
    subscription = await runtime.bus.subscribe([SPREADS], name="daemon-log", maxsize=1_000)
    try:
        while True:
            for event in await subscription.next_batch():
                if not isinstance(event, SpreadOpportunity):
                    continue
                if event.status is OpportunityStatus.UPDATED:
                    continue
                log.info(
                    "opportunity %s: %s",
                    event.status.value,
                    event.describe(),
                    extra={"duration_s": round(event.duration_s, 1)},
                )
    except BusClosed:
        return


async def _stop_on_damage(runtime: Runtime, found: list[str]) -> None:
    """Stop the daemon once the store reports its file damaged.

    A damaged SQLite file fails every write the same way, so running on
    "degraded" would only pile events up: say which file and what to do, and
    stop (the writer spills what it could not store).
    """
    from engine.store.sqlite import corruption_advice

    while True:
        problem = getattr(runtime.store, "corruption", None)
        if problem:
            path = str(getattr(runtime.store, "path", "?"))
            found.append(problem)
            log.error("stopping: %s", corruption_advice(path, problem))
            runtime.stop()
            return
        await asyncio.sleep(0.25)


async def run_daemon(settings: Settings, duration_s: float | None) -> int:
    # Catch SIGINT/SIGTERM from the very start: one that arrives while the feed,
    # store and API are still being set up stops the daemon cleanly right after.
    loop = asyncio.get_running_loop()
    stop_early = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_early.set)
    try:
        runtime = build_role_runtime(settings)
        node, lease = node_and_lease(settings)
    except SettingsError as exc:
        log.error("cannot start: %s", exc)
        return 2
    try:
        await runtime.start()
    except (StoreError, BusError) as exc:
        log.error("cannot start: %s", exc)
        await runtime.close()
        if lease is not None:
            await lease.release()
        return 1
    watch = StopWatch()

    def stop() -> None:
        watch.arm()
        runtime.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    if stop_early.is_set():
        runtime.stop()
    from gridtui.daemon.model_jobs import LivePredictor, StoreTrainer
    from gridtui.daemon.server import ApiStartError, start_api

    try:
        api = await start_api(
            settings,
            runtime,
            trainer=StoreTrainer(settings, runtime.store, runtime.clock.now),
            predictor=LivePredictor(runtime.kernel.components, runtime.clock.now),
            node=node,
        )
    except ApiStartError as exc:
        log.error("cannot start: %s", exc)
        await runtime.close()
        if lease is not None:
            await lease.release()
        return 1
    printer = asyncio.create_task(_log_opportunities(runtime), name="opportunity-log")
    watcher = lease_watcher(settings)
    leases = (
        asyncio.create_task(watcher.run(node.active_nodes.update), name="lease-watch")
        if watcher is not None
        else None
    )
    damage: list[str] = []
    watchdog = asyncio.create_task(_stop_on_damage(runtime, damage), name="store-damage")
    log.info(
        "daemon started",
        extra={
            "feed": settings.feed.kind,
            "store": runtime.store.backend,
            "bus": runtime.bus.backend,
            "markets": ",".join(settings.markets),
            "role": node.role,
            "node": node.node_id,
        },
    )
    try:
        stats = await run_node(runtime, node, lease, settings.markets, duration_s)
    except FeedError as exc:
        log.error("feed failed: %s", exc)
        return 1
    except LeaseLost as exc:
        log.error("stepping down: %s; restart this node to stand by again", exc)
        return 1
    finally:
        printer.cancel()
        watchdog.cancel()
        if leases is not None:
            leases.cancel()
            await asyncio.gather(leases, return_exceptions=True)
        if api is not None:
            await api.cleanup()
        await runtime.close()
        watch.disarm()
    log.info(
        "daemon stopped",
        extra={
            "events": stats.events_in,
            "accepted": stats.accepted,
            "rejected": runtime.validator.rejected_total,
            "derived": stats.derived,
            "events_per_s": round(runtime.kernel.events_per_s()),
            "stored": runtime.writer.stats.written,
            "pending": runtime.writer.pending,
        },
    )
    return 3 if damage else 0
