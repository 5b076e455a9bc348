"""Real ENTSO-E A65 (load) and A75 (generation per type) documents into the Fundamentals pane.

The documents are the real responses under ../shared/data/entsoe; the test
skips when that folder is absent. They are of two zones and days (DK1 load of
2023-12-28, LU generation of 2024-05-21), so the real DK1 hourly load is laid
hour for hour onto the LU day to give the join something to match; wind and
solar are the LU document's own and are checked against its raw points.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feeds.entsoe import convert
from feeds.entsoe.parse import parse
from feeds.entsoe.zones import SOLAR_TYPES, WIND_TYPES
from gridtui.view_model import DashboardModel

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "entsoe"
A65 = FIXTURES / "A65-A16_DK1_actual-load_2023-12-28_PT60M.xml"
A75 = FIXTURES / "A75-A16_LU_generation-per-type_2024-05-21_PT15M.xml"

pytestmark = pytest.mark.skipif(
    not (A65.is_file() and A75.is_file()), reason="../shared/data/entsoe A65/A75 files are absent"
)


def test_real_load_and_generation_reach_the_pane() -> None:
    load = convert.values(parse(A65.read_bytes()), "load")
    generation_doc = parse(A75.read_bytes())
    generation = convert.generation(generation_doc)
    assert len(load) == 47 and {r.minutes for r in load} == {60}
    assert {r.psr_type for r in generation} >= {"B16", "B19"}

    shift = generation[0].ts - load[0].ts
    shift -= timedelta(minutes=shift.total_seconds() // 60 % 60)  # whole hours
    restamped = [r._replace(ts=r.ts + shift) for r in load]
    events = convert.fundamentals("LU", restamped, generation)
    assert len(events) >= 24  # hourly, where load and all four quarters of generation meet

    model = DashboardModel(["LU"])
    model.apply(events)
    (shown,) = model.snapshot().fundamentals
    newest = events[-1]
    hour = (newest.ts, newest.ts + timedelta(hours=1))

    def hourly_mean(types: frozenset[str]) -> float:
        """Mean over the hour of the types' summed quarter-hours, from the raw document."""
        total = 0.0
        for series in generation_doc.series:
            if series.psr_type not in types or series.in_domain is None:
                continue  # an out-domain-only series is consumption (pumping)
            for period in series.periods:
                total += sum(v for ts, v in period.points() if hour[0] <= ts < hour[1])
        return total / 4

    assert shown.wind_mw == pytest.approx(hourly_mean(WIND_TYPES))
    assert shown.solar_mw == pytest.approx(hourly_mean(SOLAR_TYPES))
    loads = {r.ts: r.value_mw for r in restamped}
    assert shown.load_mw == pytest.approx(loads[newest.ts])
    assert shown.residual_mw == pytest.approx(newest.load_mw - newest.wind_mw - newest.solar_mw)
    assert shown.source == "entsoe"
