"""The ``ledger_update`` WebSocket message: the ledger's snapshot after a delivery or settlement.

Called by the daemon's bus pump (:mod:`gridtui.daemon.background`) for every
batch it folds. Only a batch with a :class:`~engine.events.BatteryState` or a
settlement can move the ledger, so the others send nothing; and since a
snapshot re-solves a few LPs, it goes out at most once per ``interval_s``
(a fast replay delivers hundreds of hours a second; a live engine one an
hour). ``GET /api/v1/ledger`` always answers the newest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.events import BatteryState, Event, Trade
from gridtui.daemon.websocket.protocol import LEDGER_UPDATE
from gridtui.ledger_wiring import find_capture


def moves_the_ledger(batch: Sequence[Event]) -> bool:
    return any(type(e) is BatteryState or (isinstance(e, Trade) and not e.is_fill) for e in batch)


class LedgerBroadcaster:
    """Sends the ledger to WebSocket clients when a batch may have moved it (module doc)."""

    def __init__(
        self,
        engine: Any,
        hub: Any,
        *,
        interval_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.hub = hub
        self.interval_s = interval_s
        self.monotonic = monotonic
        self._next_s = float("-inf")

    def after(self, batch: Sequence[Event]) -> bool:
        """Broadcast if ``batch`` moved the ledger and the interval has passed; whether it did."""
        if not moves_the_ledger(batch) or self.monotonic() < self._next_s:
            return False
        found = find_capture(self.engine.runtime.kernel.components)
        if found is None:
            return False
        self._next_s = self.monotonic() + self.interval_s
        self.hub.broadcast_message(LEDGER_UPDATE, found.snapshot())
        return True


__all__ = ["LedgerBroadcaster", "moves_the_ledger"]
