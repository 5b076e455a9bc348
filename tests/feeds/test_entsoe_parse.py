"""Parser tests over every real ENTSO-E response in ../shared/data/entsoe, and edge cases.

The real documents are third-party data that lives beside the repository; the
tests that read them skip when it is absent (a fresh clone elsewhere). CI has it.
"""

from __future__ import annotations

import io
import itertools
import math
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from engine.events import PriceKind
from feeds.entsoe import convert
from feeds.entsoe.document import Document
from feeds.entsoe.parse import ParseError, parse
from feeds.entsoe.times import resolution_minutes
from tests.feeds.entsoe_server import HTML_ERROR, acknowledgement, price_document

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIXTURES = DATA / "entsoe"
needs_shared = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/data is absent")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def load(prefix: str) -> Document:
    (path,) = FIXTURES.glob(f"{prefix}*.xml")
    return parse(path.read_bytes())


# -- every real file -----------------------------------------------------------------

EXPECTED = {
    # prefix: (root, document type, TimeSeries, points after A03 fill-forward)
    "A09_BE-to-NL": ("Publication_MarketDocument", "A09", 6, 576),
    "A11_DK1-to-GB": ("Publication_MarketDocument", "A11", 3, 44),
    "A44_DE-LU": ("Publication_MarketDocument", "A44", 4, 2 * 24 + 2 * 96),
    "A44_ES": ("Publication_MarketDocument", "A44", 4, 2 * 24 + 2 * 96),
    "A44_FR": ("Publication_MarketDocument", "A44", 2, 48),
    "A61_ES-to-FR": ("Publication_MarketDocument", "A61", 1, 41),
    "A65-A01_NL": ("GL_MarketDocument", "A65", 1, 96),
    "A65-A16_DK1": ("GL_MarketDocument", "A65", 1, 47),
    "A75-A16_LU": ("GL_MarketDocument", "A75", 12, 5 * 263 + 5 * 24 + 2 * 288),
}


@needs_shared
def test_every_real_file_is_covered():
    names = {p.name for p in FIXTURES.glob("*.xml")}
    covered = {n for n in names if any(n.startswith(prefix) for prefix in EXPECTED)}
    assert names - covered == {"Acknowledgement_999_no-matching-data.xml"}


@needs_shared
@pytest.mark.parametrize("prefix", sorted(EXPECTED))
def test_real_file_counts(prefix):
    root, doc_type, series, points = EXPECTED[prefix]
    document = load(prefix)
    assert (document.root, document.doc_type) == (root, doc_type)
    assert len(document.series) == series
    assert document.point_count() == points
    assert document.problems == []
    assert document.acknowledgement is None


@needs_shared
def test_namespaces_of_every_version_are_read():
    assert load("A44_FR").namespace.endswith("publicationdocument:7:0")
    assert load("A44_DE-LU").namespace.endswith("publicationdocument:7:3")
    assert load("A65-A16_DK1").namespace.endswith("generationloaddocument:3:0")


# -- day-ahead prices ----------------------------------------------------------------


@needs_shared
def test_fr_a01_prices_at_given_instants():
    ticks = convert.day_ahead_prices(load("A44_FR"), "FR")
    assert len(ticks) == 48
    assert ticks[0].ts == at("2023-05-06T22:00")
    assert ticks[-1].ts == at("2023-05-08T21:00")
    assert all(t.kind is PriceKind.DAY_AHEAD and t.delivery_minutes == 60 for t in ticks)
    assert all(b.ts - a.ts == timedelta(hours=1) for a, b in itertools.pairwise(ticks))
    by_ts = {t.ts: t.price_eur_mwh for t in ticks}
    assert by_ts[at("2023-05-06T22:00")] == 106.78
    assert by_ts[at("2023-05-07T13:00")] == 24.09  # the sunny Sunday's midday low
    assert by_ts[at("2023-05-07T22:00")] == 98.24  # first hour of the second day
    assert by_ts[at("2023-05-08T21:00")] == 104.04


@needs_shared
def test_de_lu_sequence_1_is_the_sdac_hourly_auction_and_fills_forward():
    document = load("A44_DE-LU")
    sdac = convert.day_ahead_prices(document, "DE")
    assert len(sdac) == 48
    assert {t.delivery_minutes for t in sdac} == {60}
    by_ts = {t.ts: t.price_eur_mwh for t in sdac}
    assert by_ts[at("2020-12-31T23:00")] == 50.87
    # Day 2 leaves out position 11 (A03): it repeats position 10.
    assert by_ts[at("2021-01-02T08:00")] == 52.0
    assert by_ts[at("2021-01-02T09:00")] == 52.0
    assert by_ts[at("2021-01-02T22:00")] == 48.45


@needs_shared
def test_de_lu_sequence_2_is_exaa_quarter_hours_and_none_takes_both():
    document = load("A44_DE-LU")
    exaa = convert.day_ahead_prices(document, "DE", sequence=2)
    assert len(exaa) == 192
    assert {t.delivery_minutes for t in exaa} == {15}
    assert exaa[0].ts == at("2020-12-31T23:00") and exaa[0].price_eur_mwh == 75.83
    problems: list[str] = []
    both = convert.day_ahead_prices(document, "DE", sequence=None, problems=problems)
    # Hourly and quarter-hourly series start at the same instants; the first wins.
    assert len(both) == 48 * 4
    assert problems


@needs_shared
def test_missing_sequence_is_reported():
    problems: list[str] = []
    assert convert.day_ahead_prices(load("A44_DE-LU"), "DE", sequence=3, problems=problems) == []
    assert "sequence 3" in problems[0]


@needs_shared
def test_sdac_prices_equal_the_independent_price_table():
    prices = pd.read_parquet(DATA / "prices_real_train.parquet")
    de = prices[
        (prices["market"] == "DE")
        & (prices["timestamp"] >= pd.Timestamp("2020-12-31T23:00Z"))
        & (prices["timestamp"] < pd.Timestamp("2021-01-02T23:00Z"))
    ]
    expected = {
        ts.to_pydatetime(): price
        for ts, price in zip(de["timestamp"], de["price_eur_mwh"], strict=True)
    }
    parsed = {t.ts: t.price_eur_mwh for t in convert.day_ahead_prices(load("A44_DE-LU"), "DE")}
    assert len(expected) == 48
    assert parsed == expected


@needs_shared
def test_es_switches_from_hourly_to_quarter_hours_on_2025_10_01():
    ticks = convert.day_ahead_prices(load("A44_ES"), "ES")
    assert len(ticks) == 24 + 24 + 96 + 96
    hourly = [t for t in ticks if t.ts < at("2025-09-30T22:00")]
    quarters = [t for t in ticks if t.ts >= at("2025-09-30T22:00")]
    assert {t.delivery_minutes for t in hourly} == {60} and len(hourly) == 48
    assert {t.delivery_minutes for t in quarters} == {15} and len(quarters) == 192
    assert quarters[0].ts == at("2025-09-30T22:00")
    assert quarters[-1].ts == at("2025-10-02T21:45")
    steps = {b.ts - a.ts for a, b in itertools.pairwise(quarters)}
    assert steps == {timedelta(minutes=15)}


@needs_shared
def test_es_a03_left_out_quarters_repeat_the_previous_value():
    document = load("A44_ES")
    period = document.series[2].periods[0]
    (path,) = FIXTURES.glob("A44_ES*.xml")
    # 93 of 96 points are in the file; the other three are filled forward.
    assert path.read_text().count("<Point>") == 24 + 24 + 93 + 89
    assert len(period.values) == 96 and not any(math.isnan(v) for v in period.values)
    repeats = sum(1 for a, b in zip(period.values, period.values[1:], strict=False) if a == b)
    assert repeats >= 3


# -- quantities ------------------------------------------------------------------------


@needs_shared
def test_a61_nine_points_spread_over_41_hours():
    (path,) = FIXTURES.glob("A61*.xml")
    assert path.read_text().count("<Point>") == 9
    rows = convert.values(load("A61"), "capacity ES-FR")
    assert len(rows) == 41
    assert rows[0].ts == at("2026-03-19T06:00") and rows[-1].ts == at("2026-03-20T22:00")
    by_ts = {r.ts: r.value_mw for r in rows}
    assert by_ts[at("2026-03-19T06:00")] == 3006  # position 1
    assert by_ts[at("2026-03-19T09:00")] == 3006  # position 4 repeats position 1
    assert by_ts[at("2026-03-19T10:00")] == 2914  # position 5
    assert by_ts[at("2026-03-20T16:00")] == 3099  # position 35 repeats position 29
    assert by_ts[at("2026-03-20T22:00")] == 3607  # position 41 repeats position 36


@needs_shared
def test_a11_flows_keep_the_gaps_between_periods():
    rows = convert.values(load("A11"), "flows DK1-GB")
    times = {r.ts for r in rows}
    assert len(rows) == 44
    assert at("2023-12-22T08:00") not in times
    assert at("2023-12-22T11:00") not in times and at("2023-12-22T12:00") not in times
    assert at("2023-12-22T09:00") in times and at("2023-12-22T15:00") in times


@needs_shared
def test_a65_load_actual_and_forecast():
    actual = convert.values(load("A65-A16_DK1"), "load DK1")
    assert len(actual) == 47 and actual[0].ts == at("2023-12-28T15:00")
    assert actual[-1].ts == at("2023-12-30T13:00")
    forecast = load("A65-A01_NL")
    assert forecast.process_type == "A01"
    assert forecast.series[0].out_domain == "10YNL----------L"
    rows = convert.values(forecast, "load forecast NL")
    assert len(rows) == 96 and {r.minutes for r in rows} == {15}
    assert rows[0].ts == at("2020-11-18T23:00")


@needs_shared
def test_a75_generation_per_type_with_split_periods():
    document = load("A75")
    rows = convert.generation(document)
    types = {r.psr_type for r in rows}
    assert types == {"B01", "B04", "B11", "B12", "B16", "B17", "B19"}
    biomass = [r for r in rows if r.psr_type == "B01"]
    # Two Periods, 10:00 → 03:45 and 04:00 → 10:00, with a 15-minute gap between.
    assert len(biomass) == 263 + 24
    assert at("2024-05-24T03:45") not in {r.ts for r in biomass}
    assert not any(r.consumption for r in rows)
    load_rows = [convert.ValueRow(r.ts, r.minutes, 1_000.0) for r in biomass]
    joined = convert.fundamentals("LU", load_rows, rows)
    assert joined and all(f.load_mw == 1_000.0 for f in joined)
    solar = {r.ts: r.value_mw for r in rows if r.psr_type == "B16"}
    wind = {r.ts: r.value_mw for r in rows if r.psr_type == "B19"}
    first = joined[0]
    assert first.solar_mw == solar[first.ts] and first.wind_mw == wind[first.ts]


@needs_shared
def test_acknowledgement_999_means_no_data():
    document = load("Acknowledgement")
    assert document.acknowledgement is not None
    assert document.acknowledgement.code == "999"
    assert document.acknowledgement.no_data
    assert document.series == []


# -- shapes the real files do not show --------------------------------------------------


def test_dst_days_have_23_and_25_hours_and_92_and_100_quarters():
    def flat(ts):
        return 10.0

    # CET delivery days in UTC: spring 2026-03-29 is 23 h, autumn 2026-10-25 is 25 h.
    spring = price_document("X", at("2026-03-28T23:00"), at("2026-03-29T22:00"), flat)
    autumn = price_document("X", at("2026-10-24T22:00"), at("2026-10-25T23:00"), flat)
    assert parse(spring).point_count() == 23
    assert parse(autumn).point_count() == 25
    spring_q = price_document("X", at("2026-03-28T23:00"), at("2026-03-29T22:00"), flat, minutes=15)
    autumn_q = price_document("X", at("2026-10-24T22:00"), at("2026-10-25T23:00"), flat, minutes=15)
    assert parse(spring_q).point_count() == 92
    assert parse(autumn_q).point_count() == 100


def test_pt30m_and_a03_from_a_generated_document():
    body = price_document(
        "X",
        at("2024-01-01T00:00"),
        at("2024-01-02T00:00"),
        lambda ts: float(ts.hour // 6),
        minutes=30,
        curve_type="A03",
    )
    assert body.count(b"<Point>") == 4
    document = parse(body)
    ticks = convert.day_ahead_prices(document, "X")
    assert len(ticks) == 48 and {t.delivery_minutes for t in ticks} == {30}
    assert [t.price_eur_mwh for t in ticks[::12]] == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("PT15M", 15),
        ("PT30M", 30),
        ("PT60M", 60),
        ("PT1H", 60),
        ("P1D", 1440),
        ("P1M", None),
        ("P1Y", None),
        ("", None),
    ],
)
def test_resolutions(text, minutes):
    assert resolution_minutes(text) == minutes


def test_zipped_responses_are_unpacked_and_merged():
    one = price_document("X", at("2024-01-01T00:00"), at("2024-01-02T00:00"), lambda ts: 1.0)
    two = price_document("X", at("2024-01-02T00:00"), at("2024-01-03T00:00"), lambda ts: 2.0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.xml", one)
        archive.writestr("b.xml", two)
    document = parse(buffer.getvalue())
    assert len(document.series) == 2 and document.point_count() == 48
    assert [s.index for s in document.series] == [1, 2]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HTML_ERROR, "HTML page"),
        (b"", "empty"),
        (b"<?xml version='1.0'?><Publication_MarketDocument xmlns='x'><TimeSeries>", "truncated"),
        (b"<foo/>", "unexpected root"),
        (b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "DTD"),
        (b"PK\x03\x04broken", "zip"),
    ],
)
def test_what_is_not_a_document_raises_a_clear_parse_error(body, message):
    with pytest.raises(ParseError, match=message):
        parse(body)


def test_acknowledgement_other_than_no_data():
    document = parse(acknowledgement("999", "The combination of [in_Domain=X] is not valid"))
    assert document.acknowledgement is not None
    assert not document.acknowledgement.no_data
