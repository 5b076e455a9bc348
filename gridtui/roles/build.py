"""The runtime of one daemon role, from the settings (``[daemon] role``, ``--role``).

* ``all`` — today's single process: :func:`gridtui.wiring.build_runtime`.
* ``ingest`` — the feed into the store and the bus, no analytics; a simulator
  is wrapped in a :class:`~gridtui.roles.catch_up.CatchUpFeed`, so a node that
  takes the lease over resumes where the store stops.
* ``analytics`` — no feed of its own: a :class:`feeds.bus.BusFeed` (the raw
  topics, through the ``analytics`` consumer group) into every analytics
  component; only what they derive is stored and published.
* ``api`` — no feed and no components: the API's live view is folded from the
  bus, history comes from the store.

The split roles share one Redis bus and one PostgreSQL store; anything else is
refused with the setting to change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import msgspec

from engine.clock import Clock
from engine.events import Event
from engine.kernel import Component
from engine.ports import Feed
from engine.runtime import Runtime
from feeds.bus import BusFeed
from gridtui.roles.catch_up import CatchUpFeed
from gridtui.roles.lease import LeaseWatcher, RedisLease, default_node_id
from gridtui.roles.node import LEASED_ROLES, NodeState
from gridtui.settings.loader import Settings, SettingsError, redact_url
from gridtui.wiring import (
    build_bus,
    build_clock,
    build_components,
    build_feed,
    build_runtime,
    build_store,
    writer_config,
)


class IdleFeed:
    """An ``api`` node's feed: nothing, ever (its kernel only stores what it is handed)."""

    name = "none"

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        del clock
        await asyncio.Event().wait()  # until the kernel stops and cancels it
        yield []  # pragma: no cover - never reached; makes this an async generator


def check_shared_backends(settings: Settings) -> None:
    """Raise SettingsError unless a split role has a Redis bus and a PostgreSQL store."""
    role = settings.daemon.role
    if role == "all":
        return
    problems = []
    if not settings.bus.url.startswith(("redis://", "rediss://", "unix://")):
        problems.append(
            f"bus.url (--bus) must be redis://host:6379/0, not {redact_url(settings.bus.url)!r}"
        )
    if not settings.store.url.startswith(("postgresql://", "postgres://")):
        problems.append(
            "store.url (--store) must be postgresql://user@host:5432/db, "
            f"not {redact_url(settings.store.url)!r}"
        )
    if problems:
        raise SettingsError(
            f"daemon.role = {role} (--role) shares one bus and one store with the other "
            f"nodes: {'; '.join(problems)} (or run --role all)"
        )


def _feed_from(settings: Settings, start: datetime | None) -> Feed:
    feed = msgspec.structs.replace(settings.feed, start=start)
    return build_feed(msgspec.structs.replace(settings, feed=feed))


def ingest_feed(settings: Settings) -> Feed:
    """The ingest node's feed: a paced simulator resumes after the last stored tick."""
    if settings.feed.kind == "mock" and settings.feed.tick_interval_s > 0:
        return CatchUpFeed(
            lambda start: _feed_from(settings, start), "mock", settings.feed.tick_interval_s
        )
    return build_feed(settings)


def build_role_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """The runtime of ``settings.daemon.role`` (see the module docstring).

    Raises:
        SettingsError: a split role without a Redis bus and a PostgreSQL store.
    """
    role = settings.daemon.role
    if role == "all":
        return build_runtime(settings, clock)
    check_shared_backends(settings)
    store = build_store(settings)
    bus = build_bus(settings)
    feed: Feed = IdleFeed()
    components: list[Component] = []
    if role == "ingest":
        feed = ingest_feed(settings)
    elif role == "analytics":
        feed, components = BusFeed(bus), build_components(settings)
    return Runtime(
        feed=feed,
        clock=clock or build_clock(settings),
        bus=bus,
        store=store,
        components=components,
        writer_config=writer_config(settings, store),
        validation=settings.validation,
        # The recorder's compaction runs once, on the node that writes the ticks.
        retention=settings.recorder if role == "ingest" else None,
        forward_input=role == "ingest",
    )


def node_and_lease(settings: Settings) -> tuple[NodeState, RedisLease | None]:
    """This node's state, and the lease it must hold to be active (ingest, analytics).

    The lease key names the role and the feed (``PREFIX:lease:ingest:mock``): one
    active node per role and feed among all the daemons sharing the bus prefix.
    """
    role = settings.daemon.role
    node = NodeState(role=role, node_id=settings.daemon.node_id or default_node_id())
    if role not in LEASED_ROLES:
        return node, None
    key = lease_key(settings, role)
    node.lease_key = key
    node.stand_by()
    return node, RedisLease(settings.bus.url, key, node.node_id, settings.daemon.lease_s)


def lease_key(settings: Settings, role: str) -> str:
    return f"{settings.bus.prefix}:lease:{role}:{settings.feed.kind}"


def lease_watcher(settings: Settings) -> LeaseWatcher | None:
    """What tells every split-role node who is active (None for role ``all``)."""
    if settings.daemon.role == "all":
        return None
    keys = {role: lease_key(settings, role) for role in sorted(LEASED_ROLES)}
    return LeaseWatcher(settings.bus.url, keys, max(0.1, settings.daemon.lease_s / 4))
