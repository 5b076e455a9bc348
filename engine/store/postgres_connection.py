"""What PostgresStore needs around asyncpg: which errors mean trouble and what to
tell the user about them, a COPY that fails fast when its connection drops, and
DSNs fit to print (no password).
"""

from __future__ import annotations

import asyncio
import re
from contextlib import suppress
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from engine.store import rows as R
from engine.store.base import StoreError

# Every way asyncpg reports trouble: server errors, protocol and client errors,
# and socket errors (TimeoutError from command_timeout is an OSError).
DRIVER_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
)
# The client side of a connection lost track of its protocol: asyncpg raises
# "cannot switch to state 15; another operation (2) is in progress" when a
# statement starts before the server has finished answering the last one (seen
# once at full-speed ingest, after an aborted COPY: the savepoint's ROLLBACK
# went out before the server's ReadyForQuery), and "another operation is in
# progress" for two statements at once. The server is fine; the connection is not.
PROTOCOL_CONFUSED: Final = (asyncpg.exceptions.InternalClientError, asyncpg.InterfaceError)
CONNECTION_LOST: Final = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    OSError,
)


def unreachable_error(where: str, exc: BaseException) -> StoreError:
    """What to tell a user whose server cannot be reached at all."""
    return StoreError(
        f"{where} is unreachable ({type(exc).__name__}: {exc}): check the DSN "
        "(host, port, database, user, password) and that PostgreSQL is running"
    )


def failed_error(
    where: str, exc: BaseException, command_timeout: float, connect_timeout: float
) -> StoreError:
    """What a failed call means, named by its first cause.

    A lost connection often surfaces as a secondary error (the ROLLBACK of the
    failed transaction cannot be sent): name the first cause, not the echo.
    """
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, TimeoutError):
            return StoreError(
                f"{where}: no answer in time ({type(cause).__name__}: {cause}); "
                f"is the server hung or overloaded? (command_timeout="
                f"{command_timeout:g}s, connect_timeout={connect_timeout:g}s)"
            )
        if isinstance(cause, CONNECTION_LOST):
            return StoreError(
                f"{where}: connection lost ({type(cause).__name__}: {cause}); "
                "is PostgreSQL running? The store reconnects on the next call"
            )
        cause = cause.__cause__ or cause.__context__
    return StoreError(f"{where}: {type(exc).__name__}: {exc}")


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is not None:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return urlunsplit(parts._replace(netloc=netloc))
        return dsn
    return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", dsn)


async def copy_rows(
    conn: asyncpg.Connection, target: str, table: R.Table, rows: list[R.Row]
) -> None:
    """Binary COPY of ``rows`` into ``target``, failing at once if the connection drops.

    Between its 512 KiB chunks asyncpg (0.32) waits for the socket to drain, and
    a lost connection never ends that wait (nor does command_timeout): a server
    crash in the middle of a large COPY would hang the write for good. A
    termination listener turns the loss into an error instead.
    """
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_lost(_: object) -> None:
        if not lost.done():
            lost.set_result(None)

    conn.add_termination_listener(on_lost)
    copying = asyncio.ensure_future(
        conn.copy_records_to_table(target, records=rows, columns=table.columns)
    )
    # Its error is raised below, or superseded by the connection loss: either
    # way asyncio must not log it as "never retrieved".
    copying.add_done_callback(lambda task: task.cancelled() or task.exception())
    try:
        await asyncio.wait([copying, lost], return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not copying.done():
            copying.cancel()
            await asyncio.wait([copying])
        # On a dead connection the pool has already detached it from our proxy.
        with suppress(asyncpg.InterfaceError):
            conn.remove_termination_listener(on_lost)
    if copying.cancelled():
        raise asyncpg.ConnectionDoesNotExistError(f"connection lost during COPY into {target}")
    copying.result()  # raises what the COPY raised


def require_aware(name: str, value: datetime) -> datetime:
    """``value`` if it is tz-aware, else TypeError naming ``name``.

    asyncpg would read a naive datetime as UTC; SqliteStore raises. Refuse it
    here too rather than guess what the caller meant.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"{name} must be a tz-aware datetime (UTC), got naive {value!r}")
    return value
