"""Backfill of ENTSO-E history: plan per-day chunks, skip what is there, fetch the rest.

This module owns the backfill behind ``gridtui fetch entsoe``: cutting a date
range into per-market (or per-border) chunks, skipping what is already there,
fetching the rest through the shared :class:`~feeds.entsoe.client.EntsoeClient`,
and writing each chunk as soon as it arrives, so an interrupted run loses at
most the chunks in flight and the next run fetches only what is missing.

Sinks: :class:`ParquetSink` (day-ahead prices to FILE itself in the long format
the replay feed plays; each other dataset beside it as ``FILE.<dataset>.parquet``;
finished chunks wait in ``FILE.parquet.parts/`` until the run ends, then are
merged in, and a crash leaves them for the next run) and :class:`StoreSink`
(day-ahead prices as ticks in a store, one transaction per chunk).

"Already there" is decided per UTC day: a day with at least one row for that
market (or border) is not fetched again. Days that are not over yet are always
fetched again, since actual load and generation keep arriving.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

import msgspec
import pandas as pd

from engine.events import PriceKind, PriceTick
from engine.store.base import Store, StoreError
from feeds.entsoe.client import EntsoeClient
from feeds.entsoe.convert import GenerationRow, ValueRow
from feeds.entsoe.errors import EntsoeAuthError, EntsoeError
from feeds.entsoe.zones import PRODUCTION_TYPES

if TYPE_CHECKING:
    from rich.progress import Progress

DATASETS: Final = ("prices", "generation", "load", "load_forecast", "flows", "capacity")
BORDER_DATASETS: Final = frozenset({"flows", "capacity"})
_DAY: Final = timedelta(days=1)


class Job(NamedTuple):
    """One request-sized piece of a backfill: a dataset, a market or border, a span of days."""

    dataset: str
    key: str  # market ("DE") or border ("DE-FR", from → to)
    start: date
    end: date  # exclusive

    @property
    def span(self) -> tuple[datetime, datetime]:
        return _midnight(self.start), _midnight(self.end)


Rows = Sequence[PriceTick] | Sequence[GenerationRow] | Sequence[ValueRow]


class FetchReport(msgspec.Struct, kw_only=True):
    """What a backfill did, per dataset and in total."""

    chunks: int = 0
    skipped_days: int = 0
    fetched: int = 0
    failed: int = 0
    rows: dict[str, int] = msgspec.field(default_factory=dict)
    failures: list[str] = msgspec.field(default_factory=list)
    written: list[str] = msgspec.field(default_factory=list)


class Sink(Protocol):
    """Where fetched rows go, and what is already there."""

    async def open(self) -> None: ...

    async def done_days(self, dataset: str, key: str) -> set[date]: ...

    async def write(self, job: Job, rows: Rows) -> int: ...

    async def close(self) -> list[str]:
        """Finish up; a line per output written."""
        ...


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _days(start: date, end: date) -> list[date]:
    return [start + i * _DAY for i in range((end - start).days)]


def plan(
    dataset: str,
    key: str,
    start: date,
    end: date,
    done: set[date],
    *,
    chunk_days: int,
    today: date,
) -> tuple[list[Job], int]:
    """Chunks covering the days of ``[start, end)`` not yet done; and how many were done.

    Days from ``today`` on never count as done: their data is still arriving.
    """
    jobs: list[Job] = []
    skipped = 0
    run: list[date] = []

    def flush() -> None:
        for i in range(0, len(run), chunk_days):
            piece = run[i : i + chunk_days]
            jobs.append(Job(dataset, key, piece[0], piece[-1] + _DAY))
        run.clear()

    for day in _days(start, end):
        if day in done and day < today:
            skipped += 1
            flush()
        else:
            run.append(day)
    flush()
    return jobs, skipped


# -- rows → frames -----------------------------------------------------------------


def _timestamps(values: list[datetime]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(values, tz=UTC).as_unit("us")


def to_frame(job: Job, rows: Rows) -> pd.DataFrame:
    """The parquet shape of one chunk (see the module docstring)."""
    if job.dataset == "prices":
        ticks = [r for r in rows if isinstance(r, PriceTick)]
        return pd.DataFrame(
            {
                "timestamp": _timestamps([t.ts for t in ticks]),
                "market": [job.key] * len(ticks),
                "price_eur_mwh": [t.price_eur_mwh for t in ticks],
                "resolution_minutes": [t.delivery_minutes or 60 for t in ticks],
            }
        )
    if job.dataset == "generation":
        generated = [r for r in rows if isinstance(r, GenerationRow)]
        return pd.DataFrame(
            {
                "timestamp": _timestamps([r.ts for r in generated]),
                "market": [job.key] * len(generated),
                "psr_type": [r.psr_type for r in generated],
                "production_type": [
                    PRODUCTION_TYPES.get(r.psr_type, r.psr_type) for r in generated
                ],
                "consumption": [r.consumption for r in generated],
                "value_mw": [r.value_mw for r in generated],
                "resolution_minutes": [r.minutes for r in generated],
            }
        )
    values = [r for r in rows if isinstance(r, ValueRow)]
    columns: dict[str, Any] = {"timestamp": _timestamps([r.ts for r in values])}
    if job.dataset in BORDER_DATASETS:
        from_market, to_market = job.key.split(">", 1)
        columns["from_market"] = [from_market] * len(values)
        columns["to_market"] = [to_market] * len(values)
    else:
        columns["market"] = [job.key] * len(values)
    columns["value_mw"] = [r.value_mw for r in values]
    columns["resolution_minutes"] = [r.minutes for r in values]
    return pd.DataFrame(columns)


def key_columns(dataset: str) -> list[str]:
    if dataset in BORDER_DATASETS:
        return ["from_market", "to_market", "timestamp"]
    if dataset == "generation":
        return ["market", "psr_type", "consumption", "timestamp"]
    return ["market", "timestamp"]


def _row_key(dataset: str, frame: pd.DataFrame) -> pd.Series:
    if dataset in BORDER_DATASETS:
        return frame["from_market"].astype(str) + ">" + frame["to_market"].astype(str)
    return frame["market"].astype(str)


# -- sinks -------------------------------------------------------------------------


class ParquetSink:
    """Prices to ``out``, other datasets to ``out``'s siblings; parts until the end."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.parts = out.with_name(out.name + ".parts")
        self._existing: dict[str, dict[str, set[date]]] = {}

    def path_for(self, dataset: str) -> Path:
        if dataset == "prices":
            return self.out
        return self.out.with_name(f"{self.out.name.removesuffix('.parquet')}.{dataset}.parquet")

    async def open(self) -> None:
        self.parts.mkdir(parents=True, exist_ok=True)

    async def done_days(self, dataset: str, key: str) -> set[date]:
        if dataset not in self._existing:
            self._existing[dataset] = await asyncio.to_thread(self._read_days, dataset)
        days = set(self._existing[dataset].get(key, set()))
        for part in self.parts.glob(f"{dataset}__*.parquet"):
            fields = part.name.removesuffix(".parquet").split("__")
            if len(fields) == 4 and fields[1] == _file_key(key):
                start, end = (date.fromisoformat(f) for f in fields[2:])
                days.update(_days(start, end))
        return days

    def _read_days(self, dataset: str) -> dict[str, set[date]]:
        path = self.path_for(dataset)
        if not path.exists():
            return {}
        frame = pd.read_parquet(path)
        found: dict[str, set[date]] = {}
        keys = _row_key(dataset, frame)
        days = frame["timestamp"].dt.tz_convert("UTC").dt.date
        for key, day in zip(keys.tolist(), days.tolist(), strict=True):
            found.setdefault(key, set()).add(day)
        return found

    async def write(self, job: Job, rows: Rows) -> int:
        frame = to_frame(job, rows)
        name = f"{job.dataset}__{_file_key(job.key)}__{job.start:%Y%m%d}__{job.end:%Y%m%d}.parquet"
        await asyncio.to_thread(_write_atomically, frame, self.parts / name)
        return len(frame)

    async def close(self) -> list[str]:
        return await asyncio.to_thread(self._merge)

    def _merge(self) -> list[str]:
        written: list[str] = []
        for dataset in DATASETS:
            parts = sorted(self.parts.glob(f"{dataset}__*.parquet")) if self.parts.exists() else []
            if not parts:
                continue
            path = self.path_for(dataset)
            frames = [pd.read_parquet(p) for p in ([path] if path.exists() else []) + parts]
            frames = [f for f in frames if len(f)]
            if frames:
                merged = pd.concat(frames, ignore_index=True)
                keys = key_columns(dataset)
                merged = merged.drop_duplicates(keys, keep="last").sort_values(keys)
                _write_atomically(merged.reset_index(drop=True), path)
                written.append(f"{path} ({len(merged):,} rows)")
            for part in parts:
                part.unlink()
        if self.parts.exists() and not any(self.parts.iterdir()):
            self.parts.rmdir()
        return written


def _file_key(key: str) -> str:
    return key.replace(">", "_to_")


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    temporary = path.with_name(path.name + ".tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


class StoreSink:
    """Day-ahead prices into a gridtui store, one transaction per chunk."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows = 0

    async def open(self) -> None:
        await self.store.open()

    async def done_days(self, dataset: str, key: str) -> set[date]:
        history = await self.store.price_history(key, limit=100_000_000, kind=PriceKind.DAY_AHEAD)
        return {tick.ts.astimezone(UTC).date() for tick in history}

    async def write(self, job: Job, rows: Rows) -> int:
        ticks = [r for r in rows if isinstance(r, PriceTick)]
        await self.store.write(ticks)
        self.rows += len(ticks)
        return len(ticks)

    async def close(self) -> list[str]:
        await self.store.close()
        return [f"{self.store.backend} store (+{self.rows:,} price rows)"]


# -- the backfill ------------------------------------------------------------------


async def fetch_chunk(
    client: EntsoeClient, job: Job, zones: dict[str, str], *, sequence: int | None
) -> Rows:
    """Ask the API for one chunk."""
    start, end = job.span
    if job.dataset in BORDER_DATASETS:
        from_market, to_market = job.key.split(">", 1)
        border = f"{from_market}-{to_market}"
        method = client.physical_flows if job.dataset == "flows" else client.transfer_capacity
        return await method(border, zones[from_market], zones[to_market], start, end)
    eic = zones[job.key]
    if job.dataset == "prices":
        return await client.day_ahead_prices(job.key, eic, start, end, sequence=sequence)
    if job.dataset == "generation":
        return await client.generation(job.key, eic, start, end)
    return await client.load(job.key, eic, start, end, forecast=job.dataset == "load_forecast")


async def backfill(
    client: EntsoeClient,
    sink: Sink,
    *,
    datasets: Sequence[str],
    markets: Sequence[str],
    border_pairs: Sequence[tuple[str, str]],
    zones: dict[str, str],
    start: date,
    end: date,
    chunk_days: int = 31,
    concurrency: int = 4,
    sequence: int | None = 1,
    today: date | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch every missing chunk; write each as it arrives.

    Raises:
        EntsoeAuthError: the token was rejected (nothing more is attempted).
    """
    today = today or datetime.now(UTC).date()
    report = FetchReport()
    jobs: list[Job] = []
    for dataset in datasets:
        keys = (
            [f"{a}>{b}" for a, b in border_pairs] if dataset in BORDER_DATASETS else list(markets)
        )
        for key in keys:
            done = await sink.done_days(dataset, key)
            planned, skipped = plan(
                dataset, key, start, end, done, chunk_days=chunk_days, today=today
            )
            jobs.extend(planned)
            report.skipped_days += skipped
        report.rows.setdefault(dataset, 0)
    report.chunks = len(jobs)
    task = progress.add_task("fetching", total=len(jobs)) if progress else None
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Job) -> None:
        async with gate:
            if progress is not None and task is not None:
                progress.update(task, description=f"{job.dataset} {job.key} {job.start}")
            try:
                rows = await fetch_chunk(client, job, zones, sequence=sequence)
                written = await sink.write(job, rows)
            except EntsoeAuthError:
                raise
            except (EntsoeError, StoreError, OSError) as exc:
                report.failed += 1
                report.failures.append(f"{job.dataset} {job.key} {job.start}..{job.end}: {exc}")
            else:
                report.fetched += 1
                report.rows[job.dataset] += written
            if progress is not None and task is not None:
                progress.advance(task)

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(run(job))
    return report
