"""Regenerate docs/dashboard.svg (and docs/rewind.svg): the real dashboard, as `gridtui --demo`
shows it, live or rewound.

Runs the dashboard headless on the in-process engine (mock feed at 120x real
time, a throwaway SQLite store), lets it run for a few seconds so the chart and
the spreads fill in, and saves Textual's SVG screenshot. No scripted data: what
a user sees (the Backtests pane stays empty until a run is started).

Run: ``.venv/bin/python docs/make_screenshot.py [--seconds 25] [--size 160x48]``
(25 s lets the default batteries dispatch their first hours). With
``--rewind-minutes 20`` it then goes back that far in the recording, as the
``[`` / ``,`` keys do, and saves the rewound frame:
``docs/make_screenshot.py --seconds 40 --rewind-minutes 30 --out docs/rewind.svg``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from engine.clock import SimClock  # noqa: E402 — needs the path above
from gridtui.client.in_process import InProcessClient  # noqa: E402
from gridtui.commands.dashboard import DEMO_SPEED, DEMO_TICK_INTERVAL_S  # noqa: E402
from gridtui.settings.loader import load_settings  # noqa: E402
from gridtui.tui.app import GridApp  # noqa: E402
from gridtui.wiring import build_runtime  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--size", default="160x48", help="WIDTHxHEIGHT")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("dashboard.svg"))
    parser.add_argument("--rewind-minutes", type=float, help="rewind this far before the shot")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="gridtui-screenshot-") as data_dir:
        settings = load_settings(
            environ={},
            overrides={"data_dir": data_dir, "feed": {"tick_interval_s": DEMO_TICK_INTERVAL_S}},
        )
        clock = SimClock(datetime.now(UTC), speed=DEMO_SPEED)
        client = InProcessClient(settings, build_runtime(settings, clock=clock))
        app = GridApp(client, ui=settings.ui, keys=settings.keys)
        async with app.run_test(size=(width, height)) as pilot:
            await pilot.pause(args.seconds)
            title = "gridtui --demo"
            if args.rewind_minutes:
                now = app.model.now
                assert now is not None, "no prices yet: give it more --seconds"
                await app.rewind.show(now - timedelta(minutes=args.rewind_minutes))
                await pilot.pause(0.5)
                title += " · rewind"
            svg = app.export_screenshot(title=title)
            await app.action_quit()
    args.out.write_text(svg)
    print(f"wrote {args.out} ({width}x{height})")


if __name__ == "__main__":
    asyncio.run(main())
