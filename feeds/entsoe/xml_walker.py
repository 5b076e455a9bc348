"""Walk one ENTSO-E XML document into a :class:`~feeds.entsoe.document.Document`.

:class:`DocumentWalker` reads TimeSeries codes, Periods and Points in the
document's own namespace, fills A03 curves forward, and drops bad points into
``problems`` instead of raising (see :mod:`feeds.entsoe.parse` for the format).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Final

from feeds.entsoe.document import Acknowledgement, Document, Period, Series
from feeds.entsoe.times import parse_time, resolution_minutes

NAN: Final = math.nan
_VALUE_TAGS: Final = ("price.amount", "quantity")
_MAX_PROBLEMS_PER_PERIOD: Final = 5


class DocumentWalker:
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
        values, unreadable = self.values(points, count, where)
        missing = sum(1 for v in values if v != v)
        if curve_type == "A03" and missing:
            # Variable sized blocks: a left-out position repeats the previous value.
            # A point that is there but unreadable starts a block of its own whose
            # value is unknown: it must not inherit the previous block's value.
            last = NAN
            for i, value in enumerate(values):
                if value == value:
                    last = value
                elif i in unreadable:
                    last = NAN
                else:
                    values[i] = last
            first = min(
                next((i for i, v in enumerate(values) if v == v), count), *unreadable, count
            )
            if first:
                self.problems.append(
                    f"{where}: A03 curve starts without position 1; "
                    f"first {first} position(s) have no value"
                )
            if unreadable:
                unknown = sum(1 for v in values[first:] if v != v)
                self.problems.append(
                    f"{where}: {unknown} position(s) left unknown after unreadable A03 point(s)"
                )
        elif missing:
            self.problems.append(f"{where}: {missing} of {count} positions have no value")
        return Period(start=start, end=end, resolution_minutes=minutes, values=values)

    def values(
        self, points: list[ET.Element], count: int, where: str
    ) -> tuple[list[float], set[int]]:
        """The value of each position (NaN where none), and the indexes of the
        positions whose only points had an unreadable or non-finite value."""
        ns = self.ns
        q_position = ns + "position"
        q_values = tuple(ns + tag for tag in _VALUE_TAGS)
        values = [NAN] * count
        unreadable: set[int] = set()
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
                value = NAN
                problem = f"position {position}: value {value_text!r} is not a number"
            else:
                problem = f"position {position}: value {value_text!r} is not finite"
            if not 1 <= position <= count:
                bad.append(f"position {position} outside 1..{count}")
            elif not math.isfinite(value):
                bad.append(problem)
                unreadable.add(position - 1)
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
        # A good point at the same position (given twice) wins over an unreadable one.
        return values, {i for i in unreadable if values[i] != values[i]}


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
