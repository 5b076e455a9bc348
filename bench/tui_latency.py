"""TUI latency under a flood: event-loop lag and key-to-screen time, flood beside idle.

Runs the real dashboard — GridApp over an InProcessClient: mock feed → kernel →
validation, spreads → SQLite store (temp dir) → memory bus → the app's one
subscription worker — headless in a 160x48 terminal, twice per zone count of
``--zones`` (default ``6,40``: today's six markets as the baseline, and the first
40 bidding zones of :data:`engine.market.zones.ZONES`, 780 spread pairs), each run
in a process of its own, as each ``gridtui dashboard`` is:

* **idle**: the mock feed at its default pace (one tick per market every 10 s);
* **flood**: the mock feed at 10,000 intraday ticks per second, spread over all
  the markets of the run.

For each run it measures:

* **event-loop lag**: a probe task asks to sleep 5 ms, over and over; lag is how
  late it wakes up. Anything that blocks the loop (folding events, rendering,
  the engine itself, which shares the loop) shows up here. Target: p99 <= 50 ms.
* **key to screen**: the key ``p`` (pause / resume) is posted to the app the way
  the terminal driver posts it, and the clock stops when the compositor hands
  the terminal a frame that shows the new state (``PAUSED`` / ``▶ SIM`` or ``▶ LIVE``
  in the status bar); the frame is rendered to terminal bytes as a real terminal would
  get them. Target: <= 100 ms.

Run: ``.venv/bin/python bench/tui_latency.py [--zones 6,40] [--seconds 6] [--rate 10000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.console import RenderableType as Renderable
from rich.table import Table
from textual import events
from textual._compositor import CompositorUpdate
from textual.screen import Screen

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from engine.market.zones import ZONES  # noqa: E402
from gridtui.client.in_process import InProcessClient  # noqa: E402
from gridtui.settings.loader import load_settings  # noqa: E402
from gridtui.tui.app import GridApp  # noqa: E402 — needs the path above

SIZE = (160, 48)
PROBE_SLEEP_S = 0.005
KEY_PRESSES = 20
# The status bar's right-hand end: paused, or the kind of time that runs again (the
# simulator runs on a SimClock at 1x, which the bar calls SIM, not LIVE).
PAUSED = ("PAUSED",)
RESUMED = ("▶ LIVE", "▶ SIM", "▶ REPLAY")
# LU is a control area inside DE-LU, not a zone with its own price: left out.
ZONE_ORDER = tuple(code for code in ZONES if code != "LU")


class TimedApp(GridApp):
    """GridApp that notes when each frame reaches the (headless) terminal, and what it said."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.frames: list[tuple[float, str]] = []
        self.watching = False

    def _display(self, screen: Screen[object], renderable: Renderable | None) -> None:
        super()._display(screen, renderable)
        if self.watching and isinstance(renderable, CompositorUpdate):
            # What a real terminal would be sent; rendering it is part of the latency.
            self.frames.append((time.perf_counter(), renderable.render_segments(self.console)))


@dataclass
class Result:
    name: str
    ticks_per_s: float = 0.0
    lag_ms: list[float] = field(default_factory=list)
    key_ms: list[float] = field(default_factory=list)
    frames: int = 0
    dropped: int = 0
    elapsed_s: float = 1.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


async def probe_lag(stop: asyncio.Event, lags_ms: list[float]) -> None:
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(PROBE_SLEEP_S)
        lags_ms.append((time.perf_counter() - asked - PROBE_SLEEP_S) * 1000)


async def key_to_screen(app: TimedApp, markers: tuple[str, ...], timeout_s: float = 2.0) -> float:
    """Post ``p`` as the driver would; ms until a frame containing one of ``markers`` is drawn."""
    app.frames.clear()
    pressed = time.perf_counter()
    app.post_message(events.Key("p", "p"))
    deadline = pressed + timeout_s
    while time.perf_counter() < deadline:
        for drawn_at, text in app.frames:
            if any(marker in text for marker in markers):
                return (drawn_at - pressed) * 1000
        await asyncio.sleep(0.001)
    raise TimeoutError(f"no frame showed {markers} within {timeout_s} s")


async def run(
    name: str, markets: tuple[str, ...], tick_interval_s: float, seconds: float
) -> Result:
    result = Result(name)
    with tempfile.TemporaryDirectory(prefix="gridtui-bench-") as data_dir:
        settings = load_settings(
            environ={},
            overrides={
                "data_dir": data_dir,
                "markets": list(markets),
                "feed": {"tick_interval_s": tick_interval_s},
            },
        )
        client = InProcessClient(settings)
        # As `gridtui dashboard` runs it (freeze_gc: see GridApp).
        app = TimedApp(client, ui=settings.ui, keys=settings.keys, freeze_gc=True)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(1.0)  # warm up: engine started, first frames drawn
            app.watching = True
            stop = asyncio.Event()
            probe = asyncio.create_task(probe_lag(stop, result.lag_ms))
            events_before, frames_before = client.stats().events_in, app.frames_applied
            started = time.perf_counter()
            for _ in range(KEY_PRESSES // 2):
                await asyncio.sleep(seconds / KEY_PRESSES)
                result.key_ms.append(await key_to_screen(app, PAUSED))
                await asyncio.sleep(seconds / KEY_PRESSES)
                result.key_ms.append(await key_to_screen(app, RESUMED))
            elapsed = result.elapsed_s = time.perf_counter() - started
            stop.set()
            await probe
            stats = client.stats()
            result.ticks_per_s = (stats.events_in - events_before) / elapsed
            result.frames = app.frames_applied - frames_before
            result.dropped = stats.dropped_for_viewer
            await app.action_quit()
    return result


def report(results: list[Result], rate: float) -> None:
    table = Table(title=f"gridtui dashboard latency, {SIZE[0]}x{SIZE[1]}, headless")
    table.add_column("run")
    table.add_column("events in /s", justify="right")
    table.add_column("frames /s", justify="right")
    table.add_column("loop lag p50", justify="right")
    table.add_column("loop lag p99", justify="right")
    table.add_column("loop lag max", justify="right")
    table.add_column("key→screen p50", justify="right")
    table.add_column("key→screen p99", justify="right")
    table.add_column("viewer skipped", justify="right")
    for r in results:
        table.add_row(
            r.name,
            f"{r.ticks_per_s:,.0f}",
            f"{r.frames / r.elapsed_s:.1f}",
            f"{percentile(r.lag_ms, 0.50):.1f} ms",
            f"{percentile(r.lag_ms, 0.99):.1f} ms",
            f"{max(r.lag_ms, default=float('nan')):.1f} ms",
            f"{statistics.median(r.key_ms):.1f} ms",
            f"{percentile(r.key_ms, 0.99):.1f} ms",
            f"{r.dropped:,}",
        )
    console = Console(width=max(Console().width, 120))
    console.print(table)
    console.print(
        f"idle: a tick per market every 10 s; flood: {rate:,.0f} intraday ticks/s. "
        "Rendering is paused half of each run (the key presses toggle it)."
    )
    for flood in (r for r in results if r.name.endswith("flood")):
        lag_p99 = percentile(flood.lag_ms, 0.99)
        key_p99 = percentile(flood.key_ms, 0.99)
        console.print(
            f"{flood.name}, {rate:,.0f} ticks/s: loop lag p99 {lag_p99:.1f} ms "
            f"(<= 50 ms {'met' if lag_p99 <= 50 else 'MISSED'}); key to screen p99 "
            f"{key_p99:.1f} ms (<= 100 ms {'met' if key_p99 <= 100 else 'MISSED'})"
        )


def run_apart(
    name: str, markets: tuple[str, ...], tick_interval_s: float, seconds: float
) -> Result:
    """One run in a process of its own, as each ``gridtui dashboard`` is: an app that
    ran before in the same process would leave its objects to the garbage collector
    of the next one (and its frozen ones in memory)."""
    command = [sys.executable, __file__, "--one", name, ",".join(markets)]
    command += [repr(tick_interval_s), repr(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the run failed:\n{done.stderr[-3000:]}")
    return Result(**json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured time per run")
    parser.add_argument("--rate", type=float, default=10_000, help="flood: intraday ticks/s")
    parser.add_argument("--zones", default="6,40", help="zone counts to run, e.g. 6,40")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)  # a child: one run, JSON out
    args = parser.parse_args()
    if args.one:
        name, markets, interval, seconds = args.one
        result = asyncio.run(run(name, tuple(markets.split(",")), float(interval), float(seconds)))
        print(json.dumps(asdict(result)))
        return
    results = []
    for count in (int(part) for part in args.zones.split(",") if part.strip()):
        if not 1 <= count <= len(ZONE_ORDER):
            raise SystemExit(f"--zones: each count must be 1..{len(ZONE_ORDER)}, got {count}")
        markets = ZONE_ORDER[:count]
        results.append(run_apart(f"{count} zones idle", markets, 10.0, args.seconds))
        results.append(run_apart(f"{count} zones flood", markets, count / args.rate, args.seconds))
    report(results, args.rate)


if __name__ == "__main__":
    main()
