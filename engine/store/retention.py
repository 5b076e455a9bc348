"""Recorder retention: how long the raw recording is kept, and the job that compacts it.

The store keeps every event the engine publishes (the flight recorder). At
the simulator's default tick (10 s, six markets) that is ~52,000 price ticks
a day, plus the battery states, opportunity updates, strategy lines and
forecasts derived from them, so a daemon that runs for a year would grow
without bound. :class:`RetentionJob` runs ``Store.compact`` on the engine's
clock every ``every_s``: the recording older than ``raw_days`` is folded
into hourly rows (``engine.store.compaction``), and each run's removals are
logged. :class:`~engine.runtime.Runtime` starts and stops it with the store.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated, Literal

import msgspec

from engine.clock import Clock
from engine.store.base import Store, StoreError
from engine.store.compaction import CompactionReport

log = logging.getLogger(__name__)


class RetentionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[recorder]``: how long raw ticks and events are kept before they are compacted.

    Attributes:
        raw_days: days of the raw recording kept (every tick and every derived
            event, what rewind steps through tick by tick); older hours are
            compacted. 0 keeps everything raw forever, and the store then grows
            without bound (17.5 MB a day on SQLite at the default tick, six
            markets: ``bench/recorder_disk.py``; 1.3 MB a day once compacted).
        aggregate: what compacted observed ticks (intraday, imbalance) become:
            ``hourly``, one row per market and hour with open, high, low, close,
            mean and the tick count; reads of a compacted hour see its close,
            at its last tick. Day-ahead and intraday-auction prices, trades,
            alerts and the audit log are never compacted; battery states,
            strategy lines, forecasts and opportunity updates keep their last
            of each hour.
        every_s: seconds of engine time between two compaction runs (the first
            runs a second after the engine starts).
    """

    raw_days: Annotated[float, msgspec.Meta(ge=0, le=36_600)] = 30.0
    aggregate: Literal["hourly"] = "hourly"
    every_s: Annotated[float, msgspec.Meta(ge=60, le=86_400)] = 3_600.0

    @property
    def enabled(self) -> bool:
        return self.raw_days > 0


class RetentionJob:
    """Runs ``store.compact(now - raw_days)`` every ``every_s`` of ``clock`` time.

    It looks at the clock every ``poll_s`` real seconds rather than sleeping on
    it: a simulated clock advances when its *feed* sleeps, and a job sleeping
    on it would drag the simulation forward. A failed run is logged and tried
    again at the next interval; the engine never stops for it.
    """

    def __init__(
        self, store: Store, clock: Clock, config: RetentionConfig, *, poll_s: float = 1.0
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.poll_s = poll_s
        self.runs = 0
        self.failures = 0
        self.last_report: CompactionReport | None = None

    async def run_once(self) -> CompactionReport:
        """One compaction up to ``raw_days`` before now; logs what it removed."""
        before = self.clock.now() - timedelta(days=self.config.raw_days)
        report = await self.store.compact(before)
        self.runs += 1
        self.last_report = report
        if report.hours:
            thinned = ", ".join(f"{n} {table}" for table, n in sorted(report.thinned.items()))
            log.info(
                "recorder retention: compacted %d hours before %s: %d ticks folded into "
                "%d hourly rows; thinned %s",
                report.hours,
                report.compacted_until.isoformat() if report.compacted_until else "-",
                report.ticks_folded,
                report.hourly_rows,
                thinned or "nothing",
            )
        return report

    async def run(self) -> None:
        """Until cancelled: a run now (after one poll), then one every ``every_s``."""
        every = timedelta(seconds=self.config.every_s)
        due = self.clock.now()
        while True:
            await asyncio.sleep(self.poll_s)
            if self.clock.now() < due:
                continue
            try:
                await self.run_once()
            except StoreError as exc:
                self.failures += 1
                log.warning("recorder retention failed, next try in %s: %s", every, exc)
            except Exception:
                # The job must never take the engine down; the traceback is for the log.
                self.failures += 1
                log.exception("recorder retention failed; next try in %s", every)
            due = self.clock.now() + every
