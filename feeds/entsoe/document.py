"""The parsed form of an ENTSO-E response: Document, Series, Period, Acknowledgement.

:func:`feeds.entsoe.parse.parse` builds these; :func:`merge` joins the documents
of a split query or of a zip archive; :mod:`feeds.entsoe.convert` reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import msgspec


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
    A03 curves are already filled forward, except the block of a point whose
    value was unreadable or not finite: it stays NaN until the next good point.
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
    """One document holding the TimeSeries of several (split queries, zip members).

    An Acknowledgement survives the merge: the first refusal ("exceeds allowed
    limit", a bad parameter) wins, since one refused part makes the whole answer
    incomplete; "no matching data" is kept only when no document has a series.
    """
    if not documents:
        return empty_document()
    if len(documents) == 1:
        return documents[0]
    first = next((d for d in documents if d.series), documents[0])
    acknowledgements = [d.acknowledgement for d in documents if d.acknowledgement is not None]
    acknowledgement = next((a for a in acknowledgements if not a.no_data), None)
    if acknowledgement is None and acknowledgements and not any(d.series for d in documents):
        acknowledgement = acknowledgements[0]
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
        acknowledgement=acknowledgement,
        problems=problems,
    )
