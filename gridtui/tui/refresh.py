"""Refresher: asks the engine client for a picture the events do not carry, at most once a second.

Called by the app's one subscription worker after each batch it folds (and at
least once a second, when its wait for events times out). Two pictures come
this way: the capture ledger (a ledger update solves a few LPs in the engine,
so a replay that delivers thousands of hours a second must not ask for each
one; asked only when a battery delivered or a strategy settled) and the
gate-closure cockpit (its countdowns move even while no event arrives).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Refresher(Generic[T]):
    """Fetches with ``fetch`` into ``apply`` when ``due()`` and ``interval_s`` has passed.

    A failed fetch (a daemon without the route, a dropped connection) keeps the
    last picture and is logged once, not once a second, until one succeeds.
    """

    def __init__(
        self,
        what: str,
        fetch: Callable[[], Awaitable[T]],
        apply: Callable[[T], None],
        *,
        due: Callable[[], bool] = lambda: True,
        interval_s: float = 1.0,
    ) -> None:
        self.what = what
        self.fetch = fetch
        self.apply = apply
        self.due = due
        self.interval_s = interval_s
        self._next_s = 0.0
        self._failed = False

    async def maybe(self) -> None:
        if not self.due() or time.monotonic() < self._next_s:
            return
        self._next_s = time.monotonic() + self.interval_s
        try:
            self.apply(await self.fetch())
            self._failed = False
        except Exception as exc:
            if not self._failed:
                log.warning("could not fetch the %s (%s); keeping the last one", self.what, exc)
            self._failed = True
