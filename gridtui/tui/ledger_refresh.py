"""Asks the engine client for the capture ledger when it may have moved, at most once a second.

Called by the app's one subscription worker after each batch it folds; a
ledger update solves a few LPs in the engine, so a replay that delivers
thousands of hours a second must not ask for each one.
"""

from __future__ import annotations

import logging
import time

from gridtui.client.protocol import EngineClient
from gridtui.tui.view_model import DashboardModel

log = logging.getLogger(__name__)


class LedgerRefresher:
    """Fetches the ledger into ``model`` when it is stale and ``interval_s`` has passed."""

    def __init__(self, client: EngineClient, model: DashboardModel, interval_s: float = 1.0):
        self.client = client
        self.model = model
        self.interval_s = interval_s
        self._next_s = 0.0

    async def maybe(self) -> None:
        if not self.model.ledger_stale or time.monotonic() < self._next_s:
            return
        self._next_s = time.monotonic() + self.interval_s
        try:
            self.model.set_ledger(await self.client.capture_ledger())
        except Exception:  # a daemon without the route, a dropped connection: keep the last
            log.exception("could not fetch the capture ledger; keeping the last one")
