"""Parse ENTSO-E Transparency Platform responses into plain time series.

This module owns the XML: ``Publication_MarketDocument`` (prices, flows,
capacities), ``GL_MarketDocument`` (generation, load) and
``Acknowledgement_MarketDocument`` (errors and "no data"), in every namespace
version (the root's namespace is read, never assumed), zipped or not. The client
(:mod:`feeds.entsoe.client`) calls :func:`parse`; :mod:`feeds.entsoe.convert`
turns the result into events and rows.

What the format does that a parser must undo:

- A ``Period`` has a ``timeInterval`` and a ``resolution`` (PT15M, PT30M, PT60M,
  …); the point at ``position`` p starts at ``start + (p - 1) × resolution``.
  Everything is UTC, so days of 23/25 hours (92/100 quarters) need no special
  case: the number of positions is the interval over the resolution.
- ``curveType`` A03 ("variable sized block") leaves out a position whose value
  repeats the previous one; the last point holds until the Period ends. A01
  (the default) lists every position, so a missing one is missing data.
- A document may hold several TimeSeries and each several Periods, with gaps
  between them, and different resolutions side by side (the day-ahead switch to
  15-minute MTUs on 2025-10-01).

Bad points never raise: a duplicated, out-of-range, non-numeric or non-finite
point is dropped and described in :attr:`Document.problems`. Only a body that is
not an ENTSO-E document at all (truncated XML, an HTML error page, a DTD) raises
:class:`ParseError`.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec

NAN: Final = math.nan
_ZIP_MAGIC: Final = b"PK\x03\x04"
_HTML: Final = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?<(!doctype\s+html|html)", re.IGNORECASE)
_TITLE: Final = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_DURATION: Final = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")
_VALUE_TAGS: Final = ("price.amount", "quantity")
_MAX_PROBLEMS_PER_PERIOD: Final = 5


class ParseError(ValueError):
    """The body is not an ENTSO-E XML document (truncated, HTML, unknown root)."""


class Acknowledgement(msgspec.Struct, frozen=True, kw_only=True):
    """The API's answer when it has no document to give: a reason code and text."""

    code: str
    text: str

    @property
    def no_data(self) -> bool:
        """True for code 999 "No matching data found": an empty result, not an error."""
        return self.code == "999" and "no matching data" in self.text.lower()


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """One Period of a TimeSeries on its own regular grid.

    ``values[i]`` is the value of the interval starting at
    ``start + i × resolution_minutes``; NaN where the document has no value.
    A03 curves are already filled forward.
    """

    start: datetime
    end: datetime
    resolution_minutes: int
    values: list[float]

    def points(self) -> Iterator[tuple[datetime, float]]:
        """(interval start, value) for every position that has a value."""
        step = timedelta(minutes=self.resolution_minutes)
        start = self.start
        for i, value in enumerate(self.values):
            if value == value:  # not NaN
                yield start + i * step, value


class Series(msgspec.Struct, frozen=True, kw_only=True):
    """One TimeSeries: what it measures (its codes) and its Periods.

    ``in_domain``/``out_domain`` come from ``in_Domain.mRID`` or
    ``inBiddingZone_Domain.mRID`` (and the ``out`` twins). ``sequence`` is
    ``classificationSequence_AttributeInstanceComponent.position``: DE-LU
    publishes the SDAC auction as 1 and EXAA as 2.
    """

    index: int
    business_type: str | None = None
    in_domain: str | None = None
    out_domain: str | None = None
    psr_type: str | None = None
    sequence: int | None = None
    contract_type: str | None = None
    auction_type: str | None = None
    curve_type: str = "A01"
    unit: str | None = None
    periods: list[Period] = []

    def point_count(self) -> int:
        return sum(sum(1 for v in p.values if v == v) for p in self.periods)


class Document(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed response: its kind, its TimeSeries, and what was wrong with it."""

    root: str
    namespace: str
    doc_type: str | None = None
    process_type: str | None = None
    series: list[Series] = []
    acknowledgement: Acknowledgement | None = None
    problems: list[str] = []

    def point_count(self) -> int:
        return sum(s.point_count() for s in self.series)


def empty_document() -> Document:
    """What a "no matching data" answer amounts to."""
    return Document(root="", namespace="")


def merge(documents: list[Document]) -> Document:
    """One document holding the TimeSeries of several (split queries, zip members)."""
    if not documents:
        return empty_document()
    if len(documents) == 1:
        return documents[0]
    first = next((d for d in documents if d.series), documents[0])
    series: list[Series] = []
    problems: list[str] = []
    for document in documents:
        offset = len(series)
        series.extend(msgspec.structs.replace(s, index=offset + s.index) for s in document.series)
        problems.extend(document.problems)
    return Document(
        root=first.root,
        namespace=first.namespace,
        doc_type=first.doc_type,
        process_type=first.process_type,
        series=series,
        problems=problems,
    )


def parse(body: bytes) -> Document:
    """Parse one API response (XML, or a zip archive of XML documents).

    Raises:
        ParseError: the body is not an ENTSO-E document; the message says what
            it looks like instead (HTML page, truncated XML, …).
    """
    if body.startswith(_ZIP_MAGIC):
        return merge([parse(member) for member in _unzip(body)])
    if not body.strip():
        raise ParseError("empty response body")
    if _HTML.match(body):
        title = _TITLE.search(body)
        what = title.group(1).decode("utf-8", "replace").strip() if title else "no title"
        raise ParseError(f"the API answered an HTML page ({what!r}), not an XML document")
    # ENTSO-E never sends a DTD; refusing one rules out entity-expansion bombs.
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ParseError("the response declares a DTD, which ENTSO-E documents never do")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ParseError(f"malformed XML, probably a truncated response ({exc})") from None
    namespace, _, local = (
        root.tag[1:].rpartition("}") if root.tag.startswith("{") else ("", "", root.tag)
    )
    if not local.endswith("MarketDocument"):
        raise ParseError(f"unexpected root element <{local}>, not an ENTSO-E MarketDocument")
    return _Parser(namespace).document(root, local)


def _unzip(body: bytes) -> list[bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".xml")]
            return [archive.read(name) for name in sorted(names)]
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ParseError(f"broken zip archive ({exc})") from None


def resolution_minutes(text: str) -> int | None:
    """PT15M → 15, PT1H → 60, P1D → 1440; None for what has no fixed length (P1M, P1Y)."""
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    total = days * 1440 + hours * 60 + minutes
    return total or None


def parse_time(text: str) -> datetime:
    """``2020-12-31T23:00Z`` (the API's form, seconds optional) → tz-aware UTC."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        # The API always writes Z; a bare time is UTC by the standard's convention.
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class _Parser:
    """Walks one document; tag names are built once with the document's namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = f"{{{namespace}}}" if namespace else ""
        self.namespace = namespace
        self.problems: list[str] = []

    def local(self, tag: str) -> str:
        return tag[len(self.ns) :] if tag.startswith(self.ns) else tag.rpartition("}")[2]

    def document(self, root: ET.Element, local_root: str) -> Document:
        doc_type: str | None = None
        process_type: str | None = None
        acknowledgement: Acknowledgement | None = None
        series: list[Series] = []
        for child in root:
            name = self.local(child.tag)
            if name == "TimeSeries":
                series.append(self.series(child, len(series) + 1))
            elif name == "type":
                doc_type = _text(child)
            elif name == "process.processType":
                process_type = _text(child)
            elif name == "Reason" and local_root.startswith("Acknowledgement"):
                code = text = ""
                for part in child:
                    part_name = self.local(part.tag)
                    if part_name == "code":
                        code = _text(part) or ""
                    elif part_name == "text":
                        text = _text(part) or ""
                acknowledgement = Acknowledgement(code=code, text=text)
        if local_root.startswith("Acknowledgement") and acknowledgement is None:
            acknowledgement = Acknowledgement(code="", text="acknowledgement without a reason")
        return Document(
            root=local_root,
            namespace=self.namespace,
            doc_type=doc_type,
            process_type=process_type,
            series=series,
            acknowledgement=acknowledgement,
            problems=self.problems,
        )

    def series(self, element: ET.Element, index: int) -> Series:
        fields: dict[str, str | None] = {}
        period_elements: list[ET.Element] = []
        for child in element:
            name = self.local(child.tag)
            if name == "Period":
                period_elements.append(child)
            elif name == "MktPSRType":
                for part in child:
                    if self.local(part.tag) == "psrType":
                        fields["psr_type"] = _text(part)
            elif name in _SERIES_FIELDS:
                fields.setdefault(_SERIES_FIELDS[name], _text(child))
        sequence: int | None = None
        sequence_text = fields.pop("sequence", None)
        if sequence_text is not None:
            try:
                sequence = int(sequence_text)
            except ValueError:
                self.problems.append(
                    f"TimeSeries {index}: classification sequence {sequence_text!r} is not a number"
                )
        curve_type = fields.pop("curve_type", None) or "A01"
        periods: list[Period] = []
        for number, period_element in enumerate(period_elements, start=1):
            period = self.period(period_element, curve_type, f"TimeSeries {index} Period {number}")
            if period is not None:
                periods.append(period)
        return Series(
            index=index,
            business_type=fields.get("business_type"),
            in_domain=fields.get("in_domain"),
            out_domain=fields.get("out_domain"),
            psr_type=fields.get("psr_type"),
            sequence=sequence,
            contract_type=fields.get("contract_type"),
            auction_type=fields.get("auction_type"),
            curve_type=curve_type,
            unit=fields.get("unit"),
            periods=periods,
        )

    def period(self, element: ET.Element, curve_type: str, where: str) -> Period | None:
        ns = self.ns
        start_text = end_text = resolution_text = None
        points: list[ET.Element] = []
        q_point, q_interval, q_resolution = ns + "Point", ns + "timeInterval", ns + "resolution"
        for child in element:
            tag = child.tag
            if tag == q_point:
                points.append(child)
            elif tag == q_interval:
                for part in child:
                    part_name = self.local(part.tag)
                    if part_name == "start":
                        start_text = _text(part)
                    elif part_name == "end":
                        end_text = _text(part)
            elif tag == q_resolution:
                resolution_text = _text(child)
        if not (start_text and end_text and resolution_text):
            self.problems.append(f"{where}: no timeInterval or resolution, skipped")
            return None
        try:
            start, end = parse_time(start_text), parse_time(end_text)
        except ValueError:
            self.problems.append(f"{where}: bad timeInterval {start_text!r}/{end_text!r}, skipped")
            return None
        minutes = resolution_minutes(resolution_text)
        if minutes is None:
            self.problems.append(f"{where}: unsupported resolution {resolution_text!r}, skipped")
            return None
        span_minutes = (end - start).total_seconds() / 60
        count = int(span_minutes // minutes)
        if count <= 0:
            self.problems.append(f"{where}: empty or reversed timeInterval, skipped")
            return None
        if count * minutes != span_minutes:
            self.problems.append(
                f"{where}: timeInterval is not a whole number of {resolution_text} steps; "
                f"using the first {count}"
            )
        values = self.values(points, count, where)
        missing = sum(1 for v in values if v != v)
        if curve_type == "A03" and missing:
            # Variable sized blocks: a left-out position repeats the previous value.
            last = NAN
            for i, value in enumerate(values):
                if value != value:
                    values[i] = last
                else:
                    last = value
            leading = sum(1 for v in values if v != v)
            if leading:
                self.problems.append(
                    f"{where}: A03 curve starts without position 1; "
                    f"first {leading} position(s) have no value"
                )
        elif missing:
            self.problems.append(f"{where}: {missing} of {count} positions have no value")
        return Period(start=start, end=end, resolution_minutes=minutes, values=values)

    def values(self, points: list[ET.Element], count: int, where: str) -> list[float]:
        ns = self.ns
        q_position = ns + "position"
        q_values = tuple(ns + tag for tag in _VALUE_TAGS)
        values = [NAN] * count
        bad: list[str] = []
        for point in points:
            position_text = value_text = None
            for child in point:
                tag = child.tag
                if tag == q_position:
                    position_text = child.text
                elif value_text is None and tag in q_values:
                    value_text = child.text
            try:
                position = int(position_text)  # type: ignore[arg-type]  # None → TypeError
            except (TypeError, ValueError):
                bad.append(f"position {position_text!r} is not a number")
                continue
            try:
                value = float(value_text)  # type: ignore[arg-type]  # None → TypeError
            except (TypeError, ValueError):
                bad.append(f"position {position}: value {value_text!r} is not a number")
                continue
            if not 1 <= position <= count:
                bad.append(f"position {position} outside 1..{count}")
            elif not math.isfinite(value):
                bad.append(f"position {position}: value {value_text!r} is not finite")
            elif values[position - 1] == values[position - 1]:
                bad.append(f"position {position} given twice, kept the first")
            else:
                values[position - 1] = value
        if bad:
            shown = "; ".join(bad[:_MAX_PROBLEMS_PER_PERIOD])
            more = len(bad) - _MAX_PROBLEMS_PER_PERIOD
            self.problems.append(
                f"{where}: {len(bad)} point(s) dropped: {shown}"
                + (f"; {more} more" if more > 0 else "")
            )
        return values


# TimeSeries children → Series fields. The first form of each name wins.
_SERIES_FIELDS: Final[dict[str, str]] = {
    "businessType": "business_type",
    "in_Domain.mRID": "in_domain",
    "inBiddingZone_Domain.mRID": "in_domain",
    "out_Domain.mRID": "out_domain",
    "outBiddingZone_Domain.mRID": "out_domain",
    "contract_MarketAgreement.type": "contract_type",
    "auction.type": "auction_type",
    "classificationSequence_AttributeInstanceComponent.position": "sequence",
    "curveType": "curve_type",
    "currency_Unit.name": "unit",
    "quantity_Measure_Unit.name": "unit",
}


def _text(element: ET.Element) -> str | None:
    text = element.text
    return text.strip() if text else None
