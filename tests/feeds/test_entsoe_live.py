"""The live ENTSO-E feed on a simulated clock against the fake API.

Covers the schedule (known future prices once auctioned, the current MTU's
price when it starts, fundamentals as they arrive) and what the feed's health
machine says for every fault the API produces.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from engine.alerts.engine import AlertEngine
from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.events import Alert, Event, FeedHealth, Fundamentals, PriceKind, PriceTick
from engine.feed_health import FeedHealthMachine
from engine.ports import FeedError
from engine.runtime import Runtime
from engine.store.sqlite import SqliteStore
from feeds.entsoe.client import ClientConfig, EntsoeClient
from feeds.entsoe.live import EntsoeFeed, EntsoeFeedConfig
from tests.feeds.entsoe_server import HTML_ERROR, FakeEntsoe, Reply, acknowledgement, price_document

DE = "10Y1001A1001A82H"
FR = "10YFR-RTE------C"
T0 = datetime(2024, 3, 1, 10, 7, tzinfo=UTC)  # before the 12:00 CET auction
END_OF_TODAY = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)  # CET midnight
END_OF_TOMORROW = datetime(2024, 3, 2, 23, 0, tzinfo=UTC)


def feed_for(api: FakeEntsoe, *, zones=None, fundamentals=False, **client_overrides) -> EntsoeFeed:
    config = ClientConfig(
        url=api.url,
        timeout_s=client_overrides.pop("timeout_s", 0.3),
        max_attempts=client_overrides.pop("max_attempts", 2),
        backoff_initial_s=0.01,
        backoff_max_s=0.02,
        retry_after_default_s=0.05,
    )
    return EntsoeFeed(
        EntsoeClient(client_overrides.pop("token", api.token), config),
        EntsoeFeedConfig(
            zones=zones or {"DE": DE},
            poll_interval_s=900,
            health_interval_s=3600,
            fundamentals=fundamentals,
        ),
    )


class Batches:
    """The feed's batches with a look-ahead of one: a feed yields only when it has
    something, so the batch after ``when`` is held back for the next call."""

    def __init__(self, stream: AsyncIterator[Sequence[Event]], clock: SimClock) -> None:
        self.stream = stream
        self.clock = clock
        self.held: tuple[list[Event], datetime] | None = None

    async def until(self, when: datetime) -> list[list[Event]]:
        """Every batch the feed yields before the clock reaches ``when``."""
        batches: list[list[Event]] = []
        while True:
            if self.held is None:
                self.held = (list(await anext(self.stream)), self.clock.now())
            batch, at = self.held
            if at >= when:
                return batches
            batches.append(batch)
            self.held = None


def prices(batch) -> list[PriceTick]:
    return [e for e in batch if isinstance(e, PriceTick)]


def watched(feed: EntsoeFeed, clock: SimClock) -> FeedHealthMachine:
    """The health machine a kernel would hand the feed."""
    machine = FeedHealthMachine("entsoe", stale_after_s=3 * feed.config.poll_interval_s)
    feed.report_health_to(machine)
    machine.start(clock.now())
    return machine


async def test_known_prices_then_tomorrow_once_auctioned_then_each_mtu_at_its_start():
    clock = SimClock(T0)
    async with FakeEntsoe() as api:
        api.prices_until = END_OF_TODAY
        feed = feed_for(api, zones={"DE": DE, "FR": FR})
        machine = watched(feed, clock)
        stream = feed.stream(clock)
        batches = Batches(stream, clock)
        first = list(await anext(stream))
        # Everything known so far, published at once: today up to CET midnight.
        known = prices(first)
        assert {t.market for t in known} == {"DE", "FR"}
        assert max(t.ts for t in known) == END_OF_TODAY - timedelta(hours=1)
        assert all(t.kind is PriceKind.DAY_AHEAD and t.source == "entsoe" for t in known)
        assert machine.evaluate(clock.now()) == "up"
        assert machine.budget_used == 2 and machine.budget_limit == 400

        morning = await batches.until(datetime(2024, 3, 1, 11, 50, tzinfo=UTC))
        # At 11:00 the current MTU's price went out, nothing else new.
        eleven = [b for b in morning if prices(b)]
        assert len(eleven) == 1
        assert {(t.market, t.ts.hour) for t in prices(eleven[0])} == {("DE", 11), ("FR", 11)}

        api.prices_until = END_OF_TOMORROW  # the auction results are out
        afternoon = await batches.until(datetime(2024, 3, 1, 13, 1, tzinfo=UTC))
        tomorrow = [t for b in afternoon for t in prices(b) if t.ts >= END_OF_TODAY]
        assert len(tomorrow) == 2 * 24
        assert max(t.ts for t in tomorrow) == END_OF_TOMORROW - timedelta(hours=1)
        mtu_batches = [
            {(t.market, t.ts) for t in prices(b)}
            for b in afternoon
            if prices(b) and all(t.ts < END_OF_TODAY for t in prices(b))  # not the poll's
        ]
        expected = [
            {(m, datetime(2024, 3, 1, h, tzinfo=UTC)) for m in ("DE", "FR")} for h in (12, 13)
        ]
        assert mtu_batches == expected

        # Tomorrow is known: no more price requests until the next delivery day.
        asked = len(api.of_type("A44"))
        await batches.until(datetime(2024, 3, 1, 18, 0, tzinfo=UTC))
        assert len(api.of_type("A44")) == asked
        await stream.aclose()


async def test_fundamentals_arrive_once_each():
    clock = SimClock(T0)
    async with FakeEntsoe() as api:
        api.actuals_until = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
        feed = feed_for(api, fundamentals=True)
        stream = feed.stream(clock)
        first = [e for e in await anext(stream) if isinstance(e, Fundamentals)]
        # Lookback 6 h from 10:00 → 04:00 … 09:45, quarter-hourly.
        assert len(first) == 24
        assert first[0].ts == datetime(2024, 3, 1, 4, 0, tzinfo=UTC)
        sample = first[-1]
        assert sample.market == "DE" and sample.load_mw == 50_000.0 + 900
        assert sample.wind_mw == 12_000.0 and sample.solar_mw == 1_000.0 * (6 - 3)

        api.actuals_until = datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
        later = await Batches(stream, clock).until(T0 + timedelta(minutes=16))
        fresh = [e for b in later for e in b if isinstance(e, Fundamentals)]
        assert [f.ts.minute for f in fresh] == [0, 15]
        await stream.aclose()


FAULTS = {
    "429": ([Reply(status=429, headers={"Retry-After": "0"})], "up", 1, True),
    "503": ([Reply(status=503)] * 2, "degraded", 2, False),
    "timeout": ([Reply(delay_s=0.4)] * 2, "degraded", 2, False),
    "truncated XML": (
        [Reply(body=b"<Publication_MarketDocument xmlns='x'><Time")] * 2,
        "degraded",
        2,
        False,
    ),
    "HTML page": ([Reply(body=HTML_ERROR, content_type="text/html")] * 2, "degraded", 2, False),
    "ack 999": ([Reply(body=acknowledgement())], "up", 0, False),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_faults_are_signalled_to_the_health_machine_and_the_feed_goes_on(fault):
    script, state, errors, got_prices = FAULTS[fault]
    clock = SimClock(T0)
    async with FakeEntsoe() as api:
        api.script.extend(script)
        feed = feed_for(api, timeout_s=0.1)
        machine = watched(feed, clock)
        first = await feed.poll(clock.now())
        assert machine.evaluate(clock.now()) == state
        assert feed.client.stats.errors_total == errors
        assert bool(prices(first)) == got_prices
        assert machine.retries_total == feed.client.stats.retries
        if state != "up":
            assert "day-ahead prices DE" in machine.reason
            assert "day-ahead prices DE" in machine.last_error
            assert machine.last_success is None
        # The next poll finds the API well again.
        later = await feed.poll(clock.now())
        assert machine.evaluate(clock.now()) == "up" and machine.last_success is not None
        assert prices(later) or got_prices
        await feed.client.close()


async def test_401_is_down_with_the_reason_then_ends_the_feed():
    clock = SimClock(T0)
    async with FakeEntsoe() as api:
        feed = feed_for(api, token="not-the-right-one")
        machine = watched(feed, clock)
        stream = feed.stream(clock)
        with pytest.raises(FeedError, match="rejected the API token"):
            await anext(stream)
        assert machine.evaluate(clock.now()) == "down"
        assert "GRIDTUI_ENTSOE_TOKEN" in machine.reason
        assert "not-the-right-one" not in machine.reason


async def test_the_feed_runs_in_the_engine_and_nothing_is_rejected(tmp_path):
    clock = SimClock(T0, speed=7200.0)  # two hours a second
    async with FakeEntsoe() as api:
        api.prices_until = END_OF_TODAY
        api.actuals_until = T0
        feed = feed_for(api, zones={"DE": DE, "FR": FR}, fundamentals=True)
        runtime = Runtime(
            feed=feed, clock=clock, bus=MemoryBus(), store=SqliteStore(tmp_path / "live.db")
        )
        await runtime.run(duration_s=1.0)
        await runtime.close()
        assert runtime.validator.rejected_total == 0
    store = SqliteStore(tmp_path / "live.db")
    await store.open()
    stored = await store.price_history("DE", kind=PriceKind.DAY_AHEAD, limit=1000)
    await store.close()
    assert len(stored) == 47  # yesterday and today in UTC hours up to CET midnight
    assert stored[-1].ts == END_OF_TODAY - timedelta(hours=1)


def test_a_price_document_for_the_fake_is_what_the_parser_reads():
    body = price_document(DE, T0.replace(hour=0, minute=0), END_OF_TODAY, lambda ts: 1.0)
    assert body.count(b"<Point>") == 23


async def test_a_restart_backfills_the_day_ahead_prices_since_the_newest_stored(tmp_path):
    # Issue 14, item 5: the daemon was down five days (a crash, kill -9, a long
    # stop). The restarted feed asks from the store's newest delivery on, so the
    # stored series has no gap; before, it asked for yesterday..tomorrow only.
    path = tmp_path / "live.db"

    async def run_at(start: datetime, prices_until: datetime) -> None:
        async with FakeEntsoe() as api:
            api.prices_until = prices_until
            runtime = Runtime(
                feed=feed_for(api), clock=SimClock(start), bus=MemoryBus(), store=SqliteStore(path)
            )
            await runtime.run(duration_s=0.5)
            await runtime.close()

    await run_at(T0, END_OF_TODAY)
    later = T0 + timedelta(days=5)
    await run_at(later, END_OF_TODAY + timedelta(days=5))

    store = SqliteStore(path)
    await store.open()
    stored = await store.price_history("DE", kind=PriceKind.DAY_AHEAD, limit=10_000)
    await store.close()
    hours = [t.ts for t in stored]
    assert hours == sorted(set(hours))
    gaps = [(a, b) for a, b in itertools.pairwise(hours) if b - a != timedelta(hours=1)]
    assert gaps == []
    assert hours[-1] == END_OF_TODAY + timedelta(days=5) - timedelta(hours=1)
    assert hours[0] <= T0 - timedelta(days=1)


async def test_the_backfill_reaches_back_at_most_backfill_max_days(tmp_path):
    async with FakeEntsoe() as api:
        api.prices_until = END_OF_TODAY
        feed = feed_for(api)
        feed.resume_after({"DE": T0 - timedelta(days=400)})
        clock = SimClock(T0)
        stream = feed.stream(clock)
        first = prices(list(await anext(stream)))
        await stream.aclose()
    midnight = T0.replace(hour=0, minute=0)
    assert min(t.ts for t in first) == midnight - timedelta(days=31)


async def test_in_the_engine_one_state_goes_down_and_up_and_the_alerts_follow(tmp_path):
    """Issue 15, item 5: the kernel's "entsoe up" beside the feed's "entsoe-api down"."""
    clock = SimClock(T0, speed=300.0)  # the 15-minute poll every 3 s
    async with FakeEntsoe() as api:
        api.prices_until = END_OF_TODAY
        api.script.extend([Reply(status=503)] * 8)  # prices and load of DE and FR, twice each
        feed = feed_for(api, zones={"DE": DE, "FR": FR}, fundamentals=True)
        bus = MemoryBus()
        runtime = Runtime(
            feed=feed,
            clock=clock,
            bus=bus,
            store=SqliteStore(tmp_path / "live.db"),
            components=[AlertEngine()],
            stale_after_s=3 * 900,
        )
        subscription = await bus.subscribe(["health", "alerts"], name="test", lossless=True)
        await runtime.run(duration_s=4.5)
        seen: list[Event] = []
        while batch := await subscription.next_batch(timeout=0):
            seen.extend(batch)
        await runtime.close()
    health = [e for e in seen if isinstance(e, FeedHealth)]
    assert {h.source for h in health} == {"entsoe"}
    states = [h.state for h in health]
    assert "down" in states and "up" in states[states.index("down") :]
    down = next(h for h in health if h.state == "down")
    assert "4 requests failed in a row" in down.message and "HTTP 503" in down.last_error
    assert down.retries_total == 4 and down.budget_limit == 400
    rules = [a.rule for a in seen if isinstance(a, Alert) and a.key == "entsoe"]
    assert rules == ["feed_down", "feed_recovered"]  # the stop at the end is no alert
