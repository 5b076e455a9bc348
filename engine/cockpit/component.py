"""The gate-closure cockpit inside the kernel.

``gridtui.wiring`` adds a :class:`CockpitComponent` after the strategy manager
(so the orders a batch caused are in the book when it looks) and before the
alert rules. Its ``gate_missed`` and ``publication_late`` alerts go out like
every other derived event: on the bus's ``alerts`` topic and into the store,
from where the daemon's sinks and the dashboards take them. The front ends ask
for :meth:`CockpitComponent.snapshot` (the in-process client, the daemon's
``GET /api/v1/cockpit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.cockpit.board import GateBoard
from engine.cockpit.rows import CockpitSnapshot
from engine.events import Alert, Event


class CockpitComponent:
    """A kernel component that keeps a :class:`~engine.cockpit.board.GateBoard` moving."""

    name = "cockpit"

    def __init__(self, board: GateBoard) -> None:
        self.board = board

    def on_events(self, events: Sequence[Event], now: datetime) -> Sequence[Alert]:
        board = self.board
        board.observe(events)
        # A batch that reaches a gate or a deadline is judged at its own time,
        # not up to a second later on the timer (on a fast clock, hours later).
        if board.next_due is None or now >= board.next_due:
            return board.advance(now)
        return ()

    def on_timer(self, now: datetime) -> Sequence[Alert]:
        return self.board.advance(now)

    def snapshot(self, now: datetime) -> CockpitSnapshot:
        return self.board.snapshot(now)


__all__ = ["CockpitComponent"]
