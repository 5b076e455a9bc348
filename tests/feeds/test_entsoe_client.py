"""Fault tests of the ENTSO-E client against a local fake of the API.

Each fault the real API is known to produce (429 with Retry-After, 503, a
timeout, truncated XML, an HTML error page, Acknowledgement 999, 401) gets its
documented behaviour; back-off settings are tiny so the suite stays fast.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from feeds.entsoe.budget import RequestBudget
from feeds.entsoe.client import ClientConfig, EntsoeClient
from feeds.entsoe.errors import EntsoeAuthError, EntsoeRequestError, EntsoeUnavailable
from feeds.entsoe.retry import parse_retry_after
from feeds.entsoe.times import split_span
from tests.feeds.entsoe_server import HTML_ERROR, FakeEntsoe, Reply, acknowledgement, price_document

DE = "10Y1001A1001A82H"
FR = "10YFR-RTE------C"
START = datetime(2024, 3, 1, tzinfo=UTC)
END = START + timedelta(days=2)
TOKEN = "test-token"


def client_for(api: FakeEntsoe, *, token: str = TOKEN, **overrides) -> EntsoeClient:
    config = ClientConfig(
        url=api.url,
        timeout_s=overrides.pop("timeout_s", 0.3),
        max_attempts=overrides.pop("max_attempts", 3),
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        retry_after_default_s=0.1,
        **overrides,
    )
    return EntsoeClient(token, config)


async def test_prices_are_asked_for_correctly_and_parsed():
    async with FakeEntsoe() as api, client_for(api) as client:
        ticks = await client.day_ahead_prices("DE", DE, START, END)
    assert len(ticks) == 48 and ticks[0].ts == START and ticks[0].market == "DE"
    assert api.requests == [
        {
            "documentType": "A44",
            "in_Domain": DE,
            "out_Domain": DE,
            "periodStart": "202403010000",
            "periodEnd": "202403030000",
        }
    ]
    assert api.tokens == [TOKEN]
    assert client.stats.queries == 1 and client.stats.errors_total == 0
    assert client.state() == "up"


async def test_other_datasets_use_their_parameters():
    async with FakeEntsoe() as api, client_for(api) as client:
        generation = await client.generation("DE", DE, START, END)
        load = await client.load("DE", DE, START, END)
        forecast = await client.load("DE", DE, START, END, forecast=True)
        flows = await client.physical_flows("DE-FR", DE, FR, START, END)
        capacity = await client.transfer_capacity("DE-FR", DE, FR, START, END)
    assert {r.psr_type for r in generation} == {"B04", "B16", "B19", "B10"}
    assert next(r.consumption for r in generation if r.psr_type == "B10") is True
    assert len(load) == len(forecast) == 2 * 96
    assert len(flows) == len(capacity) == 48
    kinds = [(r["documentType"], r.get("processType")) for r in api.requests]
    assert kinds == [("A75", "A16"), ("A65", "A16"), ("A65", "A01"), ("A11", None), ("A61", None)]
    assert api.requests[3]["out_Domain"] == DE and api.requests[3]["in_Domain"] == FR
    assert api.requests[4]["contract_MarketAgreement.Type"] == "A01"


async def test_429_pauses_the_budget_for_retry_after_then_succeeds():
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(status=429, headers={"Retry-After": "1"}))
        started = time.monotonic()
        ticks = await client.day_ahead_prices("DE", DE, START, END)
        waited = time.monotonic() - started
    assert len(ticks) == 48
    assert waited >= 0.95
    assert client.stats.errors == {"rate limited": 1}
    assert len(api.requests) == 2


async def test_503_is_retried_with_backoff():
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(status=503, body=HTML_ERROR, content_type="text/html"))
        ticks = await client.day_ahead_prices("DE", DE, START, END)
    assert len(ticks) == 48
    assert client.stats.errors == {"http 503": 1} and client.stats.retries == 1
    assert client.state() == "up"


async def test_503_that_persists_gives_up_with_a_clear_error():
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.extend([Reply(status=503)] * 3)
        with pytest.raises(EntsoeUnavailable, match=r"day-ahead prices DE \(A44\) 2024-03-01"):
            await client.day_ahead_prices("DE", DE, START, END)
        assert client.stats.failures == 1 and client.state() == "degraded"
        # The next query works again and clears the state.
        assert len(await client.day_ahead_prices("DE", DE, START, END)) == 48
    assert client.state() == "up"


async def test_a_timeout_is_retried():
    async with FakeEntsoe() as api, client_for(api, timeout_s=0.1) as client:
        api.script.append(Reply(delay_s=0.4, body=b"too late"))
        ticks = await client.day_ahead_prices("DE", DE, START, END)
    assert len(ticks) == 48 and client.stats.errors == {"timeout": 1}


async def test_truncated_xml_is_retried():
    body = price_document(DE, START, END, lambda ts: 1.0)
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(body=body[: len(body) // 2]))
        ticks = await client.day_ahead_prices("DE", DE, START, END)
    assert len(ticks) == 48 and client.stats.errors == {"bad response": 1}


async def test_an_html_page_is_retried_then_reported():
    async with FakeEntsoe() as api, client_for(api, max_attempts=2) as client:
        api.script.extend([Reply(body=HTML_ERROR, content_type="text/html")] * 2)
        with pytest.raises(EntsoeUnavailable, match="HTML page"):
            await client.day_ahead_prices("DE", DE, START, END)
    assert client.stats.errors == {"bad response": 2}


async def test_acknowledgement_999_is_an_empty_result_not_an_error():
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(body=acknowledgement()))
        assert await client.day_ahead_prices("DE", DE, START, END) == []
    assert len(api.requests) == 1
    assert client.stats.errors_total == 0 and client.stats.empty == 1
    assert client.state() == "up"


async def test_another_acknowledgement_names_the_request_and_is_not_retried():
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(
            Reply(
                status=400, body=acknowledgement("999", "The combination of domains is not valid")
            )
        )
        with pytest.raises(EntsoeRequestError) as caught:
            await client.day_ahead_prices("DE", DE, START, END)
    message = str(caught.value)
    assert "day-ahead prices DE (A44) 2024-03-01T00:00Z..2024-03-03T00:00Z" in message
    assert "combination of domains is not valid" in message
    assert len(api.requests) == 1


async def test_401_says_where_the_token_goes_and_never_retries():
    async with FakeEntsoe() as api, client_for(api, token="wrong-token") as client:
        with pytest.raises(EntsoeAuthError) as caught:
            await client.day_ahead_prices("DE", DE, START, END)
    assert "GRIDTUI_ENTSOE_TOKEN" in str(caught.value)
    assert "wrong-token" not in str(caught.value)
    assert len(api.requests) == 1 and client.state() == "down"


async def test_an_empty_token_is_refused_before_any_request():
    with pytest.raises(EntsoeAuthError, match="GRIDTUI_ENTSOE_TOKEN"):
        EntsoeClient("  ")


async def test_spans_longer_than_the_api_allows_are_split():
    async with FakeEntsoe() as api, client_for(api, max_span_days=10) as client:
        ticks = await client.day_ahead_prices("DE", DE, START, START + timedelta(days=25))
    assert len(ticks) == 25 * 24
    assert [(r["periodStart"], r["periodEnd"]) for r in api.requests] == [
        ("202403010000", "202403110000"),
        ("202403110000", "202403210000"),
        ("202403210000", "202403260000"),
    ]


async def test_too_much_data_splits_the_span_in_two():
    too_much = acknowledgement("999", "The amount of requested data exceeds allowed limit")
    async with FakeEntsoe() as api, client_for(api) as client:
        api.script.append(Reply(status=400, body=too_much))
        ticks = await client.day_ahead_prices("DE", DE, START, START + timedelta(days=4))
    assert len(ticks) == 4 * 24 and len(api.requests) == 3


async def test_the_token_never_reaches_the_log(caplog):
    secret = "s3cr3t-t0ken-value"
    caplog.set_level(logging.DEBUG)
    async with (
        FakeEntsoe(token=secret) as api,
        client_for(api, token=secret, max_attempts=4) as client,
    ):
        api.script.extend(
            [
                Reply(status=429, headers={"Retry-After": "0"}),
                Reply(status=503),
                Reply(body=b"<Publication_MarketDocument"),
            ]
        )
        await client.day_ahead_prices("DE", DE, START, END)
        api.script.append(Reply(status=400, body=acknowledgement("999", f"bad token {secret}")))
        with pytest.raises(EntsoeRequestError) as caught:
            await client.day_ahead_prices("DE", DE, START, END)
    assert secret not in caplog.text
    assert secret not in str(caught.value) and secret not in client.stats.last_error
    assert secret not in repr(client)


def test_retry_after_forms():
    now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Fri, 01 Mar 2024 12:00:45 GMT", now) == 45.0
    assert parse_retry_after("garbage", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None


def test_split_span():
    assert split_span(START, START + timedelta(days=3), 2) == [
        (START, START + timedelta(days=2)),
        (START + timedelta(days=2), START + timedelta(days=3)),
    ]
    assert split_span(START, START, 2) == []


async def test_budget_never_exceeds_its_rate():
    budget = RequestBudget(per_minute=600, burst=2)  # 2 at once, then ~9.8/s
    started = time.monotonic()
    for _ in range(7):
        await budget.acquire()
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 1.5
    assert budget.used_last_minute() == 7
    assert budget.used_fraction() == pytest.approx(7 / 600)


async def test_budget_pause_holds_every_caller():
    budget = RequestBudget(per_minute=6000, burst=10)
    budget.pause(0.3)
    started = time.monotonic()
    await budget.acquire()
    assert time.monotonic() - started >= 0.28


def test_no_sixty_second_window_can_exceed_the_limit():
    budget = RequestBudget(per_minute=400)
    assert budget.burst + budget.rate_per_s * 60 <= 400
