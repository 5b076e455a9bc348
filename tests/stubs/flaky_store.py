"""A real SqliteStore behind a switch that makes writes fail, as an outage would."""

from __future__ import annotations

from collections.abc import Sequence

from engine.events import Event
from engine.store.base import StoreError
from engine.store.sqlite import SqliteStore


class FlakyStore(SqliteStore):
    def __init__(self, path) -> None:
        super().__init__(path)
        self.down = False
        self.failed_writes = 0

    async def write(self, events: Sequence[Event]) -> None:
        if self.down:
            self.failed_writes += 1
            raise StoreError("connection refused (simulated outage)")
        await super().write(events)
