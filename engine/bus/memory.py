"""MemoryBus: in-process asyncio fan-out, the default bus.

Each subscription owns a deque. Publishing appends to the deques of the
subscribers of each event's topic and wakes them — it never awaits, so a slow
viewer cannot stall the producer. A lossy subscription drops its oldest events
when its deque is full (and counts them); a lossless one grows without bound,
which is why the storage path does not ride the bus at all (the kernel hands
batches to the store writer directly) and lossless subscribers are components
that keep up, such as strategies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence

from engine.bus.base import BusClosed, iterate
from engine.bus.inbox import Inbox
from engine.events import ALL_TOPICS, TOPIC_OF, Event


class MemorySubscription:
    """One subscriber of a :class:`MemoryBus`: its topics, its inbox, lossless or lossy (a bounded
    viewer).
    """

    def __init__(
        self, bus: MemoryBus, name: str, topics: frozenset[str], lossless: bool, maxsize: int
    ) -> None:
        self._bus = bus
        self._name = name
        self.topics = topics
        self.lossless = lossless
        self._inbox: Inbox[Event] = Inbox(None if lossless else maxsize)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dropped(self) -> int:
        return self._inbox.dropped

    def _extend(self, events: Sequence[Event]) -> None:
        self._inbox.put(events)

    async def next_batch(self, timeout: float | None = None) -> list[Event]:
        batch = await self._inbox.take(timeout)
        if batch is None:  # closed means closed, even with events still buffered
            raise BusClosed(f"subscription {self._name!r} is closed")
        return batch

    def __aiter__(self) -> AsyncIterator[Event]:
        return iterate(self)

    async def close(self) -> None:
        self._inbox.close()
        self._bus._remove(self)


class MemoryBus:
    """Fan-out within one process."""

    backend = "memory"

    def __init__(self) -> None:
        self._by_topic: dict[str, list[MemorySubscription]] = defaultdict(list)
        self._closed = False
        self.published = 0

    async def start(self) -> None:
        return None

    async def publish(self, events: Sequence[Event]) -> None:
        self.publish_nowait(events)

    def publish_nowait(self, events: Sequence[Event]) -> None:
        """Publish from synchronous code; the same as :meth:`publish`."""
        if self._closed:
            raise BusClosed("bus is closed")
        if not events:
            return
        # One pass to learn the batch's topics, then one extend per subscriber:
        # per-event appends would dominate at 10⁵ events a second.
        topics = [TOPIC_OF[type(event)] for event in events]
        present = set(topics)
        receivers: dict[int, MemorySubscription] = {}
        for topic in present:
            for subscription in self._by_topic.get(topic, ()):
                receivers[id(subscription)] = subscription
        for subscription in receivers.values():
            if present <= subscription.topics:
                subscription._extend(events)
            else:
                wanted = subscription.topics
                subscription._extend(
                    [e for e, t in zip(events, topics, strict=True) if t in wanted]
                )
        self.published += len(events)

    async def subscribe(
        self,
        topics: Iterable[str],
        *,
        name: str,
        lossless: bool = False,
        maxsize: int = 10_000,
    ) -> MemorySubscription:
        if self._closed:
            raise BusClosed("bus is closed")
        wanted = frozenset(topics)
        unknown = wanted - set(ALL_TOPICS)
        if unknown:
            raise ValueError(f"unknown topics {sorted(unknown)}; known: {list(ALL_TOPICS)}")
        subscription = MemorySubscription(self, name, wanted, lossless, maxsize)
        for topic in wanted:
            self._by_topic[topic].append(subscription)
        return subscription

    def _remove(self, subscription: MemorySubscription) -> None:
        for topic in subscription.topics:
            subscribers = self._by_topic.get(topic, [])
            if subscription in subscribers:
                subscribers.remove(subscription)

    async def close(self) -> None:
        self._closed = True
        for subscribers in list(self._by_topic.values()):
            for subscription in list(subscribers):
                await subscription.close()
