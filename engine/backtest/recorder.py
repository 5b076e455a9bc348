"""The backtest recorder: the kernel component that keeps a run's output and reports progress.

:class:`BacktestRecorder` runs last in a backtest's runtime: it keeps the
trades, battery states and traded prices the report needs, and emits
:class:`~engine.events.BacktestProgress` (percent of the time window done, ETA
from the real time spent so far) on the bus and to ``on_progress``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from datetime import datetime

from engine.backtest.config import BacktestConfig
from engine.clock import Clock
from engine.events import BacktestProgress, BatteryState, Event, PriceTick, Trade

log = logging.getLogger(__name__)

ProgressCallback = Callable[[BacktestProgress], None]


class BacktestRecorder:
    """The last component of a backtest: keeps what the report needs, reports progress."""

    name = "backtest-recorder"

    def __init__(
        self,
        config: BacktestConfig,
        clock: Clock,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.on_progress = on_progress
        self.trades: list[Trade] = []
        self.battery_states: list[BatteryState] = []
        self.prices: dict[str, list[tuple[datetime, float]]] = {}
        self.events_seen = 0
        self.started_s = clock.monotonic()
        self._last_progress_s = -math.inf
        self._span_s = (config.end - config.start).total_seconds()
        self._kind = config.price_kind

    def take(self, events: Sequence[Event]) -> None:
        """Keep the trades and battery states of events produced outside the kernel loop."""
        for event in events:
            if type(event) is Trade:
                self.trades.append(event)
            elif type(event) is BatteryState:
                self.battery_states.append(event)

    def on_events(self, events: Sequence[Event], now: datetime) -> list[Event]:
        self.events_seen += len(events)
        prices = self.prices
        kind = self._kind
        trades = self.trades
        states = self.battery_states
        for event in events:
            event_type = type(event)
            if event_type is PriceTick:
                if event.kind is kind:  # type: ignore[attr-defined]
                    series = prices.get(event.market)  # type: ignore[attr-defined]
                    if series is None:
                        series = prices[event.market] = []  # type: ignore[attr-defined]
                    series.append((event.ts, event.price_eur_mwh))  # type: ignore[attr-defined]
            elif event_type is Trade:
                trades.append(event)  # type: ignore[arg-type]
            elif event_type is BatteryState:
                states.append(event)  # type: ignore[arg-type]
        if self.clock.monotonic() - self._last_progress_s >= self.config.progress_interval_s:
            return [self.progress(now)]
        return []

    def on_timer(self, now: datetime) -> list[Event]:
        return []

    def fraction(self, now: datetime) -> float:
        done = (now - self.config.start).total_seconds()
        return min(max(done / self._span_s, 0.0), 1.0) if self._span_s > 0 else 1.0

    def progress(self, now: datetime, state: str = "running") -> BacktestProgress:
        """A progress event for ``now``; also handed to ``on_progress``."""
        elapsed_s = self.clock.monotonic() - self.started_s
        self._last_progress_s = self.clock.monotonic()
        fraction = 1.0 if state == "finished" else self.fraction(now)
        eta_s = elapsed_s * (1 - fraction) / fraction if 0 < fraction < 1 else None
        total = round(self.events_seen / fraction) if fraction > 0 else 0
        event = BacktestProgress(
            ts=now,
            run_id=self.config.run_id,
            state=state,
            percent=100.0 * fraction,
            events_done=self.events_seen,
            events_total=max(total, self.events_seen),
            eta_s=0.0 if state == "finished" else eta_s,
            wall_s=elapsed_s,
        )
        if self.on_progress is not None:
            try:
                self.on_progress(event)
            except Exception:
                log.exception("backtest %s: the progress callback failed", self.config.run_id)
        return event


__all__ = ["BacktestRecorder", "ProgressCallback"]
