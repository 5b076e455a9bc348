"""Shared fixtures: real PostgreSQL and Redis, isolated per test.

Locally a missing server skips the tests that need it. CI sets
``GRIDTUI_REQUIRE_SERVICES=1`` so "server not reachable" fails instead: CI always
tests the real servers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

POSTGRES_DSN = os.environ.get("GRIDTUI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GRIDTUI_TEST_REDIS", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("GRIDTUI_REQUIRE_SERVICES", "") not in ("", "0", "false")


def unreachable(what: str, exc: BaseException) -> None:
    message = f"{what} not reachable ({exc!r})"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; GRIDTUI_REQUIRE_SERVICES is set, so this is a failure")
    pytest.skip(message)


@pytest.fixture
async def postgres_schema() -> AsyncIterator[tuple[str, str]]:
    """``(dsn, schema)``: a fresh schema in the test database, dropped afterwards."""
    import asyncpg

    try:
        conn = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        unreachable(f"PostgreSQL at {POSTGRES_DSN}", exc)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield POSTGRES_DSN, schema
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[tuple[str, str]]:
    """``(url, prefix)``: a unique key prefix on the shared Redis, deleted afterwards."""
    import redis.asyncio as aioredis
    from redis.exceptions import ConnectionError as RedisConnectionError

    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.ping()
    except (OSError, RedisConnectionError) as exc:
        await client.aclose()
        unreachable(f"Redis at {REDIS_URL}", exc)
    prefix = f"gridtui-test-{uuid.uuid4().hex[:12]}"
    try:
        yield REDIS_URL, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
