"""The Store protocol: where every tick, opportunity, trade, alert and backtest is kept.

Siblings: :class:`engine.store.sqlite.SqliteStore` (embedded, the default) and
:class:`engine.store.postgres.PostgresStore` (asyncpg; TimescaleDB hypertables
when the extension exists). One contract suite (``tests/contract/test_store.py``)
runs on both.

Writes are idempotent: every table has a natural primary key and a repeated row
is ignored, so replaying a spill file or a batch after a crash never duplicates.
Each :meth:`Store.write` is one transaction: after a crash a batch is either all
there or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import msgspec

from engine.events import (
    Alert,
    AuditEntry,
    BatteryState,
    Event,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
    Trade,
)
from engine.store.compaction import CompactionReport, HourlyPrice

E = TypeVar("E", bound=Event)


class StoreError(RuntimeError):
    """The database failed (unreachable, disk full, schema too new)."""


class BacktestRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A backtest run as stored: its config, headline metrics and equity curve."""

    run_id: str
    created_at: datetime
    state: str  # "running" | "finished" | "failed" | "cancelled"
    config: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    equity_curve: list[tuple[datetime, float]] = []


class Store(Protocol):
    """Where events are kept and read back: the protocol the SQLite and PostgreSQL stores implement.

    Written by :class:`~engine.store.writer.BatchedWriter`; read by the dashboard, the daemon's API
    and backtests.
    """

    @property
    def backend(self) -> str:
        """Short name for status bars and logs: ``"sqlite"`` or ``"postgresql"``."""
        ...

    async def open(self) -> None:
        """Connect and apply pending migrations. Raises StoreError if unreachable."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        ...

    async def write(self, events: Sequence[Event]) -> None:
        """Persist a batch in one transaction; kinds without a table are ignored.

        Stored: PriceTick, SpreadOpportunity, BatteryState, Trade, Alert, AuditEntry.
        Raises StoreError on failure, in which case nothing of the batch is kept.
        """
        ...

    async def latest_prices(
        self, markets: Sequence[str], kind: PriceKind = PriceKind.INTRADAY
    ) -> dict[str, PriceTick]:
        """The newest tick per market (markets with no tick are absent)."""
        ...

    async def price_history(
        self,
        market: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        kind: PriceKind | None = None,
    ) -> list[PriceTick]:
        """Ticks of one market with ``start <= ts < end``, the newest ``limit``, oldest first."""
        ...

    async def opportunities_since(self, since: datetime) -> list[SpreadOpportunity]:
        """Opportunity lifecycle events stamped at or after ``since``, oldest first."""
        ...

    async def trades(self, strategy: str | None = None, limit: int = 1000) -> list[Trade]: ...

    async def alerts(self, limit: int = 100) -> list[Alert]:
        """The newest alerts, newest first."""
        ...

    async def battery_states(self, battery_id: str, limit: int = 1000) -> list[BatteryState]: ...

    async def audit_log(
        self,
        strategy: str | None = None,
        limit: int = 100,
        *,
        actor: str | None = None,
        action: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """The newest audit entries matching every filter given, newest first.

        Args:
            strategy: only entries about this strategy (``*`` is the kill switch).
            limit: at most this many entries, after skipping ``offset`` (paging).
            actor: ``api`` matches ``api`` and every ``api:<address>``; a full
                actor (``api:10.0.0.7``) matches itself only.
            action: ``start``, ``stop``, ``kill``, ``trade``, ``reject``, ``error``.
            start, end: ``start <= ts < end``.
        """
        ...

    async def save_backtest(self, record: BacktestRecord) -> None:
        """Insert or replace a backtest run (keyed by ``run_id``)."""
        ...

    async def backtests(self, limit: int = 100) -> list[BacktestRecord]:
        """Stored runs, newest first."""
        ...

    async def backtest(self, run_id: str) -> BacktestRecord | None: ...

    async def delete_backtest(self, run_id: str) -> bool:
        """Delete a run and its trades; True if the run existed."""
        ...

    async def save_backtest_trades(self, run_id: str, trades: Sequence[Trade]) -> None:
        """Keep the trades of a backtest run, apart from live trades (idempotent per trade id)."""
        ...

    async def backtest_trades(
        self, run_id: str, strategy: str | None = None, limit: int = 100_000
    ) -> list[Trade]:
        """The trades of one run (of one strategy, or all), oldest first."""
        ...

    async def recorded(
        self,
        kind: type[E],
        *,
        until: datetime,
        since: datetime | None = None,
        limit: int = 1000,
        match: Mapping[str, str] | None = None,
        oldest: bool = False,
    ) -> list[E]:
        """Stored ``kind`` events with ``since <= ts <= until``, newest first (oldest first with
        ``oldest``): the flight recorder's one read.

        ``match`` narrows to rows whose columns equal the values given (one
        battery, one strategy, one market pair): the columns leading a key or
        index, so that the newest row at an instant is one probe. ValueError for
        a kind that is not stored or a column its table lacks.
        """
        ...

    async def recorded_keys(self, kind: type[Event], column: str) -> list[str]:
        """Every value ever recorded in the leading key column of ``kind``'s table
        (battery ids, strategy names), sorted; an index skip-scan, not a table scan."""
        ...

    async def compact(self, before: datetime) -> CompactionReport:
        """Recorder retention: compact the recording of every whole clock hour ending by ``before``.

        Observed price ticks (intraday, imbalance) of each market and hour are
        replaced by one hourly row (open, high, low, close, mean, count; see
        :meth:`hourly_prices`); auction prices (day-ahead, IDA1–3) are kept.
        Battery states and strategy status lines keep their last row per hour,
        forecasts the last issue per market and model, opportunities their
        ``opened``/``closed`` events and the last ``updated`` per hour; trades,
        alerts and the audit log are kept. One transaction per hour, oldest
        first, so a writer never waits long; idempotent.

        Reads across the cut-off still answer: :meth:`price_history` gives, for
        a compacted hour, its close stamped at the hour's last tick — the close
        stands for the hour — and :meth:`recorded` the rows kept, so
        ``state_at`` in the compacted past shows each hour as it ended.
        """
        ...

    async def hourly_prices(
        self, market: str, kind: PriceKind, *, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[HourlyPrice]:
        """Compacted hours of one market and kind, ``start <= hour_start < end``, oldest first."""
        ...

    async def count(self, table: str) -> int:
        """Rows in one table (``prices``, ``opportunities``, ...); for tests and health."""
        ...
