"""Draws ``docs/cockpit.svg``: the Gates pane of a real in-process engine, from a Pilot run.

The simulator runs on a 360× clock from 11:40 CET on 2025-01-06 with the battery,
mining and technical strategies switched on, into a throwaway data dir; once the
DE day-ahead gate (12:00 CET) is less than ten minutes away the pane is zoomed
and saved. Run from the repository root::

    PYTHONPATH=$PWD .venv/bin/python docs/make_cockpit_screenshot.py [docs/cockpit.svg]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from engine.clock import SimClock
from gridtui.client.in_process import InProcessClient
from gridtui.settings.loader import load_settings
from gridtui.tui.app import GridApp
from gridtui.tui.widgets.cockpit_table import CockpitTable
from gridtui.wiring import build_runtime

START = datetime(2025, 1, 6, 10, 40, tzinfo=UTC)  # 11:40 in Brussels
SIZE = (124, 22)


async def draw(out: Path) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            environ={},
            overrides={
                "data_dir": data_dir,
                "strategies": {"autostart": ["battery", "mining", "technical"]},
            },
        )
        client = InProcessClient(
            settings, build_runtime(settings, clock=SimClock(START, speed=360))
        )
        app = GridApp(client)
        async with app.run_test(size=SIZE) as pilot:
            table = app.dashboard.query_one(CockpitTable)

            def close_to_the_gate() -> bool:
                rows = [g for g in table.gates if g.market == "DE" and g.auction == "DA"]
                return bool(rows) and 0 < rows[0].seconds_to_gate < 600

            for _ in range(600):
                if close_to_the_gate():
                    break
                await pilot.pause(0.05)
            else:
                raise SystemExit("the DE gate never came within ten minutes")
            app.dashboard.focus_pane("gates")
            app.dashboard.toggle_zoom()
            await pilot.pause(0.2)
            app.save_screenshot(filename=out.name, path=str(out.parent))
            await app.action_quit()
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(draw(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/cockpit.svg")))
