"""A takeover resumes the simulator right after the last stored tick and catches up.

Real parts: the simulator (MockFeed) on the wall clock, a SQLite store holding
what the dead node stored up to two seconds ago.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

from engine.clock import LiveClock
from engine.events import Event, PriceKind, PriceTick
from engine.store.sqlite import SqliteStore
from gridtui.roles.build import ingest_feed
from gridtui.roles.catch_up import CatchUpFeed, resume
from gridtui.settings.loader import load_settings

STEP_S = 0.2


async def test_the_feed_resumes_one_step_after_the_store_and_catches_up_at_once(tmp_path):
    settings = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "feed": {"tick_interval_s": STEP_S}}
    )
    markets = settings.markets
    store = SqliteStore(tmp_path / "g.db")
    await store.open()
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    # The dead node stored DE one tick further than the others: resume after the others.
    await store.write(
        [PriceTick(ts=last, market=m, price_eur_mwh=50.0, kind=PriceKind.INTRADAY) for m in markets]
        + [PriceTick(ts=last + timedelta(seconds=STEP_S), market="DE", price_eur_mwh=50.0)]
    )
    feed = ingest_feed(settings)
    assert isinstance(feed, CatchUpFeed)
    resumed = await resume(feed, store, markets)
    await store.close()
    assert resumed == last + timedelta(seconds=STEP_S)

    stamps: list[datetime] = []
    stream = cast(AsyncGenerator[Sequence[Event], None], feed.stream(LiveClock()))
    began: float | None = None
    async for batch in stream:
        # From the first batch on (building the simulator takes a moment on a busy host).
        began = began if began is not None else time.monotonic()
        stamps += sorted(
            {e.ts for e in batch if isinstance(e, PriceTick) and e.kind is PriceKind.INTRADAY}
        )
        if stamps and stamps[-1] >= last + timedelta(seconds=2):
            break
    await stream.aclose()
    assert began is not None
    caught_up_s = time.monotonic() - began
    assert stamps[0] == resumed
    assert all(b - a == timedelta(seconds=STEP_S) for a, b in itertools.pairwise(stamps))
    assert caught_up_s < 0.5  # two seconds of missed ticks, emitted without waiting


async def test_with_nothing_stored_the_feed_starts_now(tmp_path):
    settings = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "feed": {"tick_interval_s": STEP_S}}
    )
    store = SqliteStore(tmp_path / "g.db")
    await store.open()
    feed = ingest_feed(settings)
    assert await resume(feed, store, settings.markets) is None
    await store.close()
    before = datetime.now(UTC)
    stream = cast(AsyncGenerator[Sequence[Event], None], feed.stream(LiveClock()))
    batch = await anext(stream)
    await stream.aclose()
    first = min(e.ts for e in batch if isinstance(e, PriceTick) and e.kind is PriceKind.INTRADAY)
    assert before <= first <= before + timedelta(seconds=1)
