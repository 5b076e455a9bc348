"""Property tests: shuffled, duplicated, missing, out-of-range and garbage points.

Whatever the points of a Period look like, the parser returns a document (it
never raises for bad points), keeps exactly the first good value of each
position, and says in ``problems`` what it dropped. In an A03 curve the block
of a dropped unreadable point stays unknown (NaN) until the next good point.
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.entsoe import convert
from feeds.entsoe.parse import ParseError, parse
from tests.feeds.entsoe_server import PUBLICATION_NS, price_document

START = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)

good_value = st.floats(min_value=-500, max_value=4000, allow_nan=False).map(lambda v: round(v, 2))
bad_value = st.sampled_from(["NaN", "inf", "-inf", "abc", "", "1e999", None])
point = st.tuples(
    st.integers(min_value=-2, max_value=30),  # out of range on both sides of 1..count
    st.one_of(good_value, bad_value),
)


def document(points, *, count: int, minutes: int, curve_type: str) -> bytes:
    end = START + timedelta(minutes=minutes * count)
    rendered = []
    for position, value in points:
        value_tag = "" if value is None else f"<price.amount>{value}</price.amount>"
        rendered.append(f"<Point><position>{position}</position>{value_tag}</Point>")
    return (
        f'<Publication_MarketDocument xmlns="{PUBLICATION_NS}"><type>A44</type><TimeSeries>'
        f"<curveType>{curve_type}</curveType><Period><timeInterval>"
        f"<start>{START:%Y-%m-%dT%H:%MZ}</start><end>{end:%Y-%m-%dT%H:%MZ}</end></timeInterval>"
        f"<resolution>PT{minutes}M</resolution>{''.join(rendered)}</Period></TimeSeries>"
        "</Publication_MarketDocument>"
    ).encode()


def is_good(value) -> bool:
    if value is None or isinstance(value, str):
        try:
            return value is not None and math.isfinite(float(value))
        except ValueError:
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(point, max_size=40).flatmap(st.permutations),
    count=st.integers(min_value=1, max_value=24),
    minutes=st.sampled_from([15, 30, 60]),
    curve_type=st.sampled_from(["A01", "A03"]),
)
def test_bad_points_never_crash_and_are_reported(points, count, minutes, curve_type):
    parsed = parse(document(points, count=count, minutes=minutes, curve_type=curve_type))
    (series,) = parsed.series
    (period,) = series.periods
    assert len(period.values) == count
    assert period.resolution_minutes == minutes

    expected: dict[int, float] = {}
    unreadable: set[int] = set()
    dropped = 0
    for position, value in points:
        if 1 <= position <= count and not is_good(value):
            unreadable.add(position)
        if not 1 <= position <= count or not is_good(value) or position in expected:
            dropped += 1
            continue
        expected[position] = float(value)
    for position, value in expected.items():
        assert period.values[position - 1] == value
    if dropped:
        assert any("dropped" in p for p in parsed.problems)
    missing = [p for p in range(1, count + 1) if p not in expected]
    if curve_type == "A01":
        assert all(math.isnan(period.values[p - 1]) for p in missing)
        if missing:
            assert any("no value" in p for p in parsed.problems)
    else:
        # An unreadable point (with no good twin) starts a block of unknown value.
        last = math.nan
        for position in range(1, count + 1):
            if position in expected:
                last = expected[position]
            elif position in unreadable:
                last = math.nan
            value = period.values[position - 1]
            assert value == last or (math.isnan(value) and math.isnan(last))
    if not dropped and not missing:
        assert parsed.problems == []
    # The conversion on top never crashes either, and keeps only real values.
    ticks = convert.day_ahead_prices(parsed, "DE")
    assert all(math.isfinite(t.price_eur_mwh) for t in ticks)
    assert [t.ts for t in ticks] == sorted({t.ts for t in ticks})


VALID = price_document(
    "10Y1001A1001A82H", START, START + timedelta(days=2), lambda ts: float(ts.hour)
)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(VALID)))
def test_a_truncated_document_is_a_parse_error_never_a_crash(cut):
    body = VALID[:cut]
    try:
        parsed = parse(body)
    except ParseError:
        return
    # Only a cut after the closing root tag still parses.
    assert parsed.point_count() == 48


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_are_a_parse_error_or_a_document(body):
    with contextlib.suppress(ParseError):
        parse(body)
