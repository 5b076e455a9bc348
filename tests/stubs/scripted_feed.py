"""A feed that plays a fixed list of batches: for tests that need exact input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from engine.clock import Clock
from engine.events import Event


class ScriptedFeed:
    def __init__(self, batches: Sequence[Sequence[Event]], *, pause_s: float = 0.0) -> None:
        self.batches = [list(b) for b in batches]
        self.pause_s = pause_s

    @property
    def name(self) -> str:
        return "scripted"

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        for batch in self.batches:
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
            yield batch
