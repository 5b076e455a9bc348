"""Compaction of the recording: what ``Store.compact`` does, on any backend.

The loop is here, the SQL in :mod:`engine.store.retention_sql`, and each
backend hands in a small :class:`CompactionRunner` (how to run a query, and a
batch of statements as one transaction). Work goes one clock hour at a time,
oldest first, each hour one transaction: the writer waits at most for one
hour's statements (on SQLite they share its one thread; on PostgreSQL they
touch only old rows), and a compaction stopped halfway leaves whole hours
done and the rest raw — the next run goes on from the watermark.

Where to start: the stored watermark (where the last run stopped) or, when
observed ticks older than it exist (a late write, a replay into an old
store), the oldest of those; on the first run, the oldest row of any
compacted table. Every probe is one index seek.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

import msgspec

from engine.store import retention_sql as Q
from engine.store import rows as R
from engine.store.recording_sql import keys_sql

log = logging.getLogger(__name__)
HOUR: Final = timedelta(hours=1)
Statement = tuple[str, Sequence[Any]]


class HourlyPrice(msgspec.Struct, frozen=True, kw_only=True):
    """One market's observed ticks of one kind in one clock hour, as compaction keeps them."""

    market: str
    kind: str
    hour_start: datetime
    first_ts: datetime
    last_ts: datetime
    open_eur_mwh: float
    high_eur_mwh: float
    low_eur_mwh: float
    close_eur_mwh: float
    mean_eur_mwh: float
    ticks: int
    volume_mwh: float | None = None
    source: str = "unknown"


def hourly_price_from(r: Any, since: Callable[[Any], datetime] = lambda ts: ts) -> HourlyPrice:
    """A stored hourly row (a mapping by column name) as an :class:`HourlyPrice`."""
    fields = {name: r[name] for name in HourlyPrice.__struct_fields__}
    for name in ("hour_start", "first_ts", "last_ts"):
        fields[name] = since(fields[name])
    return msgspec.convert(fields, HourlyPrice)


class CompactionReport(msgspec.Struct, frozen=True, kw_only=True):
    """What one ``Store.compact`` did: hours handled and rows removed, per table."""

    before: datetime
    hours: int = 0
    ticks_folded: int = 0
    hourly_rows: int = 0
    thinned: dict[str, int] = {}
    compacted_until: datetime | None = None

    @property
    def removed(self) -> int:
        return self.ticks_folded + sum(self.thinned.values())


class CompactionRunner(Protocol):
    """A backend's part: parameters in its form, queries, and one transaction per batch."""

    def mark(self, i: int) -> str:
        """The i-th numbered placeholder."""
        ...

    def when(self, ts: datetime) -> Any:
        """A timestamp as the backend stores it."""
        ...

    def since(self, value: Any) -> datetime:
        """A stored timestamp back to a UTC datetime."""
        ...

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]: ...

    async def run_batch(self, statements: Sequence[Statement]) -> list[int]:
        """Run the statements in one transaction; the rows each touched."""
        ...


def floor_hour(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class _Keys(msgspec.Struct, kw_only=True):
    markets: list[str]
    leads: dict[str, list[str]]  # thinned table -> its lead values


async def _keys(runner: CompactionRunner) -> _Keys:
    async def values(table: R.Table, column: str) -> list[str]:
        return [str(r[0]) for r in await runner.fetch(keys_sql(table, column), ())]

    leads = {t.table.name: await values(t.table, t.lead) for t in Q.THINNED if t.lead is not None}
    return _Keys(markets=await values(R.PRICES, "market"), leads=leads)


async def _oldest(runner: CompactionRunner, keys: _Keys, first_run: bool) -> datetime | None:
    mark = runner.mark
    found: list[datetime] = []

    async def probe(sql: str, params: Sequence[Any]) -> None:
        rows = await runner.fetch(sql, params)
        if rows and rows[0][0] is not None:
            found.append(runner.since(rows[0][0]))

    for market in keys.markets:
        for kind in Q.OBSERVED_KINDS:
            await probe(Q.oldest_sql(R.PRICES, "market", mark, kind=True), (market, kind))
    if first_run:
        for thinned in Q.THINNED:
            if thinned.lead is None:
                await probe(Q.oldest_sql(thinned.table, None, mark), ())
                continue
            for value in keys.leads[thinned.table.name]:
                await probe(Q.oldest_sql(thinned.table, thinned.lead, mark), (value,))
    return min(found) if found else None


def _hour_statements(
    runner: CompactionRunner, keys: _Keys, start: datetime
) -> tuple[list[Statement], list[str]]:
    """One hour's statements, and what each counts towards (``ticks``, ``hourly`` or a table)."""
    mark = runner.mark
    h0, h1 = runner.when(start), runner.when(start + HOUR)
    statements: list[Statement] = []
    labels: list[str] = []
    fold, delete = Q.fold_ticks_sql(mark), Q.delete_ticks_sql(mark)
    for market in keys.markets:
        for kind in Q.OBSERVED_KINDS:
            statements += [(fold, (market, kind, h0, h1)), (delete, (market, kind, h0, h1))]
            labels += ["hourly", "ticks"]
    for thinned in Q.THINNED:
        sql = Q.thin_sql(thinned, mark)
        name = thinned.table.name
        if thinned.lead is None:
            statements.append((sql, (h0, h1)))
            labels.append(name)
            continue
        for value in keys.leads[name]:
            statements.append((sql, (value, h0, h1)))
            labels.append(name)
    statements.append((Q.advance_watermark_sql(mark), (Q.WATERMARK_SCOPE, h1)))
    labels.append("watermark")
    return statements, labels


async def compact(
    runner: CompactionRunner,
    before: datetime,
    *,
    on_hour: Callable[[datetime], None] | None = None,
) -> CompactionReport:
    """Compact every whole clock hour that ends at or before ``before`` (see the module doc).

    Idempotent: a second run with the same ``before`` finds nothing to do.
    ``on_hour`` is told each hour done (tests, progress).
    """
    if before.tzinfo is None:
        raise ValueError(f"before must carry a time zone (got {before.isoformat()})")
    end = floor_hour(before)
    mark = runner.mark
    stored = await runner.fetch(Q.watermark_sql(mark), (Q.WATERMARK_SCOPE,))
    watermark = runner.since(stored[0][0]) if stored else None
    keys = await _keys(runner)
    oldest = await _oldest(runner, keys, first_run=watermark is None)
    starts = [t for t in (watermark, oldest) if t is not None]
    if not starts:
        return CompactionReport(before=before, compacted_until=watermark)
    hour = floor_hour(min(starts))
    hours = ticks = hourly = 0
    thinned: dict[str, int] = {}
    while hour < end:
        statements, labels = _hour_statements(runner, keys, hour)
        counts = await runner.run_batch(statements)
        for label, count in zip(labels, counts, strict=True):
            if label == "ticks":
                ticks += count
            elif label == "hourly":
                hourly += count
            elif label != "watermark":
                thinned[label] = thinned.get(label, 0) + count
        hours += 1
        hour += HOUR
        if on_hour is not None:
            on_hour(hour)
    until = max(end, watermark) if watermark is not None else end
    return CompactionReport(
        before=before,
        hours=hours,
        ticks_folded=ticks,
        hourly_rows=hourly,
        thinned=thinned,
        compacted_until=until if hours or watermark is not None else None,
    )
