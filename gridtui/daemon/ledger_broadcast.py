"""The ``ledger_update`` WebSocket message: the ledger's snapshot after a delivery or settlement.

Called by the daemon's bus pump (:mod:`gridtui.daemon.background`) for every
batch it folds. Only a batch with a :class:`~engine.events.BatteryState` or a
settlement can change the ledger, so the others send nothing; the snapshot
itself is recomputed once per change (:class:`engine.capture.book.CaptureBook`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.events import BatteryState, Event, Trade
from gridtui.daemon.websocket.protocol import LEDGER_UPDATE
from gridtui.ledger_wiring import find_capture


def moves_the_ledger(batch: Sequence[Event]) -> bool:
    return any(type(e) is BatteryState or (type(e) is Trade and not e.is_fill) for e in batch)


def broadcast_ledger(engine: Any, hub: Any, batch: Sequence[Event]) -> None:
    """Send the ledger to WebSocket clients when ``batch`` could have moved it."""
    if not moves_the_ledger(batch):
        return
    found = find_capture(engine.runtime.kernel.components)
    if found is not None:
        hub.broadcast_message(LEDGER_UPDATE, found.snapshot())


__all__ = ["broadcast_ledger", "moves_the_ledger"]
