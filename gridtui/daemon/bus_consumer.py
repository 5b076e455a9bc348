"""Draining a bus subscription in a background task, until the bus closes.

The bus pump (:mod:`gridtui.daemon.background`) and the alert router
(:mod:`gridtui.daemon.alert_router`) each own one subscription and do the same
thing with it: subscribe again while the bus is unreachable, hand over batch
after batch, stop quietly on :class:`~engine.bus.base.BusClosed`, and close the
subscription on the way out whatever happened (cancellation included).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from engine.bus.base import BusClosed, Subscription
from engine.events import Event


def _never() -> bool:
    return False


async def consume(
    subscription: Subscription | None,
    subscribe: Callable[[], Awaitable[Subscription | None]],
    on_batch: Callable[[list[Event]], Awaitable[None]],
    *,
    retry_s: float,
    give_up: Callable[[], bool] = _never,
) -> None:
    """Hand every batch of ``subscription`` to ``on_batch`` until the bus closes.

    While ``subscription`` is None (the bus was unreachable), ``subscribe`` is
    tried again every ``retry_s`` seconds; ``give_up`` is asked before each
    wait, and ends the task when it says so.
    """
    try:
        while subscription is None:
            if give_up():
                return
            await asyncio.sleep(retry_s)
            subscription = await subscribe()
        while True:
            await on_batch(await subscription.next_batch())
    except BusClosed:
        return
    finally:
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.close()
