"""Daemon API under load, on 127.0.0.1 only: REST latency and WebSocket fan-out lag.

Two figures, each beside a baseline measured in the same run on the same machine:

* ``GET /api/prices/latest`` p50/p99 with 200 concurrent clients (keep-alive,
  one connection each), against the real daemon app (a running engine, SQLite
  store, every middleware: metrics, errors, rate limit off, auth). Baseline: a
  bare aiohttp server answering the same bytes from memory — what aiohttp alone
  costs here.
* WebSocket fan-out: the engine ingests 1,000 ticks/s (a paced feed, one tick
  every millisecond) and 50 clients subscribed to ``price_update`` each receive
  every tick; delivery lag = receive time − the tick's timestamp (same host
  clock), p50/p99/max, in per-message mode and in batch mode. Baseline: a bare
  aiohttp server broadcasting the same frames at the same rate.

A third figure, on the machine's real Redis and PostgreSQL (``--postgres``,
``--redis``; skipped, saying why, when either is unreachable): the same 200
clients against **one** ``gridtui daemon --role api`` node, then spread over
**two** (100 each), in the same run, with the same ``--role ingest`` node feeding
both through the bus (a fresh schema and key prefix, removed afterwards).

The load generators are this script's own (aiohttp clients in 4–5 worker
processes, so they do not share the server's CPU core) and print their own
figures. Every run is bounded: ``--seconds`` per phase, ``--max-requests`` per
client.

Run: ``.venv/bin/python bench/api_load.py [--seconds 8] [--only-split]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import numpy as np
from aiohttp import web

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
HERE = Path(__file__).resolve()


# -- servers (run as child processes) --------------------------------------------------


class PacedFeed:
    """``rate`` ticks a second, one at a time, stamped with the wall clock when made."""

    name = "paced"

    def __init__(self, rate: float) -> None:
        self.rate = rate

    async def stream(self, clock: Any) -> AsyncIterator[Sequence[Any]]:
        from engine.events import PriceTick

        started = time.perf_counter()
        i = 0
        while True:
            due = started + i / self.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            market = MARKETS[i % len(MARKETS)]
            price = 60.0 + (i % 97) * 0.5 + MARKETS.index(market)
            yield [
                PriceTick(ts=datetime.now(UTC), market=market, price_eur_mwh=price, source="bench")
            ]
            i += 1


async def serve_daemon(rate: float) -> None:
    from engine.alerts.engine import AlertEngine
    from engine.bus.memory import MemoryBus
    from engine.clock import LiveClock
    from engine.runtime import Runtime
    from engine.spreads.engine import SpreadEngine
    from engine.store.sqlite import SqliteStore
    from gridtui.client.in_process import InProcessClient
    from gridtui.daemon.app import create_app, start_server
    from gridtui.daemon.auth import TokenAuth
    from gridtui.daemon.state import DaemonEngine
    from gridtui.settings.daemon import ApiSettings
    from gridtui.settings.loader import Settings

    with tempfile.TemporaryDirectory(prefix="gridtui-bench-") as scratch:
        settings = Settings(
            markets=MARKETS,
            data_dir=scratch,
            api=ApiSettings(rate_limit_per_s=0, max_ws_clients=500, ws_queue_size=20_000),
        )
        clock = LiveClock()
        runtime = Runtime(
            feed=PacedFeed(rate),
            clock=clock,
            bus=MemoryBus(),
            store=SqliteStore(Path(scratch) / "bench.db"),
            components=[SpreadEngine(settings.spreads), AlertEngine(settings.alerts.rules())],
        )
        await runtime.start()
        kernel = asyncio.create_task(runtime.run())
        auth, _ = TokenAuth.load_or_create(Path(scratch) / "api-token")
        engine = DaemonEngine(
            runtime=runtime,
            client=InProcessClient(settings, runtime),
            settings=settings,
            started_monotonic=clock.monotonic(),
        )
        runner, url = await start_server(create_app(engine, settings.api, auth), "127.0.0.1", 0)
        await _announce_and_wait(url)
        await runner.cleanup()
        runtime.stop()
        await kernel
        await runtime.close()


async def serve_baseline(rate: float) -> None:
    """Bare aiohttp: a fixed JSON answer, and a broadcast of price frames at ``rate``/s."""
    body = json.dumps(
        {
            "markets": [
                {
                    "market": m,
                    "price": 60.0,
                    "timestamp": "2026-01-05T12:00:00+00:00",
                    "kind": "intraday",
                }
                for m in MARKETS
            ],
            "count": 6,
            "retrieved_at": "2026-01-05T12:00:00+00:00",
        }
    ).encode()
    clients: set[web.WebSocketResponse] = set()

    async def latest(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        clients.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            clients.discard(ws)
        return ws

    async def broadcast() -> None:
        started = time.perf_counter()
        i = 0
        while True:
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            frame = msgspec.json.encode(
                {
                    "type": "price_update",
                    "data": {
                        "type": "PriceTick",
                        "ts": datetime.now(UTC),
                        "market": "DE",
                        "price_eur_mwh": 60.0,
                        "kind": "intraday",
                        "source": "bench",
                    },
                }
            )
            for ws in list(clients):
                if not ws.closed:
                    await ws.send_frame(frame, aiohttp.WSMsgType.TEXT)
            i += 1

    app = web.Application()
    app.router.add_get("/api/prices/latest", latest)
    app.router.add_get("/ws/real-time", websocket)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    sender = asyncio.create_task(broadcast())
    await _announce_and_wait(f"http://{host}:{port}")
    sender.cancel()
    await runner.cleanup()


async def _announce_and_wait(url: str) -> None:
    print(f"URL {url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


# -- load generators (run as child processes) ------------------------------------------


async def http_clients(url: str, clients: int, seconds: float, max_requests: int) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_client() -> None:
            nonlocal errors
            for _ in range(max_requests):
                if time.perf_counter() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    async with session.get(f"{url}/api/prices/latest") as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                            continue
                except aiohttp.ClientError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one_client() for _ in range(clients)))
    print(json.dumps({"latencies": latencies, "errors": errors}), flush=True)


class _Data(msgspec.Struct):
    ts: datetime | None = None


class _Message(msgspec.Struct):
    type: str
    data: _Data | None = None
    messages: list[_Message] | None = None


async def ws_clients(url: str, clients: int, seconds: float, batch: bool) -> None:
    decoder = msgspec.json.Decoder(_Message)  # typed: parses only what it needs
    lags: list[float] = []
    counts: list[int] = []
    ws_url = url.replace("http://", "ws://") + "/ws/real-time?types=price_update"
    if batch:
        ws_url += "&batch=1"
    async with aiohttp.ClientSession() as session:

        async def one_client() -> None:
            received = 0
            async with session.ws_connect(ws_url, max_msg_size=0) as ws:
                # One deadline for the whole phase: a timeout per receive() cost
                # this load generator a sixth of its CPU, which on two cores is
                # taken from the server it measures.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(seconds):
                        async for message in ws:
                            if message.type != aiohttp.WSMsgType.TEXT:
                                break
                            now = datetime.now(UTC)
                            frame = decoder.decode(message.data)
                            frames = frame.messages or [] if frame.type == "batch" else [frame]
                            for item in frames:
                                data = item.data
                                if item.type != "price_update" or data is None or not data.ts:
                                    continue
                                lags.append((now - data.ts).total_seconds())
                                received += 1
            counts.append(received)

        await asyncio.gather(*(one_client() for _ in range(clients)))
    print(json.dumps({"lags": lags, "counts": counts}), flush=True)


# -- the orchestrator -------------------------------------------------------------------


def start(role: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE), "--role", role, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("URL "):
        process.kill()
        raise RuntimeError(f"{role} did not start")
    return process, line.split()[1]


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(30)


def run_workers(role: str, workers: int, *args: str) -> list[dict[str, Any]]:
    return run_worker_list(role, [list(args)] * workers)


def run_worker_list(role: str, arg_lists: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """One load-generator process per argument list, run together; their JSON results."""
    children = [
        subprocess.Popen(
            [sys.executable, str(HERE), "--role", role, *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)},
        )
        for args in arg_lists
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=300)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def ms(values: np.ndarray, q: float) -> str:
    return f"{np.percentile(values, q) * 1000:,.2f}"


def http_phase(
    url: str | Sequence[str], seconds: float, max_requests: int
) -> tuple[np.ndarray, int, float]:
    """200 concurrent clients in 4 workers; several URLs: the workers take turns."""
    urls = [url] if isinstance(url, str) else list(url)
    workers, per_worker = 4, 50  # 200 concurrent clients
    started = time.perf_counter()
    results = run_worker_list(
        "http-client",
        [
            [
                "--url",
                urls[i % len(urls)],
                "--clients",
                str(per_worker),
                "--seconds",
                str(seconds),
                "--max-requests",
                str(max_requests),
            ]
            for i in range(workers)
        ],
    )
    elapsed = time.perf_counter() - started
    latencies = np.array([x for r in results for x in r["latencies"]])
    return latencies, sum(r["errors"] for r in results), elapsed


def ws_phase(url: str, seconds: float, batch: bool) -> tuple[np.ndarray, list[int]]:
    workers, per_worker = 5, 10  # 50 clients
    args = ["--url", url, "--clients", str(per_worker), "--seconds", str(seconds)]
    results = run_workers("ws-client", workers, *args, *(["--batch"] if batch else []))
    return np.array([x for r in results for x in r["lags"]]), [
        c for r in results for c in r["counts"]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", default="main")
    parser.add_argument("--url")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--max-requests", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--only-split", action="store_true", help="only the one-vs-two API nodes figure"
    )
    args = parser.parse_args()
    if args.role == "daemon":
        asyncio.run(serve_daemon(args.rate))
        return
    if args.role == "baseline":
        asyncio.run(serve_baseline(args.rate))
        return
    if args.role == "http-client":
        asyncio.run(http_clients(args.url, args.clients, args.seconds, args.max_requests))
        return
    if args.role == "ws-client":
        asyncio.run(ws_clients(args.url, args.clients, args.seconds, args.batch))
        return

    print(f"gridtui API load — 127.0.0.1, {os.cpu_count()} CPUs, {args.seconds:g} s a phase")
    if args.only_split:
        split_phase(args)
        return
    print("\nGET /api/prices/latest, 200 concurrent clients (keep-alive)")
    print(f"{'server':<34}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for label, role, rate in (
        ("gridtui daemon (engine at 100/s)", "daemon", "100"),
        ("baseline: bare aiohttp", "baseline", "1"),
    ):
        server, url = start(role, "--rate", rate)
        try:
            time.sleep(1.0)  # a few ticks stored, so the answer is full
            latencies, errors, elapsed = http_phase(url, args.seconds, args.max_requests)
        finally:
            stop(server)
        print(
            f"{label:<34}{len(latencies):>10,}{len(latencies) / elapsed:>10,.0f}"
            f"{ms(latencies, 50):>10}{ms(latencies, 99):>10}{errors:>8}"
        )

    rate = args.rate
    expected = int(rate * args.seconds)
    print(
        f"\nWebSocket fan-out, 50 clients, {rate:,.0f} events/s (delivery lag = receive − tick ts)"
    )
    print(f"{'server':<34}{'delivered':>11}{'of ~':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for label, role, batch in (
        ("gridtui daemon, one msg/event", "daemon", False),
        ("gridtui daemon, batch mode", "daemon", True),
        ("baseline: bare aiohttp broadcast", "baseline", False),
    ):
        server, url = start(role, "--rate", str(rate))
        try:
            lags, counts = ws_phase(url, args.seconds, batch)
        finally:
            stop(server)
        print(
            f"{label:<34}{sum(counts):>11,}{expected * 50:>9,}{ms(lags, 50):>10}"
            f"{ms(lags, 99):>10}{lags.max() * 1000:>10,.2f}"
        )
        per_client = np.array(counts)
        print(f"{'':<34}per client min {per_client.min():,} / max {per_client.max():,}")
    split_phase(args)


# -- one API node vs two (daemon roles, real Redis + PostgreSQL) ------------------------


def split_phase(args: argparse.Namespace) -> None:
    """200 clients on one ``--role api`` node, then over two, fed by one ingest node."""
    sys.path.insert(0, str(HERE.parent))
    from split_nodes import SplitNodes, unreachable

    print("\nGET /api/prices/latest, 200 clients: one API node vs two (--role api, same run)")
    why = unreachable(args.postgres, args.redis)
    if why:
        print(f"skipped: {why}")
        return
    print(
        f"{'API nodes':<34}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
    )
    with SplitNodes(args.postgres, args.redis, api_nodes=2) as nodes:
        for label, urls in (
            ("one node (200 clients)", nodes.api_urls[:1]),
            ("two nodes (100 clients each)", nodes.api_urls),
        ):
            load_before = os.getloadavg()[0]
            latencies, errors, elapsed = http_phase(urls, args.seconds, args.max_requests)
            print(
                f"{label:<34}{len(latencies):>10,}{len(latencies) / elapsed:>10,.0f}"
                f"{ms(latencies, 50):>10}{ms(latencies, 99):>10}{errors:>8}"
                f"   (load average before: {load_before:.1f})"
            )
    # Two nodes help only where a core is idle: on a shared 2-core host the load
    # generators and the nodes compete for the same CPUs, hence the load average.


if __name__ == "__main__":
    main()
