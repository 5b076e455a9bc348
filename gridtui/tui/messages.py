"""Thin Textual messages from the app's subscription worker to the app.

The worker folds engine events into the model and posts a :class:`DashboardUpdate`
at most ``ui.refresh_hz`` times a second. Each update carries a complete
snapshot, so an update still queued when a newer one arrives is stale:
``can_replace`` lets Textual drop it instead of rendering it, and a UI that falls
behind skips frames instead of lagging further.

Widgets' own messages (a filter changed, a form submitted) are nested in the
widget classes, as Textual does it; this module holds only the app-wide ones.
"""

from __future__ import annotations

from textual.message import Message

from gridtui.tui.views import DashboardSnapshot


class DashboardUpdate(Message):
    """A new picture of the engine for the panes."""

    def __init__(self, snapshot: DashboardSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DashboardUpdate)


class EngineStopped(Message):
    """The subscription ended: the engine closed, or the connection to it failed."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
