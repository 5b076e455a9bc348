"""AuditScreen: the audit log as a table, newest first — who did what, when, to what.

The app hands it a ``load`` callable that returns ready-made rows (time
market-local and UTC, actor, action, target, detail), so the screen knows
nothing of the engine or of where the log lives: the in-process store or an
attached daemon's ``GET /api/v1/audit``. ``r`` reloads, Escape or ``q`` closes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

AuditRow = tuple[str, str, str, str, str, str]
COLUMNS = ("Local", "UTC", "Actor", "Action", "Target", "Detail")


class AuditScreen(Screen[None]):
    """The audit log, newest first, loaded when shown and on ``r``."""

    DEFAULT_CSS = """
    AuditScreen > #audit-title { height: 1; padding: 0 1; background: $accent; }
    AuditScreen > DataTable { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(
        self, load: Callable[[], Awaitable[Sequence[AuditRow]]], *, local_zone: str
    ) -> None:
        super().__init__()
        self._load = load
        self.local_zone = local_zone
        self.rows: tuple[AuditRow, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static(f"Audit log — newest first (local time: {self.local_zone})", id="audit-title")
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(self._reload(), group="audit", exclusive=True)

    async def _reload(self) -> None:
        try:
            rows = tuple(await self._load())
        except (ConnectionError, ValueError, KeyError) as exc:
            self.notify(f"Could not read the audit log: {exc}", severity="error")
            return
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row)
        if not rows:
            self.notify("The audit log is empty: nothing was started, stopped or traded yet.")
