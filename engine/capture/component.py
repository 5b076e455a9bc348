"""The capture ledger inside the kernel: sees every event after the strategies ran.

``gridtui.wiring`` adds a :class:`CaptureComponent` last, so the battery
states and settlements the strategy manager and the fleet derive from a
batch reach it in the same pass. It emits nothing: the front ends ask it for
:meth:`CaptureComponent.snapshot` (the in-process client, the daemon's
``GET /api/v1/ledger`` and its ``ledger_update`` WebSocket message).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.capture.book import CaptureBook
from engine.capture.rows import LedgerSnapshot
from engine.events import Event


class CaptureComponent:
    """A kernel component that feeds a :class:`~engine.capture.book.CaptureBook`."""

    name = "capture"

    def __init__(self, book: CaptureBook) -> None:
        self.book = book

    def on_events(self, events: Sequence[Event], now: datetime) -> Sequence[Event]:
        self.book.observe(events)
        return ()

    def on_timer(self, now: datetime) -> Sequence[Event]:
        return ()

    def snapshot(self) -> LedgerSnapshot:
        return self.book.snapshot()


__all__ = ["CaptureComponent"]
