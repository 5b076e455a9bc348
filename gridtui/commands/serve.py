"""``gridtui serve``: the dashboard in a browser (textual-serve), every tab on one daemon.

Without ``--connect`` the engine and its API run in this process (the daemon
``gridtui daemon`` runs, :mod:`gridtui.serve.local_daemon`); with it, tabs attach
to that daemon. Each tab is its own ``gridtui dashboard --connect`` process
(:mod:`gridtui.serve.web`), watch-only unless opened with the daemon's token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys
from typing import Any
from urllib.parse import urlsplit

from gridtui.commands.common import add_common, put
from gridtui.settings.loader import Settings

HELP = """\
Serve the dashboard to web browsers: the same panes and keys as in a terminal,
drawn by xterm.js in the page. Every browser tab runs its own dashboard attached
to ONE engine: the daemon given with --connect, or else one started right here
(the engine `gridtui daemon` runs, with its API on 127.0.0.1:8765), which
terminals can attach to as well with `gridtui --connect`.

Tabs watch only: their trading keys (strategy toggles, the kill switch,
backtests) are refused, saying why. To trade from a tab, open the address once
with the daemon's API token, e.g. http://127.0.0.1:8000/?token=… (the token is in
the daemon's DATA_DIR/api-token): the daemon checks it, the browser keeps an
HttpOnly cookie for 12 hours instead, and the token leaves the address bar.

examples:
  gridtui serve                                  # engine here, dashboard on http://127.0.0.1:8000
  gridtui serve --tick-interval 1 --port 8080    # a faster simulated market, another port
  gridtui serve --connect http://127.0.0.1:8765  # tabs attach to a running `gridtui daemon`
  gridtui serve --host 0.0.0.0 --allow-remote    # other machines too (put TLS in front)
  gridtui --connect http://127.0.0.1:8765        # a terminal watching the same engine

Only localhost, 127.0.0.1, ::1, the bound address and api.allowed_hosts are
answered (no DNS rebinding), and a tab's WebSocket must come from the page itself.
"""


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port 0–65535, not {text!r}")
    return value


def _daemon_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"expected the daemon's http(s) address, e.g. http://127.0.0.1:8765, not {text!r}"
        )
    return text.strip().rstrip("/")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="serve the dashboard to web browsers, every tab on one engine",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address to serve the page on (default 127.0.0.1; others need --allow-remote)",
    )
    parser.add_argument(
        "--port", type=_port, default=8000, metavar="PORT", help="TCP port (default 8000)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach (the page carries no TLS: put a proxy "
        "with TLS in front)",
    )
    parser.add_argument(
        "--connect",
        type=_daemon_url,
        metavar="URL",
        help="attach every tab to this running daemon instead of starting one here",
    )
    engine = parser.add_argument_group("the engine started here (without --connect)")
    engine.add_argument(
        "--api-port",
        type=_port,
        metavar="PORT",
        help="its API's port, for terminals and tabs (default api.port, 8765; 0 = any free)",
    )
    engine.add_argument(
        "--tick-interval",
        type=float,
        metavar="SECONDS",
        help="simulator: seconds between ticks per market (default 10)",
    )
    engine.add_argument("--seed", type=int, help="simulator random seed (default 42)")
    engine.add_argument(
        "--store", metavar="URL", help="sqlite (default) | sqlite:PATH | postgresql://…"
    )
    engine.add_argument("--bus", metavar="URL", help="memory (default) | redis://host:6379/0")
    add_common(parser)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {}
    put(found, "api", "port", args.api_port)
    put(found, "feed", "tick_interval_s", args.tick_interval)
    put(found, "feed", "seed", args.seed)
    put(found, "store", "url", args.store)
    put(found, "bus", "url", args.bus)
    return found


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not _is_local(args.host) and not args.allow_remote:
        print(
            f"gridtui serve: --host {args.host!r} lets other machines open the dashboard; "
            "add --allow-remote to mean it (and put TLS in front), or keep the default "
            "127.0.0.1",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(run_serve(args, settings))


async def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM (or until the local engine stops); returns the exit status."""
    from aiohttp import web

    from gridtui.client.remote import RemoteClient
    from gridtui.serve.local_daemon import LocalDaemonError, local_daemon
    from gridtui.serve.web import DashboardServer

    stop = asyncio.Event()
    signalled: list[int] = []

    def on_signal(number: int) -> None:
        signalled.append(number)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    async with contextlib.AsyncExitStack() as stack:
        if args.connect:
            daemon_url = args.connect
            probe = RemoteClient(daemon_url)
            try:
                await probe.connect()
            except (ConnectionError, ValueError, KeyError) as exc:
                print(f"gridtui serve: cannot attach to {daemon_url}: {exc}", file=sys.stderr)
                return 1
            finally:
                await probe.close()
            engine = f"the daemon at {daemon_url}"
        else:
            try:
                daemon = await stack.enter_async_context(local_daemon(settings))
            except LocalDaemonError as exc:
                print(f"gridtui serve: cannot start the engine: {exc}", file=sys.stderr)
                return 1
            daemon.engine.add_done_callback(lambda _: stop.set())
            daemon_url = daemon.url
            engine = f"the engine here, its API on {daemon_url}"
        server = DashboardServer(
            daemon_url,
            host=args.host,
            port=args.port,
            allowed_hosts=settings.api.allowed_hosts,
            config=args.config,
        )
        # No access log: a `?token=` in a request line must not land in a log.
        runner = web.AppRunner(
            server.make_app(), handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        try:
            await web.TCPSite(runner, args.host, args.port).start()
        except OSError as exc:
            print(
                f"gridtui serve: cannot serve on {args.host}:{args.port}: "
                f"{exc.strerror or exc} (choose --port)",
                file=sys.stderr,
            )
            return 1
        host, port = runner.addresses[0][:2]
        page = f"http://{f'[{host}]' if ':' in str(host) else host}:{port}"
        print(
            f"gridtui serve: the dashboard on {page} (tabs watch only)\n"
            f"  to trade in a tab, open {page}/?token=<the daemon's API token>\n"
            f"  engine: {engine}; terminals: gridtui --connect {daemon_url}\n"
            "  Ctrl-C stops",
            flush=True,
        )
        await stop.wait()
    if not signalled:
        # The local engine ended on its own (the feed failed or ran out): say so.
        print("gridtui serve: the engine stopped; see the log above", file=sys.stderr)
        return 1
    return 0
