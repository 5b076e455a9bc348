"""Regression tests for the three ENTSO-E parser defects of issue 14.

1. An unreadable or non-finite value in an A03 curve must leave that point's
   block unknown (NaN, no row, no tick) until the next good point, not spread
   the previous value over it.
2. A zip of two or more members must keep an Acknowledgement member: an
   "exceeds allowed limit" inside makes the client split the span, not "no data".
3. Whitespace or a UTF-8 BOM before ``<?xml`` is accepted, not retried as a
   truncated response.

Every document is a real fixture from ../shared/data/entsoe edited in memory;
the tests skip when that directory is absent.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.entsoe import convert
from feeds.entsoe.errors import EntsoeRequestError
from feeds.entsoe.parse import ParseError, parse
from tests.feeds.entsoe_server import FakeEntsoe, Reply
from tests.feeds.test_entsoe_client import DE, client_for

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIXTURES = DATA / "entsoe"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/data is absent")

LIMIT_TEXT = (
    "The amount of requested data exceeds allowed limit. Allowed: 100 documents, requested: 366."
)


def fixture(prefix: str) -> bytes:
    (path,) = FIXTURES.glob(f"{prefix}*.xml")
    return path.read_bytes()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def replace_value(body: bytes, tag: str, position: int, old: str, new: str | None) -> bytes:
    """``body`` with the value of the (first) point at ``position`` replaced, or removed (None)."""
    pattern = re.compile(
        rf"(<position>{position}</position>\s*)<{tag}>{re.escape(old)}</{tag}>".encode()
    )
    value = b"" if new is None else f"<{tag}>{new}</{tag}>".encode()
    edited, count = pattern.subn(lambda m: m.group(1) + value, body, count=1)
    assert count == 1, f"no point {position} = {old} in the fixture"
    return edited


def limit_acknowledgement() -> bytes:
    return fixture("Acknowledgement_999").replace(b"No matching data found", LIMIT_TEXT.encode())


def zipped(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members:
            archive.writestr(name, body)
    return buffer.getvalue()


# -- 1. a bad value in an A03 curve stays unknown until the next good point ---------

BAD_VALUES = ["n/a", "", "NaN", "inf", "-INF", "1e999", None]


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_a03_bad_value_leaves_its_block_unknown(bad):
    # A61 ES→FR: points at positions 1, 5, 9, 12, …; position 9 (2960) holds for 9..11.
    body = replace_value(fixture("A61"), "quantity", 9, "2960", bad)
    document = parse(body)
    (period,) = document.series[0].periods
    values = period.values
    assert values[4:8] == [2914.0] * 4  # positions 5..8: untouched
    assert all(math.isnan(v) for v in values[8:11])  # positions 9..11: unknown
    assert values[11] == 3607.0  # position 12: the next good point
    assert any("dropped" in p for p in document.problems)
    assert any("unknown" in p for p in document.problems)
    rows = {r.ts: r.value_mw for r in convert.values(document, "capacity ES-FR")}
    assert len(rows) == 41 - 3
    for hour in ("14:00", "15:00", "16:00"):  # positions 9..11 from 06:00Z
        assert at(f"2026-03-19T{hour}") not in rows


def test_a03_bad_last_value_leaves_the_rest_of_the_period_unknown():
    body = replace_value(fixture("A61"), "quantity", 36, "3607", "oops")
    (period,) = parse(body).series[0].periods
    assert period.values[34] == 3099.0  # position 35 still repeats 29
    assert all(math.isnan(v) for v in period.values[35:])


def test_a03_bad_price_gives_no_day_ahead_tick_for_its_block():
    # DE-LU SDAC (sequence 1), day 2 leaves out position 11: position 10 holds for 10..11.
    original = parse(fixture("A44_DE-LU"))
    good = {t.ts: t.price_eur_mwh for t in convert.day_ahead_prices(original, "DE")}
    day_two = at("2021-01-01T23:00")
    sdac = next(s for s in original.series if s.sequence == 1 and s.periods[0].start == day_two)
    period = sdac.periods[0]
    assert period.resolution_minutes == 60
    tenth = period.values[9]
    assert period.values[10] == tenth  # the left-out position repeats position 10

    text = fixture("A44_DE-LU")
    edited = _replace_in_period(text, period.start, 10, tenth)
    ticks = {t.ts: t.price_eur_mwh for t in convert.day_ahead_prices(parse(edited), "DE")}
    block = {period.start + timedelta(hours=h) for h in (9, 10)}
    assert block <= good.keys() and not block & ticks.keys()
    assert {ts: v for ts, v in good.items() if ts not in block} == ticks


def _replace_in_period(body: bytes, start: datetime, position: int, value: float) -> bytes:
    """Make the price at ``position`` of the PT60M Period starting at ``start`` unreadable."""
    anchor = f"<start>{start:%Y-%m-%dT%H:%MZ}</start>".encode()
    where = body.find(anchor)
    while where >= 0 and b"PT60M" not in body[where : where + 200]:
        where = body.find(anchor, where + 1)
    assert where >= 0, "Period not in the fixture"
    head, tail = body[:where], body[where:]
    match = re.search(
        rf"<position>{position}</position>\s*<price.amount>([^<]*)</price.amount>".encode(), tail
    )
    assert match is not None and float(match.group(1)) == value
    return head + tail[: match.start(1)] + b"-" + tail[match.end(1) :]


# -- 2. every zip member is read; an Acknowledgement inside surfaces -----------------


def test_zip_of_two_members_keeps_a_limit_acknowledgement():
    body = zipped(("001.xml", limit_acknowledgement()), ("002.xml", limit_acknowledgement()))
    document = parse(body)
    assert document.acknowledgement is not None
    assert not document.acknowledgement.no_data
    assert "exceeds allowed limit" in document.acknowledgement.text


def test_zip_with_data_and_a_limit_acknowledgement_keeps_both():
    body = zipped(("a.xml", fixture("A44_FR")), ("b.xml", limit_acknowledgement()))
    document = parse(body)
    assert document.acknowledgement is not None
    assert "exceeds allowed limit" in document.acknowledgement.text
    assert document.point_count() == 48


def test_zip_with_data_and_a_no_data_member_is_data():
    body = zipped(("a.xml", fixture("A44_FR")), ("b.xml", fixture("Acknowledgement_999")))
    document = parse(body)
    assert document.acknowledgement is None and document.point_count() == 48


def test_zip_of_no_data_members_is_no_data():
    ack = fixture("Acknowledgement_999")
    document = parse(zipped(("a.xml", ack), ("b.xml", ack)))
    assert document.acknowledgement is not None and document.acknowledgement.no_data


def test_zip_member_without_an_xml_name_is_read():
    body = zipped(("a.xml", fixture("A44_FR")), ("reason", limit_acknowledgement()))
    document = parse(body)
    assert document.acknowledgement is not None
    assert "exceeds allowed limit" in document.acknowledgement.text


async def test_client_splits_the_span_on_a_zipped_limit_acknowledgement():
    body = zipped(("001.xml", limit_acknowledgement()), ("002.xml", limit_acknowledgement()))
    start = datetime(2024, 3, 1, tzinfo=UTC)
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(status=400, body=body, content_type="application/zip"))
        ticks = await client.day_ahead_prices("DE", DE, start, start + timedelta(days=4))
    assert len(ticks) == 4 * 24 and len(api.requests) == 3


async def test_client_reports_a_zipped_refusal_with_entsoe_text():
    refusal = fixture("Acknowledgement_999").replace(
        b"No matching data found", b"The combination of [in_Domain=X] is not valid"
    )
    body = zipped(("001.xml", fixture("A44_FR")), ("002.xml", refusal))
    start = datetime(2024, 3, 1, tzinfo=UTC)
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(body=body, content_type="application/zip"))
        with pytest.raises(
            EntsoeRequestError, match=r"combination of \[in_Domain=X\] is not valid"
        ):
            await client.day_ahead_prices("DE", DE, start, start + timedelta(days=1))
    assert len(api.requests) == 1


def test_a_broken_zip_member_is_named():
    body = zipped(("a.xml", fixture("A44_FR")), ("b.xml", b"<?xml version='1.0'?><Publ"))
    with pytest.raises(ParseError, match=r"zip member 'b\.xml': malformed XML"):
        parse(body)


# -- 3. whitespace or a BOM before <?xml is accepted -----------------------------------

PREFIXES = [b"\n", b"  \r\n\t", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n ", b"\n\xef\xbb\xbf"]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("name", ["A44_FR", "A61", "Acknowledgement_999"])
def test_leading_whitespace_or_bom_is_parsed(prefix, name):
    body = fixture(name)
    assert body.startswith(b"<?xml")
    expected = parse(body)
    document = parse(prefix + body)
    assert document.point_count() == expected.point_count()
    assert document.acknowledgement == expected.acknowledgement
    assert document.problems == expected.problems == []


async def test_client_does_not_retry_a_body_with_leading_whitespace():
    body = b"\r\n  " + fixture("A44_FR")
    start = datetime(2023, 5, 6, 22, tzinfo=UTC)
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(body=body))
        ticks = await client.day_ahead_prices("FR", "10YFR-RTE------C", start, start + timedelta(2))
    assert len(ticks) == 48 and len(api.requests) == 1
    assert client.stats.errors_total == 0
