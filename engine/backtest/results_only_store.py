"""The results-only store: the Store a backtest runs on, which keeps nothing.

:func:`engine.backtest.run.run_backtest` hands :class:`ResultsOnlyStore` to the
runtime: the kernel's writer always gets its batches, but a backtest replays
ticks that are already stored (or never need to be). What a run produces is
kept by :class:`~engine.backtest.recorder.BacktestRecorder` instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TypeVar

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
from engine.store.base import BacktestRecord
from engine.store.compaction import CompactionReport, HourlyPrice

E = TypeVar("E", bound=Event)


class ResultsOnlyStore:
    """A Store that keeps nothing: a backtest's ticks and derived events go nowhere.

    The kernel always hands its batches to the writer; in a backtest they are
    history already, and the recorder keeps what the run produced. Reads answer
    empty; every write is counted.
    """

    backend = "none"

    def __init__(self) -> None:
        self.discarded = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def write(self, events: Sequence[Event]) -> None:
        self.discarded += len(events)

    async def latest_prices(
        self, markets: Sequence[str], kind: PriceKind = PriceKind.INTRADAY
    ) -> dict[str, PriceTick]:
        return {}

    async def price_history(
        self,
        market: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 1000,
        kind: PriceKind | None = None,
    ) -> list[PriceTick]:
        return []

    async def opportunities_since(self, since: datetime) -> list[SpreadOpportunity]:
        return []

    async def trades(self, strategy: str | None = None, limit: int = 1000) -> list[Trade]:
        return []

    async def alerts(self, limit: int = 100) -> list[Alert]:
        return []

    async def battery_states(self, battery_id: str, limit: int = 1000) -> list[BatteryState]:
        return []

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
        return []

    async def save_backtest(self, record: BacktestRecord) -> None:
        return None

    async def backtests(self, limit: int = 100) -> list[BacktestRecord]:
        return []

    async def backtest(self, run_id: str) -> BacktestRecord | None:
        return None

    async def delete_backtest(self, run_id: str) -> bool:
        return False

    async def save_backtest_trades(self, run_id: str, trades: Sequence[Trade]) -> None:
        return None

    async def backtest_trades(
        self, run_id: str, strategy: str | None = None, limit: int = 100_000
    ) -> list[Trade]:
        return []

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
        return []

    async def recorded_keys(self, kind: type[Event], column: str) -> list[str]:
        return []

    async def compact(self, before: datetime) -> CompactionReport:
        return CompactionReport(before=before)

    async def hourly_prices(
        self, market: str, kind: PriceKind, *, start: datetime, end: datetime, limit: int = 10_000
    ) -> list[HourlyPrice]:
        return []

    async def count(self, table: str) -> int:
        return 0


__all__ = ["ResultsOnlyStore"]
