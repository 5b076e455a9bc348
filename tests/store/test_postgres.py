"""PostgresStore beyond the contract suite: plans, migrations, bulk writes, faults.

The shared behaviour (round trips, idempotency, queries) is in
``tests/contract/test_store.py``. Here: what only PostgreSQL has — query plans,
schema_migrations and its advisory lock, the COPY/staging write paths, and
crashes of a real server (``tests.stubs.pg_server.ThrowawayPostgres``, never the
shared one).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg
import msgspec
import pytest

from engine.events import (
    Alert,
    BatteryState,
    Event,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    Trade,
)
from engine.store import StoreError
from engine.store import rows as R
from engine.store.postgres import COPY_MIN_ROWS, PostgresStore
from engine.store.postgres_connection import redact
from engine.store.postgres_migrations import LATEST_VERSION, MIGRATIONS
from engine.store.postgres_sql import (
    LATEST_PRICES_SQL,
    OPPORTUNITIES_SINCE_SQL,
    price_history_sql,
)
from tests.conftest import POSTGRES_DSN
from tests.stubs.builders import T0, tick
from tests.stubs.pg_server import ThrowawayPostgres, postgres_binaries

MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


def ticks(
    count: int, *, start: datetime = T0, kind: PriceKind = PriceKind.INTRADAY
) -> list[PriceTick]:
    """``count`` ticks round-robin over six markets, with microseconds in every ts."""
    return [
        PriceTick(
            ts=start + timedelta(seconds=i // len(MARKETS), microseconds=i % 997),
            market=MARKETS[i % len(MARKETS)],
            price_eur_mwh=50.0 + (i % 1000) / 8,
            kind=kind,
            volume_mwh=None if i % 3 else float(i % 50),
            source="test",
            delivery_minutes=15 if kind is PriceKind.DAY_AHEAD else None,
        )
        for i in range(count)
    ]


@pytest.fixture
async def store(postgres_schema: tuple[str, str]) -> AsyncIterator[PostgresStore]:
    dsn, schema = postgres_schema
    backend = PostgresStore(dsn, schema=schema)
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def admin(postgres_schema: tuple[str, str]) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection into the test schema, for looking behind the store's back."""
    dsn, schema = postgres_schema
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        yield conn
    finally:
        await conn.close()


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def explain(conn: asyncpg.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
    return list(plan_nodes(msgspec.json.decode(raw)[0]["Plan"]))


# -- queries ---------------------------------------------------------------------


async def test_latest_prices_probe_each_market_instead_of_scanning(store, admin):
    await store.write(ticks(100_000))
    await store.write(ticks(600, kind=PriceKind.DAY_AHEAD))
    await admin.execute("ANALYZE prices")

    nodes = await explain(admin, LATEST_PRICES_SQL, list(MARKETS), PriceKind.INTRADAY.value)

    on_prices = [n for n in nodes if n.get("Relation Name") == "prices"]
    assert on_prices, nodes
    assert all(n["Node Type"] in ("Index Scan", "Index Only Scan") for n in on_prices), on_prices
    assert all(n["Scan Direction"] == "Backward" for n in on_prices)
    # One row read per market, not 100k: the LIMIT 1 stops each probe at once.
    rows_read = sum(n["Actual Rows"] * n["Actual Loops"] for n in on_prices)
    assert rows_read == len(MARKETS)
    latest = await store.latest_prices(list(MARKETS))
    assert latest["GB"] == [t for t in ticks(100_000) if t.market == "GB"][-1]


async def test_history_reads_only_the_rows_it_returns(store, admin):
    await store.write(ticks(60_000))
    await admin.execute("ANALYZE prices")
    sql = price_history_sql(has_start=True, has_end=True)
    # $1..$5, then $6: the start's hour, for the compacted hours' rows.
    args = ["DE", [k.value for k in PriceKind], 50, T0, T0 + timedelta(hours=1), T0]

    nodes = await explain(admin, sql, *args)

    on_prices = [n for n in nodes if n.get("Relation Name") == "prices"]
    assert all(n["Node Type"] in ("Index Scan", "Index Only Scan") for n in on_prices), on_prices
    # One probe per kind; EXPLAIN rounds rows per loop, hence the slack of one per loop.
    loops = sum(n["Actual Loops"] for n in on_prices)
    assert loops == len(PriceKind)
    assert sum(n["Actual Rows"] * n["Actual Loops"] for n in on_prices) <= 50 + loops
    end = T0 + timedelta(hours=1)
    history = await store.price_history("DE", start=T0, end=end, limit=50)
    assert history == [t for t in ticks(60_000) if t.market == "DE" and t.ts < end][-50:]


async def test_recent_opportunities_are_one_range_scan_of_the_key(store, admin):
    # An hour of a busy pair: two updates a second.
    events = [
        SpreadOpportunity(
            ts=T0 + timedelta(seconds=i // 2),
            buy_market="DE",
            sell_market="FR",
            buy_price_eur_mwh=50.0,
            sell_price_eur_mwh=60.0 + i % 7,
            spread_eur_mwh=10.0 + i % 7,
            transmission_cost_eur_mwh=1.0,
            net_spread_eur_mwh=9.0 + i % 7,
            status=OpportunityStatus.OPENED if i == 0 else OpportunityStatus.UPDATED,
            opened_at=T0,
            duration_s=float(i // 2),
            seq=i,
        )
        for i in range(7_200)
    ]
    await store.write(events)
    await admin.execute("ANALYZE opportunities")
    since = T0 + timedelta(minutes=55)

    nodes = await explain(admin, OPPORTUNITIES_SINCE_SQL, since)

    # The key's range from ``since`` (as an index or bitmap scan, as the planner
    # likes), never a scan of the table: the rows read are the rows returned.
    on_table = [n for n in nodes if n.get("Relation Name") == "opportunities"]
    assert on_table and all(n["Node Type"] != "Seq Scan" for n in on_table), nodes
    assert {n.get("Index Name") for n in nodes} >= {"opportunities_pkey"}
    assert sum(n["Actual Rows"] for n in on_table) == 600
    recent = await store.opportunities_since(since)
    assert len(recent) == 600
    assert recent == events[-600:]


async def test_history_merges_kinds_newest_last(store):
    intraday = ticks(12)
    day_ahead = ticks(12, start=T0 + timedelta(microseconds=500), kind=PriceKind.DAY_AHEAD)
    await store.write(intraday + day_ahead)
    both = await store.price_history("DE", limit=3)
    assert [t.ts for t in both] == sorted(t.ts for t in both)
    assert (
        both
        == sorted([t for t in intraday + day_ahead if t.market == "DE"], key=lambda t: t.ts)[-3:]
    )
    assert await store.price_history("DE", kind=PriceKind.DAY_AHEAD) == day_ahead[::6]


async def test_timestamps_come_back_utc_and_exact(store):
    paris = timezone(timedelta(hours=2))
    written = tick("FR", 61.25, at=datetime(2024, 7, 1, 14, 0, 0, 123_457, tzinfo=paris))
    await store.write([written])
    (read,) = await store.price_history("FR")
    assert read == written
    assert read.ts.utcoffset() == timedelta(0)
    assert read.ts == datetime(2024, 7, 1, 12, 0, 0, 123_457, tzinfo=UTC)


async def test_naive_query_times_are_refused(store):
    with pytest.raises(TypeError, match="tz-aware"):
        await store.opportunities_since(datetime(2024, 1, 1))
    with pytest.raises(TypeError, match="tz-aware"):
        await store.price_history("DE", start=datetime(2024, 1, 1))


# -- schema and migrations -------------------------------------------------------


async def test_plain_tables_and_indexes_without_timescaledb(store, admin):
    if await admin.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"):
        pytest.skip("TimescaleDB is installed here: tables are hypertables")
    assert store.hypertables is False
    kinds = dict(
        await admin.fetch(
            "SELECT relname, relkind FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')"
        )
    )
    assert kinds == {name: b"r" for name in (*R.TABLE_NAMES, "schema_migrations")}
    indexes = {r["indexname"] for r in await admin.fetch("SELECT indexname FROM pg_indexes")}
    assert {"prices_pkey", "opportunities_pkey", "alerts_ts", "trades_strategy_ts"} <= indexes
    assert "opportunities_ts" not in indexes  # the key, time first, serves range queries


async def test_migrations_are_recorded_once(postgres_schema, admin):
    dsn, schema = postgres_schema
    for _ in range(2):
        store = PostgresStore(dsn, schema=schema)
        await store.open()
        await store.close()
    versions = [r["version"] for r in await admin.fetch("SELECT version FROM schema_migrations")]
    assert sorted(versions) == [m.version for m in MIGRATIONS]
    assert max(versions) == LATEST_VERSION


async def test_two_stores_opening_at_once_on_a_fresh_schema(postgres_schema, admin):
    dsn, schema = postgres_schema
    stores = [PostgresStore(dsn, schema=schema, pool_size=1) for _ in range(3)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        await stores[0].write([tick()])
        assert await stores[2].count("prices") == 1
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    assert await admin.fetchval("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)


async def test_a_missing_schema_is_created():
    schema = f"t_new_{uuid.uuid4().hex[:10]}"
    store = PostgresStore(POSTGRES_DSN, schema=schema)
    try:
        await store.open()
    except StoreError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        await store.write([tick()])
        assert await store.count("prices") == 1
    finally:
        await store.close()
        conn = await asyncpg.connect(POSTGRES_DSN)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


async def test_a_schema_newer_than_the_code_is_refused(postgres_schema, store, admin):
    await store.close()
    await admin.execute("INSERT INTO schema_migrations (version) VALUES ($1)", LATEST_VERSION + 1)
    dsn, schema = postgres_schema
    with pytest.raises(StoreError, match="newer than this gridtui"):
        await PostgresStore(dsn, schema=schema).open()


# -- writes ----------------------------------------------------------------------


async def test_100k_ticks_in_one_write_round_trip_exactly(store):
    batch = ticks(100_000)
    await store.write(batch)
    assert await store.count("prices") == 100_000
    await store.write(batch)  # the same batch again: a replay, nothing new
    assert await store.count("prices") == 100_000
    de = [t for t in batch if t.market == "DE"]
    assert await store.price_history("DE", limit=len(de)) == de


async def test_replays_and_partial_overlaps_take_the_staging_path(store):
    first, overlapping = ticks(600), ticks(900)
    await store.write(first)
    await store.write(overlapping)  # 600 already stored, 300 new: COPY fails, staging wins
    assert await store.count("prices") == 900
    assert R.PRICES in store._replaying  # the next batch skips the doomed COPY
    await store.write(ticks(300, start=T0 + timedelta(days=1)))  # clean: back to COPY
    assert R.PRICES not in store._replaying
    assert await store.count("prices") == 1200
    assert await store.price_history("AT", limit=10_000) == [
        t for t in overlapping + ticks(300, start=T0 + timedelta(days=1)) if t.market == "AT"
    ]


@pytest.mark.parametrize("size", [COPY_MIN_ROWS - 1, COPY_MIN_ROWS, 5_000])
async def test_every_write_path_is_idempotent(store, size):
    batch = ticks(size)
    for _ in range(3):
        await store.write(batch)
    assert await store.count("prices") == size
    assert await store.latest_prices(["DE"]) == {"DE": [t for t in batch if t.market == "DE"][-1]}


def mixed_batch(price_count: int) -> list[Event]:
    return [
        *ticks(price_count),
        Trade(
            ts=T0,
            trade_id="t-1",
            strategy="arbitrage",
            market="DE",
            side="buy",
            volume_mwh=1.0,
            price_eur_mwh=60.0,
        ),
        Alert(ts=T0, rule="spike", severity=Severity.WARNING, message="FR high", key="FR"),
        BatteryState(
            ts=T0,
            battery_id="b",
            market="DE",
            soc_mwh=1.0,
            soc_fraction=0.1,
            power_mw=0.0,
            mode="idle",
        ),
        SpreadOpportunity(
            ts=T0,
            buy_market="DE",
            sell_market="FR",
            buy_price_eur_mwh=1.0,
            sell_price_eur_mwh=2.0,
            spread_eur_mwh=1.0,
            transmission_cost_eur_mwh=0.0,
            net_spread_eur_mwh=1.0,
            status=OpportunityStatus.OPENED,
            opened_at=T0,
        ),
    ]


@pytest.mark.parametrize("price_count", [3, 2_000])
async def test_a_failing_batch_keeps_nothing(store, price_count):
    bad = PriceTick(ts=T0, market="NL", price_eur_mwh="not a number", source="x")  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await store.write([*mixed_batch(price_count), bad])
    for table in R.TABLE_NAMES:
        assert await store.count(table) == 0, table
    await store.write(mixed_batch(price_count))  # the connection is fine afterwards
    assert await store.count("prices") == price_count


# -- errors ----------------------------------------------------------------------


async def test_an_unreachable_server_says_what_to_do():
    store = PostgresStore("postgresql://gridtui:secret@127.0.0.1:1/nowhere", connect_timeout=2)
    with pytest.raises(StoreError, match="check the DSN") as raised:
        await store.open()
    assert "PostgreSQL is running" in str(raised.value)
    assert "secret" not in str(raised.value)


async def test_using_a_closed_store_is_a_clear_error():
    with pytest.raises(StoreError, match="open"):
        await PostgresStore(POSTGRES_DSN).write([tick()])


def test_redact_hides_passwords():
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("host=h password=pw dbname=db") == "host=h password=*** dbname=db"


# -- faults on a throwaway server ------------------------------------------------


@pytest.fixture
def server() -> Iterator[ThrowawayPostgres]:
    if postgres_binaries() is None:
        pytest.skip("no PostgreSQL server binaries (initdb) installed")
    with ThrowawayPostgres() as running:
        yield running


@pytest.mark.slow
async def test_a_crash_fails_writes_fast_and_loses_nothing_committed(server):
    store = PostgresStore(server.dsn, connect_timeout=3, command_timeout=5)
    await store.open()
    try:
        before = ticks(3_000)
        await store.write(before)

        server.kill()  # SIGKILL: no shutdown, no checkpoint
        started = time.monotonic()
        with pytest.raises(StoreError, match="PostgreSQL"):
            await asyncio.wait_for(store.write(ticks(10, start=T0 + timedelta(days=1))), 15)
        assert time.monotonic() - started < 10
        with pytest.raises(StoreError):
            await store.ping()

        server.start()  # crash recovery replays the WAL
        after = ticks(100, start=T0 + timedelta(days=2))
        await store.write(after)  # the same store reconnects by itself
        assert await store.count("prices") == 3_100
        assert await store.price_history("BE", limit=10_000) == [
            t for t in before + after if t.market == "BE"
        ]
    finally:
        await store.close()


@pytest.mark.slow
async def test_a_crash_during_a_write_keeps_all_of_it_or_none(server):
    store = PostgresStore(server.dsn, connect_timeout=3, command_timeout=5)
    await store.open()
    try:
        await store.write(ticks(1_000))
        big = ticks(150_000, start=T0 + timedelta(days=1))
        writing = asyncio.create_task(store.write(big))
        await asyncio.sleep(0.3)  # well into the COPY
        server.kill()
        started = time.monotonic()
        with pytest.raises(StoreError, match="connection lost"):
            await asyncio.wait_for(writing, 15)
        # Not a hang: asyncpg alone would wait forever for a dead socket to drain.
        assert time.monotonic() - started < 5
        server.start()
        assert await store.count("prices") in (1_000, 151_000)
    finally:
        await store.close()


@pytest.mark.slow
async def test_a_hung_server_times_out_instead_of_hanging(server):
    store = PostgresStore(server.dsn, connect_timeout=1, command_timeout=1)
    await store.open()
    try:
        server.pause()  # SIGSTOP: connections open, nobody answers
        started = time.monotonic()
        with pytest.raises(StoreError, match="no answer in time"):
            await asyncio.wait_for(store.write([tick()]), 15)
        assert time.monotonic() - started < 5
        server.resume()
        await store.write([tick("FR")])
        assert await store.count("prices") == 1
    finally:
        server.resume()
        await store.close()


class ConfusedOnce(PostgresStore):
    """A store whose first batch leaves its connection mid-protocol, for real.

    Two statements at once on one connection (what asyncpg's "another operation
    is in progress" means) make the real driver raise, on the real server, the
    error of issue 14 item 14's kind; the aborted transaction's ROLLBACK then
    meets a connection that is still busy.
    """

    confused = 0

    async def _write_rows(
        self, conn: asyncpg.Connection, table: R.Table, rows: list[R.Row]
    ) -> None:
        if not self.confused:
            self.confused += 1
            await asyncio.gather(conn.fetchval("SELECT pg_sleep(0.2)"), conn.fetchval("SELECT 1"))
        await super()._write_rows(conn, table, rows)


async def test_a_connection_that_lost_its_protocol_is_dropped_and_the_batch_written_again(
    postgres_schema: tuple[str, str], admin: asyncpg.Connection
):
    # Before: the error left write() as a StoreError (the writer took the store
    # for down and buffered) and the confused connection went back to the pool.
    dsn, schema = postgres_schema
    backend = ConfusedOnce(dsn, schema=schema, pool_size=1)
    await backend.open()
    try:
        batch = ticks(600)
        await backend.write(batch)  # no StoreError
        assert backend.confused == 1 and backend.protocol_retries == 1
        assert await admin.fetchval("SELECT count(*) FROM prices") == 600
        # The one pooled connection works: the confused one was not reused.
        await backend.write(ticks(600, start=T0 + timedelta(days=1)))
        assert await backend.count("prices") == 1200
    finally:
        await backend.close()
