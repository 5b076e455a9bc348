"""Alert rules: turn what the engine sees into :class:`~engine.events.Alert` events.

:class:`AlertEngine` is a kernel component (``name = "alerts"``): the kernel
hands it every batch together with what the components before it derived
(spread opportunities, battery states, strategy statuses, forecasts), and
publishes the alerts it returns on the ``alerts`` topic, from where the
daemon's sinks (log, file, webhook, Redis stream, dashboards) take them.
Wire it last so it sees everything derived before it.

Rules (thresholds in :class:`~engine.alerts.config.AlertConfig`):

* ``price_spike`` — an intraday/imbalance price far from its rolling baseline
  (mean of the last ``spike_window`` ticks of that market and kind): at least
  ``spike_sigma`` standard deviations *and* ``spike_min_eur_mwh`` away;
  critical at twice that distance.
* ``arbitrage`` — a spread opportunity opens with a net spread of at least
  ``arbitrage_min_net_eur_mwh``; a warning from ``arbitrage_warning_eur_mwh``.
* ``battery_low`` / ``battery_full`` — state of charge at or beyond the bounds.
* ``strategy_error`` — a strategy reports state ``error``.
* ``feed_stale`` — no price or fundamentals for ``feed_stale_after_s`` on the
  engine's clock; ``feed_down`` — a feed reports itself ``down`` (critical) or
  ``degraded`` (warning); ``feed_recovered`` once data flows again.
* ``forecast_off`` — a realised price misses its forecast by more than
  ``forecast_max_error_eur_mwh``.

Noise control, per alert key (rule + market / pair / battery / strategy / feed):

* **deduplication** — a condition (battery low, feed stale, strategy error)
  alerts once when it starts and re-arms only when it has cleared;
* **cooldown** — a key that alerted is quiet for ``cooldown_s`` unless the
  severity rises.

Pure and clock-injected: the time is the ``now`` the kernel passes in (the
engine's clock, simulated in a backtest), never the wall clock.

Where things live: the thresholds in :mod:`engine.alerts.config`, the condition
rules in :mod:`engine.alerts.rules`, ``forecast_off`` and its pending forecasts
in :mod:`engine.alerts.forecast_checks`. This module keeps the component, the feed
staleness watch (``feed_stale``/``feed_recovered``) and the deduplication and
cooldown every alert passes through live in :mod:`engine.alerts.state`
(:meth:`~engine.alerts.state.AlertState.emit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from engine.alerts.config import AlertConfig
from engine.alerts.forecast_checks import check_forecasts, expire_forecasts, hold_forecast
from engine.alerts.rules import (
    arbitrage,
    battery_bounds,
    feed_health,
    price_spike,
    strategy_error,
)
from engine.alerts.state import AlertState, AlertStats
from engine.events import (
    Alert,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    Fundamentals,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)

RULES: Final = (
    "price_spike",
    "arbitrage",
    "battery_low",
    "battery_full",
    "strategy_error",
    "feed_stale",
    "feed_down",
    "feed_recovered",
    "forecast_off",
)


class AlertEngine:
    """The alert rules as a kernel component (see the module docstring)."""

    name = "alerts"

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.state = AlertState(config or AlertConfig())
        self._last_feed_at: datetime | None = None
        self._first_seen_at: datetime | None = None

    @property
    def config(self) -> AlertConfig:
        """The thresholds in force."""
        return self.state.config

    @property
    def stats(self) -> AlertStats:
        return self.state.stats

    def reconfigure(self, config: AlertConfig) -> None:
        """Take new thresholds (the API's settings update); state is kept."""
        if config.spike_window != self.state.config.spike_window:
            self.state.baselines.clear()
        self.state.config = config

    # -- the Component protocol ------------------------------------------------------

    def on_events(self, events: Sequence[Event], now: datetime) -> list[Alert]:
        if self._first_seen_at is None:
            self._first_seen_at = now
        if not self.config.enabled:
            return []
        alerts: list[Alert] = []
        state = self.state
        saw_feed = False
        for event in events:
            kind = type(event)
            if kind is PriceTick:
                assert isinstance(event, PriceTick)
                saw_feed = True
                if state.pending:
                    check_forecasts(state, event, now, alerts)
                price_spike(state, event, now, alerts)
            elif kind is Fundamentals:
                saw_feed = True
            elif kind is SpreadOpportunity:
                assert isinstance(event, SpreadOpportunity)
                arbitrage(state, event, now, alerts)
            elif kind is BatteryState:
                assert isinstance(event, BatteryState)
                battery_bounds(state, event, now, alerts)
            elif kind is StrategyStatus:
                assert isinstance(event, StrategyStatus)
                strategy_error(state, event, now, alerts)
            elif kind is FeedHealth:
                assert isinstance(event, FeedHealth)
                feed_health(state, event, now, alerts)
            elif kind is Forecast:
                assert isinstance(event, Forecast)
                hold_forecast(state, event)
        if saw_feed:
            self._last_feed_at = now
            if ("feed_stale", "feed") in self.state.active:
                self.state.active.discard(("feed_stale", "feed"))
                self.state.emit(
                    alerts,
                    now,
                    "feed_recovered",
                    "feed",
                    Severity.INFO,
                    "prices flow again after the feed went stale",
                    cooldown=False,
                )
        return alerts

    def on_timer(self, now: datetime) -> list[Alert]:
        if self._first_seen_at is None:
            self._first_seen_at = now
        if not self.config.enabled:
            return []
        alerts: list[Alert] = []
        since = self._last_feed_at or self._first_seen_at
        quiet_s = (now - since).total_seconds()
        key = ("feed_stale", "feed")
        if quiet_s >= self.config.feed_stale_after_s and key not in self.state.active:
            self.state.active.add(key)
            what = "no price since" if self._last_feed_at else "no price at all since the start,"
            self.state.emit(
                alerts,
                now,
                "feed_stale",
                "feed",
                Severity.WARNING,
                f"feed stale: {what} {since:%Y-%m-%d %H:%M:%S} UTC ({quiet_s:,.0f} s)",
            )
        expire_forecasts(self.state, now)
        return alerts


__all__ = ["RULES", "AlertEngine", "AlertStats"]
