"""A local aiohttp server that imitates the ENTSO-E Transparency Platform API.

Tests script its answers: each request first takes the next :class:`Reply`
from ``script`` (a 429, a 503, a slow answer, truncated XML, an HTML page, an
Acknowledgement, a 401 …); once the script is empty it answers like the real
API from generated data: day-ahead prices (A44), actual generation (A75), load
(A65), flows (A11) and capacities (A61) for whatever area and span is asked.
It records every request's parameters, without the token.

The builders (:func:`price_document`, :func:`quantity_document`,
:func:`acknowledgement`) also serve parser tests that need documents of a given
shape.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final

from aiohttp import web

PUBLICATION_NS: Final = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
GL_NS: Final = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"
ACK_NS: Final = "urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"
HTML_ERROR: Final = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1></body></html>"
)


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    content_type: str = "text/xml"


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%MZ")


def _points(values: Sequence[float | None], tag: str) -> str:
    return "".join(
        f"<Point><position>{i}</position><{tag}>{v:g}</{tag}></Point>"
        for i, v in enumerate(values, start=1)
        if v is not None
    )


def _days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    spans = []
    cursor = start
    while cursor < end:
        spans.append((cursor, min(cursor + timedelta(days=1), end)))
        cursor += timedelta(days=1)
    return spans


def price_document(
    eic: str,
    start: datetime,
    end: datetime,
    price: Callable[[datetime], float],
    *,
    minutes: int = 60,
    sequence: int | None = None,
    curve_type: str = "A01",
    namespace: str = PUBLICATION_NS,
) -> bytes:
    """An A44 document: one TimeSeries per UTC day of ``[start, end)``."""
    series = []
    for n, (a, b) in enumerate(_days(start, end), start=1):
        count = int((b - a).total_seconds() // (minutes * 60))
        values = [price(a + timedelta(minutes=minutes * i)) for i in range(count)]
        if curve_type == "A03":
            shown: list[float | None] = [
                v if i == 0 or v != values[i - 1] else None for i, v in enumerate(values)
            ]
        else:
            shown = list(values)
        sequence_tag = (
            f"<classificationSequence_AttributeInstanceComponent.position>{sequence}"
            "</classificationSequence_AttributeInstanceComponent.position>"
            if sequence is not None
            else ""
        )
        series.append(
            f"<TimeSeries><mRID>{n}</mRID><auction.type>A01</auction.type>"
            f"<businessType>A62</businessType>"
            f'<in_Domain.mRID codingScheme="A01">{eic}</in_Domain.mRID>'
            f'<out_Domain.mRID codingScheme="A01">{eic}</out_Domain.mRID>'
            f"<currency_Unit.name>EUR</currency_Unit.name>"
            f"<price_Measure_Unit.name>MWH</price_Measure_Unit.name>{sequence_tag}"
            f"<curveType>{curve_type}</curveType><Period><timeInterval><start>{_fmt(a)}</start>"
            f"<end>{_fmt(b)}</end></timeInterval><resolution>PT{minutes}M</resolution>"
            f"{_points(shown, 'price.amount')}</Period></TimeSeries>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Publication_MarketDocument xmlns="{namespace}">'
        f"<mRID>fake</mRID><type>A44</type><createdDateTime>2024-01-01T00:00:00Z</createdDateTime>"
        f"<period.timeInterval><start>{_fmt(start)}</start><end>{_fmt(end)}</end>"
        f"</period.timeInterval>{''.join(series)}</Publication_MarketDocument>"
    ).encode()


@dataclass(frozen=True)
class QuantitySeries:
    """One TimeSeries of quantities: its codes and a value per interval start."""

    value: Callable[[datetime], float]
    psr_type: str | None = None
    in_domain: str | None = None
    out_domain: str | None = None
    in_tag: str = "inBiddingZone_Domain.mRID"
    out_tag: str = "outBiddingZone_Domain.mRID"


def quantity_document(
    doc_type: str,
    series: Sequence[QuantitySeries],
    start: datetime,
    end: datetime,
    *,
    minutes: int = 60,
    process_type: str | None = None,
    gl: bool = True,
) -> bytes:
    """A GL_MarketDocument (load, generation) or Publication one (flows, capacity)."""
    count = int((end - start).total_seconds() // (minutes * 60))
    parts = []
    for n, one in enumerate(series, start=1):
        values: list[float | None] = [
            one.value(start + timedelta(minutes=minutes * i)) for i in range(count)
        ]
        psr = f"<MktPSRType><psrType>{one.psr_type}</psrType></MktPSRType>" if one.psr_type else ""
        domains = ""
        if one.in_domain:
            domains += f'<{one.in_tag} codingScheme="A01">{one.in_domain}</{one.in_tag}>'
        if one.out_domain:
            domains += f'<{one.out_tag} codingScheme="A01">{one.out_domain}</{one.out_tag}>'
        parts.append(
            f"<TimeSeries><mRID>{n}</mRID><businessType>A01</businessType>{domains}"
            f"<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
            f"<curveType>A01</curveType>{psr}<Period><timeInterval><start>{_fmt(start)}</start>"
            f"<end>{_fmt(end)}</end></timeInterval><resolution>PT{minutes}M</resolution>"
            f"{_points(values, 'quantity')}</Period></TimeSeries>"
        )
    root, namespace = (
        ("GL_MarketDocument", GL_NS) if gl else ("Publication_MarketDocument", PUBLICATION_NS)
    )
    process = f"<process.processType>{process_type}</process.processType>" if process_type else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<{root} xmlns="{namespace}">'
        f"<mRID>fake</mRID><type>{doc_type}</type>{process}"
        f"{''.join(parts)}</{root}>"
    ).encode()


def acknowledgement(code: str = "999", text: str = "No matching data found") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Acknowledgement_MarketDocument xmlns="{ACK_NS}">'
        f"<mRID>fake</mRID><createdDateTime>2024-01-01T00:00:00Z</createdDateTime>"
        f"<Reason><code>{code}</code><text>{text}</text></Reason>"
        f"</Acknowledgement_MarketDocument>"
    ).encode()


def default_price(eic: str) -> Callable[[datetime], float]:
    """Deterministic prices: a daily shape plus an offset per area."""
    offset = sum(eic.encode()) % 17

    def price(ts: datetime) -> float:
        return round(40.0 + offset + 2.5 * ts.hour + 0.25 * (ts.minute // 15), 2)

    return price


def _parse_period(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=UTC)


class FakeEntsoe:
    """The fake API. ``async with FakeEntsoe() as api:`` then point a client at ``api.url``.

    Attributes:
        script: replies used first, in order.
        requests: parameters of every request received, token removed.
        tokens: the ``securityToken`` of every request (to check what was sent).
        prices_until: A44 answers hold no delivery at or after this (the
            auction for it has not happened); None = every day asked for.
        actuals_until: A65/A75 actuals end here (they arrive late); None = all.
        minutes: resolution of generated prices.
    """

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, str]] = []
        self.tokens: list[str | None] = []
        self.prices_until: datetime | None = None
        self.actuals_until: datetime | None = None
        self.minutes = 60
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeEntsoe:
        app = web.Application()
        app.router.add_get("/api", self.handle)
        # No access log: it would print the token the client sent.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/api"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @contextmanager
    def in_thread(self) -> Iterator[FakeEntsoe]:
        """Serve from a thread of its own, for code under test that runs its own loop."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stop = asyncio.Event()

        async def serve() -> None:
            async with self:
                ready.set()
                await stop.wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        ready.wait(timeout=10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
            loop.close()

    def of_type(self, document_type: str) -> list[dict[str, str]]:
        return [r for r in self.requests if r.get("documentType") == document_type]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        token = params.pop("securityToken", None)
        self.requests.append(params)
        self.tokens.append(token)
        if self.script:
            reply = self.script.popleft()
        elif token != self.token:
            reply = Reply(
                status=401,
                body=b"<html><body>401 Unauthorized: invalid security token</body></html>",
                content_type="text/html",
            )
        else:
            reply = self.answer(params)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return web.Response(
            status=reply.status,
            body=reply.body,
            headers=reply.headers,
            content_type=reply.content_type,
        )

    def answer(self, params: dict[str, str]) -> Reply:
        """What the real API would say, from generated data."""
        start = _parse_period(params["periodStart"])
        end = _parse_period(params["periodEnd"])
        kind = params.get("documentType")
        if kind == "A44":
            if self.prices_until is not None:
                end = min(end, self.prices_until)
            # The API answers whole delivery days; a UTC day is close enough here.
            start = start.replace(hour=0, minute=0)
            if end <= start:
                return Reply(body=acknowledgement())
            eic = params["in_Domain"]
            return Reply(
                body=price_document(eic, start, end, default_price(eic), minutes=self.minutes)
            )
        if kind in ("A65", "A75"):
            if self.actuals_until is not None and params.get("processType") == "A16":
                # Whole quarter-hours only, as the real API publishes them.
                until = self.actuals_until
                end = min(end, until.replace(minute=until.minute // 15 * 15, second=0))
            if end <= start:
                return Reply(body=acknowledgement())
            if kind == "A65":
                eic = params["outBiddingZone_Domain"]
                series = [QuantitySeries(lambda ts: 50_000.0 + 100 * ts.hour, out_domain=eic)]
            else:
                eic = params["in_Domain"]
                series = [
                    QuantitySeries(lambda ts: 8_000.0, psr_type="B04", in_domain=eic),
                    QuantitySeries(
                        lambda ts: max(0.0, 1_000.0 * (6 - abs(ts.hour - 12))),
                        psr_type="B16",
                        in_domain=eic,
                    ),
                    QuantitySeries(lambda ts: 12_000.0, psr_type="B19", in_domain=eic),
                    QuantitySeries(lambda ts: 500.0, psr_type="B10", out_domain=eic),
                ]
            body = quantity_document(
                kind, series, start, end, minutes=15, process_type=params.get("processType")
            )
            return Reply(body=body)
        if kind in ("A11", "A61"):
            one = QuantitySeries(
                lambda ts: 1_000.0 + ts.hour,
                in_domain=params["in_Domain"],
                out_domain=params["out_Domain"],
                in_tag="in_Domain.mRID",
                out_tag="out_Domain.mRID",
            )
            return Reply(body=quantity_document(kind, [one], start, end, gl=False))
        return Reply(status=400, body=acknowledgement("999", f"unknown documentType {kind}"))
