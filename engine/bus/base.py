"""The Bus protocol: fan events out by topic to any number of subscribers.

Two siblings implement it — :class:`engine.bus.memory.MemoryBus` (in-process,
the default) and :class:`engine.bus.redis_streams.RedisBus` (several processes
sharing one feed) — and one contract suite (``tests/contract/test_bus.py``)
runs on both.

Delivery modes of a subscription:

* ``lossless=False`` (a viewer such as the TUI): a bounded buffer; when the
  subscriber falls behind, the oldest events are dropped and counted in
  :attr:`Subscription.dropped`. The producer never waits for a viewer.
* ``lossless=True`` (a component that must see everything): nothing is dropped.
  On Redis this is a consumer group with acknowledgements, so a restarted
  subscriber with the same ``name`` resumes after the last acknowledged entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Protocol

from engine.events import Event


class BusError(RuntimeError):
    """The bus backend failed (for Redis: the server is unreachable)."""


class Subscription(Protocol):
    """One subscriber's view of the bus."""

    @property
    def name(self) -> str: ...

    @property
    def dropped(self) -> int:
        """Events skipped because this (lossy) subscriber fell behind."""
        ...

    async def next_batch(self, timeout: float | None = None) -> list[Event]:
        """The next events in publish order; waits until there is at least one.

        Asking for the next batch acknowledges the previous one (at-least-once on
        Redis). Returns an empty list if ``timeout`` seconds pass with nothing.
        Raises :class:`BusClosed` once the subscription or bus is closed.
        """
        ...

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


class BusClosed(Exception):
    """Raised by a subscription after it (or its bus) was closed."""


async def iterate(subscription: Subscription) -> AsyncIterator[Event]:
    """Every event of ``subscription``, batch after batch, until it is closed.

    What a subscription's ``__aiter__`` returns.
    """
    while True:
        try:
            batch = await subscription.next_batch()
        except BusClosed:
            return
        for event in batch:
            yield event


class Bus(Protocol):
    """Publish events; subscribe by topic."""

    @property
    def backend(self) -> str:
        """Short name for status bars and logs: ``"memory"`` or ``"redis"``."""
        ...

    async def start(self) -> None:
        """Connect (Redis) or do nothing (memory). Raises BusError if unreachable."""
        ...

    async def publish(self, events: Sequence[Event]) -> None:
        """Fan a batch out to every subscriber of each event's topic.

        Never blocks on a lossy subscriber. Events of one topic keep their order.
        """
        ...

    async def subscribe(
        self,
        topics: Iterable[str],
        *,
        name: str,
        lossless: bool = False,
        maxsize: int = 10_000,
    ) -> Subscription:
        """Subscribe to ``topics`` (see :data:`engine.events.ALL_TOPICS`).

        Args:
            topics: topic names to receive.
            name: the subscriber's identity; on Redis the consumer-group name, so
                a lossless subscriber that restarts with the same name resumes.
            lossless: never drop (see the module docstring).
            maxsize: how many events a lossy subscriber buffers before dropping.
        """
        ...

    async def close(self) -> None: ...
