"""Asks the engine client for the gate-closure cockpit at most once a second.

Called by the app's one subscription worker after each batch it folds (and at
least once a second, when its wait for events times out), so the countdowns move
even while no event arrives.
"""

from __future__ import annotations

import logging
import time

from gridtui.client.protocol import EngineClient
from gridtui.tui.view_model import DashboardModel

log = logging.getLogger(__name__)


class CockpitRefresher:
    """Fetches the cockpit into ``model`` when ``interval_s`` has passed."""

    def __init__(self, client: EngineClient, model: DashboardModel, interval_s: float = 1.0):
        self.client = client
        self.model = model
        self.interval_s = interval_s
        self._next_s = 0.0
        self._failed = False

    async def maybe(self) -> None:
        if time.monotonic() < self._next_s:
            return
        self._next_s = time.monotonic() + self.interval_s
        try:
            self.model.set_cockpit(await self.client.cockpit())
            self._failed = False
        except Exception as exc:  # a daemon without the route, a dropped connection: keep the last
            if not self._failed:  # once, not once a second
                log.warning("could not fetch the cockpit (%s); keeping the last one", exc)
            self._failed = True
