"""The SQL text of :class:`engine.store.postgres.PostgresStore`, built once at import.

Per table of ``engine.store.rows``: the idempotent INSERT of the small-batch
path, the TEMP staging table and the merge out of it for replays; and the two
index-probing reads ("latest per market", "history of a market").
"""

from __future__ import annotations

from typing import Final

from engine.events import PriceKind
from engine.store import rows as R
from engine.store.retention_sql import hourly_closes_sql


def stage_name(table: R.Table) -> str:
    return f"gridtui_stage_{table.name}"


def insert_sql(table: R.Table) -> str:
    marks = ", ".join(f"${i}" for i in range(1, len(table.columns) + 1))
    return (
        f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks}) "
        "ON CONFLICT DO NOTHING"
    )


def merge_sql(table: R.Table) -> str:
    columns = ", ".join(table.columns)
    return (
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage_name(table)} "
        "ON CONFLICT DO NOTHING"
    )


INSERTS: Final = {table: insert_sql(table) for table in R.TABLES}
MERGES: Final = {table: merge_sql(table) for table in R.TABLES}
# Created once per pooled connection. ON COMMIT DELETE ROWS empties them at the
# end of every write's transaction, so a batch never sees its predecessor's rows.
# TEMP tables live in the session's own schema (pg_temp, searched first) and are
# not WAL-logged, which is why staging costs little next to the real insert.
CREATE_STAGES: Final = "\n".join(
    f"CREATE TEMP TABLE IF NOT EXISTS {stage_name(table)} "
    f"(LIKE {table.name}) ON COMMIT DELETE ROWS;"
    for table in R.TABLES
)

# The newest tick of each market: a LATERAL join runs one "ORDER BY ts DESC
# LIMIT 1" probe of the primary key (market, kind, ts) per market asked for.
# DISTINCT ON over the table would read every row of every market.
LATEST_PRICES_SQL: Final = """
SELECT newest.*
FROM unnest($1::text[]) AS wanted(market)
CROSS JOIN LATERAL (
    SELECT * FROM prices
    WHERE prices.market = wanted.market AND prices.kind = $2
    ORDER BY prices.ts DESC
    LIMIT 1
) AS newest
"""


def price_history_sql(*, has_start: bool, has_end: bool) -> str:
    """History of one market: the newest ``$3`` rows per kind, merged, newest first.

    ``$1`` market, ``$2`` kinds (text[]), ``$3`` limit, then ``start``/``end`` when
    given, then the start of ``start``'s hour when given. One backward
    primary-key range scan per kind, each stopping after ``limit`` rows, so the
    cost follows the limit, not the table; where retention compacted the
    observed ticks, each hour's close at its last tick comes from the hourly
    rows the same way (``retention_sql.hourly_closes_sql``).
    """
    conditions = ["prices.market = $1", "prices.kind = wanted.kind"]
    if has_start:
        conditions.append("prices.ts >= $4")
    end = f"${5 if has_start else 4}" if has_end else None
    if end is not None:
        conditions.append(f"prices.ts < {end}")
    floor = f"${4 + has_start + has_end}"
    hourly = hourly_closes_sql(
        market="$1",
        limit="$3",
        kinds="kind = ANY($2::text[])",
        start=("$4", floor) if has_start else None,
        end=end,
    )
    return f"""
SELECT * FROM (
    SELECT newest.*
    FROM unnest($2::text[]) AS wanted(kind)
    CROSS JOIN LATERAL (
        SELECT * FROM prices
        WHERE {" AND ".join(conditions)}
        ORDER BY prices.ts DESC
        LIMIT $3
    ) AS newest
    UNION ALL
    ({hourly})
) AS found
ORDER BY found.ts DESC, found.kind DESC
LIMIT $3
"""


ALL_KINDS: Final = [kind.value for kind in PriceKind]


# A range of the primary key (ts, buy_market, sell_market, opened_at, seq) from
# ``$1``, in its order: the cost follows the rows returned, not the table's size.
OPPORTUNITIES_SINCE_SQL: Final = (
    "SELECT * FROM opportunities WHERE ts >= $1 "
    "ORDER BY ts, buy_market, sell_market, opened_at, seq"
)
