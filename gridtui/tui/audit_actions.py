"""The audit key: open :class:`~gridtui.tui.screens.audit.AuditScreen` on the client's audit log.

Works the same in-process (the store) and attached (``GET /api/v1/audit`` with
the token): both are ``EngineClient.audit_log``. Times show in the first
configured market's local time and in UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from engine.events import AuditEntry
from engine.market.timeline import MarketTimeline, TimelineConfig
from gridtui.tui.screens.audit import AuditRow, AuditScreen

if TYPE_CHECKING:
    from textual.app import App

    from gridtui.client.protocol import EngineClient


PAGE = 500


def audit_rows(entries: Sequence[AuditEntry], zone: ZoneInfo) -> list[AuditRow]:
    """Table rows, newest first: local time, UTC, actor, action, target, detail."""
    rows: list[AuditRow] = []
    for entry in sorted(entries, key=lambda e: (e.ts, e.entry_id), reverse=True):
        target = "every strategy" if entry.strategy == "*" else entry.strategy
        if entry.ref:
            target = f"{target} ({entry.ref})"
        rows.append(
            (
                entry.ts.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
                entry.ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                entry.actor,
                entry.action,
                target,
                entry.reason,
            )
        )
    return rows


class AuditActions:
    """The ``audit`` action: the audit screen on the client's audit log.

    :class:`~gridtui.tui.app.GridApp` owns one and routes the ``audit`` key here.
    """

    def __init__(self, app: App[int], client: EngineClient) -> None:
        self._app = app
        self.client = client

    def open(self) -> None:
        markets = self.client.info.markets
        name = MarketTimeline(TimelineConfig()).rules(markets[0]).timezone if markets else "UTC"
        zone = ZoneInfo(name)

        async def load() -> list[AuditRow]:
            return audit_rows(await self.client.audit_log(limit=PAGE), zone)

        self._app.push_screen(AuditScreen(load, local_zone=name))
