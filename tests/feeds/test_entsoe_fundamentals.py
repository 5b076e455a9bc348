"""ENTSO-E A65 (load: actual, day-ahead forecast) and A75 (generation) into the Fundamentals pane.

The live feed runs against the local fake API (tests.feeds.entsoe_server). The
real-document tests read the responses under ../shared/data/entsoe and skip
when that folder is absent. They are of two zones and days (DK1 load of
2023-12-28, LU generation of 2024-05-21), so the real DK1 hourly load is laid
hour for hour onto the LU day to give the join something to match; wind and
solar are the LU document's own and are checked against its raw points.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.clock import SimClock
from engine.events import Fundamentals
from feeds.entsoe import convert
from feeds.entsoe.parse import parse
from feeds.entsoe.zones import SOLAR_TYPES, WIND_TYPES
from gridtui.tui.view_model import DashboardModel
from tests.feeds.entsoe_server import FakeEntsoe
from tests.feeds.test_entsoe_live import T0, feed_for

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "entsoe"
A65 = FIXTURES / "A65-A16_DK1_actual-load_2023-12-28_PT60M.xml"
A65_FORECAST = FIXTURES / "A65-A01_NL_load-forecast_2020-11-19_PT15M.xml"
A75 = FIXTURES / "A75-A16_LU_generation-per-type_2024-05-21_PT15M.xml"

needs_real = pytest.mark.skipif(
    not (A65.is_file() and A65_FORECAST.is_file() and A75.is_file()),
    reason="../shared/data/entsoe A65/A75 files are absent",
)


async def test_the_live_feed_attaches_the_day_ahead_load_forecast() -> None:
    clock = SimClock(T0)
    async with FakeEntsoe() as api:
        api.actuals_until = T0.replace(minute=0)
        stream = feed_for(api, fundamentals=True).stream(clock)
        first = [e for e in await anext(stream) if isinstance(e, Fundamentals)]
        await stream.aclose()
    asked = [(r["documentType"], r.get("processType")) for r in api.requests]
    assert ("A65", "A01") in asked
    # The fake forecasts what it later measures: 50 GW + 100 MW per hour of the day.
    assert first and all(f.load_forecast_mw == 50_000.0 + 100 * f.ts.hour for f in first)
    model = DashboardModel(["DE"])
    model.apply(first)
    (shown,) = model.snapshot().fundamentals
    assert shown.load_forecast_mw == first[-1].load_forecast_mw


async def test_no_forecast_is_asked_when_no_interval_is_new() -> None:
    async with FakeEntsoe() as api:
        api.actuals_until = T0.replace(minute=0)
        feed = feed_for(api, fundamentals=True)
        await feed.poll(T0)
        before = len(api.of_type("A65"))
        assert not [e for e in await feed.poll(T0) if isinstance(e, Fundamentals)]
        # The second poll asked for the actual load again, not for the forecast.
        assert [r.get("processType") for r in api.of_type("A65")[before:]] == ["A16"]


@needs_real
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


@needs_real
def test_a_real_day_ahead_load_forecast_is_attached_hour_by_hour() -> None:
    forecast = convert.values(parse(A65_FORECAST.read_bytes()), "load forecast")
    assert len(forecast) == 96 and {r.minutes for r in forecast} == {15}
    generation = convert.generation(parse(A75.read_bytes()))
    load = convert.values(parse(A65.read_bytes()), "load")
    # Both loads laid onto the LU day (the fixtures are of other zones and days).
    day = generation[0].ts.replace(hour=0)
    actual = [r._replace(ts=day + timedelta(hours=i)) for i, r in enumerate(load)]
    ahead = [r._replace(ts=day + (r.ts - forecast[0].ts)) for r in forecast]
    events = convert.fundamentals("LU", actual, generation, load_forecast=ahead)
    with_forecast = [e for e in events if e.load_forecast_mw is not None]
    assert with_forecast
    event = with_forecast[0]
    quarters = [r.value_mw for r in ahead if event.ts <= r.ts < event.ts + timedelta(hours=1)]
    assert len(quarters) == 4
    assert event.load_forecast_mw == pytest.approx(sum(quarters) / 4)
