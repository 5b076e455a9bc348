"""The ENTSO-E Transparency Platform client: one aiohttp session, one shared budget.

This module owns talking to ``https://web-api.tp.entsoe.eu/api``: building
queries, splitting those longer than the API allows, spending the shared
:class:`~feeds.entsoe.budget.RequestBudget`, retrying what can be retried, and
turning every failure into an :class:`EntsoeError` that says what to do. The
live feed (:mod:`feeds.entsoe.live`) and ``gridtui fetch`` use it; tests point it
at a local fake server.

Behaviour on trouble:

- HTTP 429: the whole budget pauses for the server's Retry-After (seconds or
  an HTTP date; ``retry_after_default_s`` when absent), then the request is retried.
- HTTP 5xx, timeouts, dropped connections, truncated XML, an HTML error page:
  retried with jittered exponential back-off, ``max_attempts`` in all, then
  :class:`EntsoeUnavailable`.
- HTTP 401/403: :class:`EntsoeAuthError` at once, saying where the token is set.
- An Acknowledgement with reason 999 "No matching data found": an empty result.
  Any other reason: :class:`EntsoeRequestError` naming the request. "Too much
  data requested" splits the span in two and tries again.

The security token travels only as the ``securityToken`` query parameter. It is
never logged: messages name requests by a label built without it, and any text
that comes from aiohttp is scrubbed of it.

Every answer, retry and failure is also signalled, on the ``now`` clock, to
``signals``: the feed's :class:`~engine.feed_health.FeedHealthMachine` (the live
feed hands the kernel's over), which alone decides up/degraded/down.

Errors live in :mod:`feeds.entsoe.errors`, the retry policy in
:mod:`feeds.entsoe.retry`, time formats and span splitting in
:mod:`feeds.entsoe.times`, the health counters in :mod:`feeds.entsoe.stats`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

import aiohttp
import msgspec

from engine.events import PriceTick
from engine.feed_health import FeedHealthMachine
from feeds.entsoe import convert
from feeds.entsoe.budget import RequestBudget
from feeds.entsoe.document import Document, empty_document, merge
from feeds.entsoe.errors import (
    TOKEN_HELP,
    EntsoeAuthError,
    EntsoeError,
    EntsoeRequestError,
    EntsoeUnavailable,
)
from feeds.entsoe.parse import ParseError, parse
from feeds.entsoe.retry import Retry, backoff_s, parse_retry_after
from feeds.entsoe.stats import ClientStats
from feeds.entsoe.times import format_time, span_label, split_span

log = logging.getLogger(__name__)

DEFAULT_URL: Final = "https://web-api.tp.entsoe.eu/api"
_DAY: Final = timedelta(days=1)


class ClientConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the client talks to the API.

    Attributes:
        url: the API endpoint (tests point it at a local fake).
        timeout_s: limit for one HTTP request, connect to last byte.
        max_attempts: tries per request before giving up (1 = no retry).
        backoff_initial_s / backoff_max_s: back-off before retry n is
            ``min(max, initial × 2ⁿ⁻¹)`` times a random factor in [0.5, 1].
        retry_after_default_s: pause after a 429 without a Retry-After header.
        max_span_days: longest span one request may cover (the API allows a year).
        requests_per_minute: the shared budget (the API allows 400).
    """

    url: str = DEFAULT_URL
    timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_default_s: float = 60.0
    max_span_days: int = 365
    requests_per_minute: int = 400


class EntsoeClient:
    """Typed queries against the API. Use ``async with`` or call :meth:`close`.

    Args:
        token: the Web API security token (required; never logged).
        config: timeouts, retries, budget.
        budget: a budget to share with other clients of the same token.
        session: an aiohttp session to use (the client then does not close it).
        now: time source for ``last_success`` in health events; the live
            feed sets it to the engine clock's ``now``.
        rng: randomness for back-off jitter (seeded in tests).
    """

    def __init__(
        self,
        token: str,
        config: ClientConfig | None = None,
        *,
        budget: RequestBudget | None = None,
        session: aiohttp.ClientSession | None = None,
        now: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not token.strip():
            raise EntsoeAuthError(f"no ENTSO-E API token: {TOKEN_HELP}")
        self._token = token.strip()
        self.config = config or ClientConfig()
        self.budget = budget or RequestBudget(self.config.requests_per_minute)
        self._session = session
        self._owns_session = session is None
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self._rng = rng or random.Random()
        self.stats = ClientStats()
        # Its own machine until a feed hands over the kernel's (report_health_to).
        self.signals = FeedHealthMachine("entsoe-api")

    def __repr__(self) -> str:
        return f"EntsoeClient(url={self.config.url!r}, token=***)"

    async def __aenter__(self) -> EntsoeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def state(self) -> str:
        """``up``, ``degraded`` or ``down``, as :attr:`signals` judges it now."""
        return self.signals.evaluate(self.now())

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced, for anything that reaches a log."""
        return text.replace(self._token, "***")

    # -- typed queries -------------------------------------------------------------

    async def day_ahead_prices(
        self,
        market: str,
        eic: str,
        start: datetime,
        end: datetime,
        *,
        sequence: int | None = 1,
        source: str = "entsoe",
    ) -> list[PriceTick]:
        """Day-ahead prices (A44) delivered in ``[start, end)``, oldest first."""
        params = {"documentType": "A44", "in_Domain": eic, "out_Domain": eic}
        document = await self.query(f"day-ahead prices {market} (A44)", params, start, end)
        problems: list[str] = []
        ticks = convert.day_ahead_prices(
            document,
            market,
            sequence=sequence,
            start=start,
            end=end,
            source=source,
            problems=problems,
        )
        self._report(f"day-ahead prices {market}", problems)
        return ticks

    async def generation(
        self, market: str, eic: str, start: datetime, end: datetime
    ) -> list[convert.GenerationRow]:
        """Actual generation per production type (A75, processType A16)."""
        params = {"documentType": "A75", "processType": "A16", "in_Domain": eic}
        document = await self.query(f"actual generation {market} (A75)", params, start, end)
        problems: list[str] = []
        rows = convert.generation(document, start=start, end=end, problems=problems)
        self._report(f"actual generation {market}", problems)
        return rows

    async def load(
        self, market: str, eic: str, start: datetime, end: datetime, *, forecast: bool = False
    ) -> list[convert.ValueRow]:
        """Total load (A65): actual (processType A16) or day-ahead forecast (A01)."""
        what = f"{'day-ahead load forecast' if forecast else 'actual load'} {market}"
        params = {
            "documentType": "A65",
            "processType": "A01" if forecast else "A16",
            "outBiddingZone_Domain": eic,
        }
        document = await self.query(f"{what} (A65)", params, start, end)
        problems: list[str] = []
        rows = convert.values(document, what, start=start, end=end, problems=problems)
        self._report(what, problems)
        return rows

    async def physical_flows(
        self, border: str, from_eic: str, to_eic: str, start: datetime, end: datetime
    ) -> list[convert.ValueRow]:
        """Cross-border physical flows (A11) from ``from_eic`` into ``to_eic``, MW."""
        params = {"documentType": "A11", "out_Domain": from_eic, "in_Domain": to_eic}
        what = f"physical flows {border}"
        document = await self.query(f"{what} (A11)", params, start, end)
        problems: list[str] = []
        rows = convert.values(document, what, start=start, end=end, problems=problems)
        self._report(what, problems)
        return rows

    async def transfer_capacity(
        self, border: str, from_eic: str, to_eic: str, start: datetime, end: datetime
    ) -> list[convert.ValueRow]:
        """Forecasted day-ahead transfer capacity (A61, daily contract), MW."""
        params = {
            "documentType": "A61",
            "contract_MarketAgreement.Type": "A01",
            "out_Domain": from_eic,
            "in_Domain": to_eic,
        }
        what = f"day-ahead transfer capacity {border}"
        document = await self.query(f"{what} (A61)", params, start, end)
        problems: list[str] = []
        rows = convert.values(document, what, start=start, end=end, problems=problems)
        self._report(what, problems)
        return rows

    # -- the request loop ----------------------------------------------------------

    async def query(
        self, label: str, params: Mapping[str, str], start: datetime, end: datetime
    ) -> Document:
        """One logical query, split into API-sized spans; the documents merged.

        Raises:
            EntsoeAuthError, EntsoeRequestError, EntsoeUnavailable: see the module doc.
        """
        documents = [
            await self._query_span(label, params, a, b)
            for a, b in split_span(start, end, self.config.max_span_days)
        ]
        return merge([d for d in documents if d.series])

    async def _query_span(
        self, label: str, params: Mapping[str, str], start: datetime, end: datetime
    ) -> Document:
        name = f"{label} {span_label(start, end)}"
        attempt = 0
        while True:
            attempt += 1
            await self.budget.acquire()
            self.stats.requests += 1
            self.signals.budget(self.budget.used_last_minute(), self.budget.per_minute)
            try:
                document = await self._attempt(name, params, start, end)
            except Retry as retry:
                self._count_error(retry.kind, f"{name}: {retry.message}")
                if attempt >= self.config.max_attempts:
                    message = f"{name}: gave up after {attempt} attempt(s); last: {retry.message}"
                    self._failed(message)
                    raise EntsoeUnavailable(message) from None
                delay = retry.wait_s if retry.wait_s is not None else self._backoff_s(attempt)
                log.warning(
                    "%s: %s; retry %d of %d in %.1f s",
                    name,
                    retry.message,
                    attempt,
                    self.config.max_attempts - 1,
                    delay + self.budget.paused_for_s,
                )
                self.stats.retries += 1
                self.signals.retried(self.stats.last_error, self.now())
                await asyncio.sleep(delay)
                continue
            except EntsoeError as exc:
                self._failed(str(exc), fatal=isinstance(exc, EntsoeAuthError))
                raise
            if document is None:
                # "Too much data requested": halve the span and ask twice.
                middle = start + (end - start) / 2
                return merge(
                    [
                        await self._query_span(label, params, start, middle),
                        await self._query_span(label, params, middle, end),
                    ]
                )
            self._succeeded(document, name)
            return document

    async def _attempt(
        self, name: str, params: Mapping[str, str], start: datetime, end: datetime
    ) -> Document | None:
        """One HTTP request. None means "split the span"; Retry means try again."""
        query = {
            **params,
            "periodStart": format_time(start),
            "periodEnd": format_time(end),
            "securityToken": self._token,
        }
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
        try:
            async with self._client().get(self.config.url, params=query, timeout=timeout) as reply:
                status = reply.status
                retry_after = reply.headers.get("Retry-After")
                body = await reply.read()
        except TimeoutError:
            raise Retry("timeout", f"no answer within {self.config.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise Retry("connection", self.scrub(f"{type(exc).__name__}: {exc}")) from None

        if status in (401, 403):
            self.stats.auth_failed = True
            self._count_error("auth", f"{name}: HTTP {status}")
            raise EntsoeAuthError(
                f"ENTSO-E rejected the API token (HTTP {status}) on {name}: {TOKEN_HELP}"
            )
        if status == 429:
            wait_s = parse_retry_after(retry_after, datetime.now(UTC))
            if wait_s is None:
                wait_s = self.config.retry_after_default_s
            self.budget.pause(wait_s)
            raise Retry("rate limited", f"HTTP 429 (rate limit), Retry-After {wait_s:g} s", 0.0)
        if status >= 500:
            raise Retry(f"http {status}", f"HTTP {status} from the API")
        try:
            document = parse(body)
        except ParseError as exc:
            if status == 200:
                raise Retry("bad response", str(exc)) from None
            self._count_error("request", f"{name}: HTTP {status}")
            raise EntsoeRequestError(f"ENTSO-E refused {name} (HTTP {status}): {exc}") from None
        ack = document.acknowledgement
        if ack is not None:
            if ack.no_data:
                return empty_document()
            text = ack.text.lower()
            if "exceed" in text and "limit" in text and end - start > _DAY:
                return None
            self._count_error("request", f"{name}: reason {ack.code}")
            raise EntsoeRequestError(
                f"ENTSO-E refused {name}: {self.scrub(ack.text)} (reason code {ack.code})"
            )
        if status != 200:
            self._count_error("request", f"{name}: HTTP {status}")
            raise EntsoeRequestError(f"ENTSO-E refused {name} with HTTP {status}")
        return document

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # trust_env: honour HTTPS_PROXY and friends, as corporate networks need.
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": "gridtui (ENTSO-E client)"}, trust_env=True
            )
            self._owns_session = True
        return self._session

    def _backoff_s(self, attempt: int) -> float:
        config = self.config
        return backoff_s(attempt, config.backoff_initial_s, config.backoff_max_s, self._rng)

    def _count_error(self, kind: str, message: str) -> None:
        stats = self.stats
        stats.errors[kind] = stats.errors.get(kind, 0) + 1
        stats.last_error = self.scrub(message)
        stats.last_error_at = self.now()

    def _failed(self, message: str, *, fatal: bool = False) -> None:
        self.stats.failures += 1
        self.stats.consecutive_failures += 1
        self.signals.request_failed(self.scrub(message), self.now(), fatal=fatal)

    def _succeeded(self, document: Document, name: str) -> None:
        stats = self.stats
        stats.queries += 1
        stats.consecutive_failures = 0
        stats.last_success = self.now()
        self.signals.request_ok(stats.last_success)
        if not document.series:
            stats.empty += 1
        if document.problems:
            stats.problems += len(document.problems)
            self._report(name, document.problems)

    def _report(self, what: str, problems: list[str]) -> None:
        if problems:
            log.warning(
                "%s: %d problem(s) in the data: %s", what, len(problems), "; ".join(problems[:3])
            )
