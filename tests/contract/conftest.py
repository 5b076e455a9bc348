"""The store under test, once per backend: every contract test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.store import Store
from engine.store.sqlite import SqliteStore


@pytest.fixture(params=["sqlite", "postgres"])
def backend_name(request):
    return request.param


@pytest.fixture
def make_store(request, backend_name, tmp_path):
    """A factory for the backend under test (sync, so it may look up other fixtures)."""
    if backend_name == "sqlite":
        return lambda: SqliteStore(tmp_path / "gridtui.db")
    from engine.store.postgres import PostgresStore

    dsn, schema = request.getfixturevalue("postgres_schema")
    return lambda: PostgresStore(dsn, schema=schema)


@pytest.fixture
async def store(make_store) -> AsyncIterator[Store]:
    backend: Store = make_store()
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()
