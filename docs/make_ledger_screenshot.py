"""Regenerate docs/ledger.svg: the Batteries pane's capture ledger on real 2022 prices.

Two fleet batteries (DE and NL, 1 MW / 2 MWh, committed each day at the gate on
persistence) are run hour by hour over March 2022 of the shared prices, each
day's prices published at 12:45 the day before as a live feed publishes them
(:class:`engine.battery.fleet.BatteryFleet`). A real
:class:`engine.capture.book.CaptureBook` folds what they delivered, as the
engine's capture component does; the dashboard (fed those events) shows it
in the Batteries pane, zoomed, and Textual saves the SVG. The figures are
computed, not typed in. Needs ``../shared/data``.

Run: ``.venv/bin/python docs/make_ledger_screenshot.py [--size 120x30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.battery.fleet import BatteryFleet, BatteryUnit  # noqa: E402 — needs the path above
from engine.battery.physics import BatterySpec  # noqa: E402
from engine.capture.book import CaptureBook  # noqa: E402
from engine.events import Event, PriceKind, PriceTick  # noqa: E402
from gridtui.tui.app import GridApp  # noqa: E402
from tests.stubs.scripted_client import ScriptedClient, settle  # noqa: E402

BRUSSELS = ZoneInfo("Europe/Brussels")
FIRST, AFTER = date(2022, 3, 1), date(2022, 3, 24)
FEE = 0.10


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BRUSSELS).astimezone(UTC)


def day_ticks() -> dict[date, list[PriceTick]]:
    import pandas as pd

    frame = pd.read_parquet(REAL_PRICES)
    frame = frame[frame.market.isin(["DE", "NL"])]
    out: dict[date, list[PriceTick]] = {}
    for ts, market, price in frame.itertuples(index=False):
        at = ts.to_pydatetime()
        day = at.astimezone(BRUSSELS).date()
        if FIRST <= day < AFTER:
            out.setdefault(day, []).append(
                PriceTick(ts=at, market=str(market), price_eur_mwh=float(price),
                          kind=PriceKind.DAY_AHEAD, delivery_minutes=60)
            )  # fmt: skip
    return out


def run_fleet() -> list[Event]:
    days = day_ticks()
    specs = [BatterySpec(battery_id=f"bess-{m.lower()}", market=m) for m in ("DE", "NL")]
    fleet = BatteryFleet([BatteryUnit(s, forecast="persistence") for s in specs], fee_eur_mwh=FEE)
    now = local(FIRST)
    events: list[Event] = list(days[FIRST])
    events += fleet.on_events(days[FIRST], now)
    while now < local(AFTER):
        for minute in (0, 45):
            at = now + timedelta(minutes=minute)
            tomorrow = at.astimezone(BRUSSELS).date() + timedelta(days=1)
            if at == local(tomorrow - timedelta(days=1), 12, 45) and tomorrow in days:
                events += days[tomorrow]
                events += fleet.on_events(days[tomorrow], at)
            else:
                events += fleet.on_timer(at)
        now += timedelta(hours=1)
    return events


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="120x30", help="WIDTHxHEIGHT")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("ledger.svg"))
    args = parser.parse_args()
    if not REAL_PRICES.exists():
        raise SystemExit(f"needs {REAL_PRICES}")
    width, height = (int(n) for n in args.size.split("x"))
    specs = [BatterySpec(battery_id=f"bess-{m.lower()}", market=m) for m in ("DE", "NL")]
    client = ScriptedClient(
        run_fleet(), markets=("DE", "NL"), ledger=CaptureBook(specs, fee_eur_mwh=FEE)
    )
    app = GridApp(client)
    async with app.run_test(size=(width, height)) as pilot:
        await settle(pilot)
        await pilot.pause(1.5)  # the app asks for the ledger at most once a second
        app.dashboard.focus_pane("batteries")
        app.dashboard.toggle_zoom()
        await pilot.pause(0.5)
        svg = app.export_screenshot(title="gridtui: the capture ledger (Batteries pane)")
        await app.action_quit()
    args.out.write_text(svg)
    print(f"wrote {args.out} ({width}x{height})")


if __name__ == "__main__":
    asyncio.run(main())
