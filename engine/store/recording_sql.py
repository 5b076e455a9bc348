"""The SQL of the flight recorder's two reads, the same for every backend.

The recorder (:mod:`engine.store.recording`) rebuilds the state of any instant
from "the newest rows of one kind at or before t" (optionally of one battery,
one strategy, one market pair) and "which batteries / strategies were ever
recorded". Both are index probes, never scans, so a jump costs the same in a
day of data as in a year: the first is a backward range scan of a key or index
whose leading columns are the matched ones and then time; the second is a
loose index scan (one ``min(column) > previous`` probe per distinct value, as
a recursive CTE), since ``SELECT DISTINCT`` would read every row.

``mark(i)`` is the backend's i-th placeholder (``?`` or ``$i``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.store.rows import Table

Mark = Callable[[int], str]


def check_columns(table: Table, columns: Sequence[str]) -> None:
    """ValueError naming the column and the table's columns when one is not there."""
    for column in columns:
        if column not in table.columns:
            raise ValueError(
                f"{table.name} has no column {column!r}; columns: {', '.join(table.columns)}"
            )


def recorded_sql(
    table: Table, match: Sequence[str], *, has_since: bool, mark: Mark, oldest: bool = False
) -> str:
    """Rows of ``table`` with ``match`` columns equal to the first parameters, ``ts <= until``
    (next parameter), ``ts >= since`` (the next, when ``has_since``), newest first (oldest first
    with ``oldest``), at most the last parameter many."""
    check_columns(table, match)
    conditions = [f"{column} = {mark(i)}" for i, column in enumerate(match, start=1)]
    n = len(match) + 1
    conditions.append(f"{table.time_column} <= {mark(n)}")
    if has_since:
        n += 1
        conditions.append(f"{table.time_column} >= {mark(n)}")
    return (
        f"SELECT * FROM {table.name} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {table.time_column} {'ASC' if oldest else 'DESC'} LIMIT {mark(n + 1)}"
    )


def keys_sql(table: Table, column: str) -> str:
    """The distinct values of ``column`` (the leading column of the table's key), sorted."""
    if not table.key or table.key[0] != column:
        raise ValueError(
            f"{column!r} does not lead the key of {table.name} ({', '.join(table.key)}): "
            "its distinct values would need a full scan"
        )
    return (
        f"WITH RECURSIVE found(value) AS ("
        f" SELECT min({column}) FROM {table.name}"
        f" UNION ALL"
        f" SELECT (SELECT min({column}) FROM {table.name} WHERE {column} > found.value)"
        f" FROM found WHERE found.value IS NOT NULL"
        f") SELECT value FROM found WHERE value IS NOT NULL"
    )
