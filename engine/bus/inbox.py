"""A reader's inbox: items wait here until the reader takes them all at once.

A bounded inbox drops its oldest items when full and counts them (a viewer that
falls behind skips stale events; the producer never waits for it); an unbounded
one keeps everything. Shared by the in-process bus's subscriptions and the
daemon client's event stream.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """A bounded queue of event batches one subscriber drains: the oldest items go first when it is
    full (counted in ``dropped``).

    Used by :class:`~engine.bus.memory.MemorySubscription` and the remote client's buffer.
    """

    def __init__(self, maxsize: int | None) -> None:
        self._items: deque[T] = deque(maxlen=maxsize)
        self._ready = asyncio.Event()
        self.closed = False
        self.dropped = 0

    def put(self, items: Sequence[T]) -> None:
        maxlen = self._items.maxlen
        if maxlen is not None:
            # The deque's maxlen discards the oldest; count what falls out.
            overflow = len(self._items) + len(items) - maxlen
            if overflow > 0:
                self.dropped += overflow
        self._items.extend(items)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def take(self, timeout: float | None = None) -> list[T] | None:
        """Everything waiting, once there is something.

        ``[]`` if ``timeout`` seconds pass with nothing; None once closed, even
        with items still waiting (closed means closed).
        """
        while True:
            if self.closed:
                return None
            if self._items:
                break
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return []
        batch = list(self._items)
        self._items.clear()
        return batch
