"""ENTSO-E parse rate: a generated one-year PT15M day-ahead document of six zones.

Builds one A44 Publication_MarketDocument holding a TimeSeries per zone and
UTC day (6 × 365 × 96 = 210,240 points; A01 with every position present, and
an A03 variant whose prices hold for an hour, so that 3 of 4 positions are
left out and filled forward by the parser), then times
:func:`feeds.entsoe.parse.parse` alone and parse + conversion to PriceTicks.
Baseline measured in the same run: ``xml.etree.ElementTree.fromstring`` on the
same bytes, i.e. the cost of reading the XML at all.

Run: ``.venv/bin/python bench/entsoe_parse.py [--repeat 5]``.
Target (issue 4): one zone-year (35,040 PT15M points) in under 0.5 s.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from feeds.entsoe import convert  # noqa: E402 — needs the path above
from feeds.entsoe.document import Series  # noqa: E402
from feeds.entsoe.parse import parse  # noqa: E402
from feeds.entsoe.zones import DEFAULT_ZONES  # noqa: E402

NAMESPACE = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 365
TARGET_ZONE_YEAR_S = 0.5


def price(zone: int, step: int) -> float:
    """A plausible quarter-hourly shape: daily swing, weekly dip, zone offset."""
    hour = (step % 96) / 4
    day = step // 96
    level = 70 + 8 * zone - 25 * math.cos(2 * math.pi * hour / 24) - (10 if day % 7 >= 5 else 0)
    return round(level + 3 * math.sin(step * 0.7), 2)


def document(curve_type: str) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<Publication_MarketDocument xmlns="{NAMESPACE}">'
        "<mRID>bench</mRID><type>A44</type>"
    ]
    for zone, eic in enumerate(DEFAULT_ZONES.values()):
        for day in range(DAYS):
            start = START + timedelta(days=day)
            end = start + timedelta(days=1)
            points = []
            previous = None
            for position in range(1, 97):
                step = day * 96 + position - 1
                # The A03 variant holds each price for an hour (as hourly products
                # on a quarter-hour grid do), so 3 of 4 positions are left out.
                value = price(zone, step - step % 4 if curve_type == "A03" else step)
                if curve_type == "A03" and value == previous:
                    continue
                previous = value
                points.append(
                    f"<Point><position>{position}</position>"
                    f"<price.amount>{value}</price.amount></Point>"
                )
            parts.append(
                f"<TimeSeries><mRID>{zone * DAYS + day + 1}</mRID><auction.type>A01</auction.type>"
                f'<businessType>A62</businessType><in_Domain.mRID codingScheme="A01">{eic}'
                f'</in_Domain.mRID><out_Domain.mRID codingScheme="A01">{eic}</out_Domain.mRID>'
                f"<currency_Unit.name>EUR</currency_Unit.name><curveType>{curve_type}</curveType>"
                f"<Period><timeInterval><start>{start:%Y-%m-%dT%H:%MZ}</start>"
                f"<end>{end:%Y-%m-%dT%H:%MZ}</end></timeInterval><resolution>PT15M</resolution>"
                f"{''.join(points)}</Period></TimeSeries>"
            )
    parts.append("</Publication_MarketDocument>")
    return "\n".join(parts).encode()


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def to_ticks(body: bytes) -> int:
    """Parse, then PriceTicks per zone, as the client does for each response."""
    document = parse(body)
    markets = {eic: market for market, eic in DEFAULT_ZONES.items()}
    by_market: dict[str, list[Series]] = {}
    for series in document.series:
        by_market.setdefault(markets[series.in_domain or ""], []).append(series)
    return sum(
        len(convert.day_ahead_prices(msgspec.structs.replace(document, series=group), market))
        for market, group in by_market.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    zones = len(DEFAULT_ZONES)
    points = zones * DAYS * 96
    table = Table(
        title=f"ENTSO-E parse: {zones} zones × {DAYS} days × 96 PT15M, best of {args.repeat}"
    )
    for column in ("document", "step", "seconds", "points/s", "per zone-year"):
        table.add_column(column, justify="right" if column != "document" else "left")
    verdicts = []
    for curve_type in ("A01", "A03"):
        body = document(curve_type)
        assert parse(body).point_count() == points  # A03 filled forward to every position
        assert to_ticks(body) == points
        label = f"{curve_type}, {len(body) / 1e6:.1f} MB"
        steps = {
            "baseline: ET.fromstring": lambda body=body: ET.fromstring(body),
            "parse()": lambda body=body: parse(body),
            "parse() + PriceTicks": lambda body=body: to_ticks(body),
        }
        for step, work in steps.items():
            seconds = best_of(args.repeat, work)
            per_zone = seconds / zones
            table.add_row(
                label, step, f"{seconds:.3f}", f"{points / seconds:,.0f}", f"{per_zone:.3f} s"
            )
            if step == "parse() + PriceTicks":
                verdicts.append((curve_type, per_zone))
    console.print(table)
    for curve_type, per_zone in verdicts:
        verdict = "meets" if per_zone < TARGET_ZONE_YEAR_S else "MISSES"
        console.print(
            f"{curve_type}: one zone-year parsed into ticks in {per_zone:.3f} s "
            f"({verdict} the {TARGET_ZONE_YEAR_S} s target)"
        )


if __name__ == "__main__":
    main()
