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
cooldown every alert passes through (:meth:`AlertEngine._emit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec

from engine.alerts.config import AlertConfig
from engine.alerts.forecast_checks import check_forecasts, expire_forecasts, hold_forecast
from engine.alerts.rules import (
    RollingBaseline,
    arbitrage,
    battery_bounds,
    feed_health,
    price_spike,
    strategy_error,
)
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

_RANK: Final = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
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


class AlertStats(msgspec.Struct, kw_only=True):
    raised: int = 0
    suppressed: int = 0  # quiet because of a cooldown
    by_rule: dict[str, int] = {}


class AlertEngine:
    """The alert rules as a kernel component (see the module docstring)."""

    name = "alerts"

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.config = config or AlertConfig()
        self.stats = AlertStats()
        self._baselines: dict[tuple[str, str], RollingBaseline] = {}
        self._last_alert: dict[tuple[str, str], tuple[datetime, Severity]] = {}
        self._active: set[tuple[str, str]] = set()
        self._last_feed_at: datetime | None = None
        self._first_seen_at: datetime | None = None
        self._feed_states: dict[str, str] = {}
        # market → target time → forecast; plus, per market, the earliest target
        # of an intraday forecast, so a tick looks at the forecasts only when one is due.
        self._pending: dict[str, dict[datetime, Forecast]] = {}
        self._pending_count = 0
        self._next_due: dict[str, datetime] = {}

    def reconfigure(self, config: AlertConfig) -> None:
        """Take new thresholds (the API's settings update); state is kept."""
        if config.spike_window != self.config.spike_window:
            self._baselines.clear()
        self.config = config

    # -- the Component protocol ------------------------------------------------------

    def on_events(self, events: Sequence[Event], now: datetime) -> list[Alert]:
        if self._first_seen_at is None:
            self._first_seen_at = now
        if not self.config.enabled:
            return []
        alerts: list[Alert] = []
        saw_feed = False
        for event in events:
            kind = type(event)
            if kind is PriceTick:
                assert isinstance(event, PriceTick)
                saw_feed = True
                if self._pending:
                    check_forecasts(self, event, now, alerts)
                price_spike(self, event, now, alerts)
            elif kind is Fundamentals:
                saw_feed = True
            elif kind is SpreadOpportunity:
                assert isinstance(event, SpreadOpportunity)
                arbitrage(self, event, now, alerts)
            elif kind is BatteryState:
                assert isinstance(event, BatteryState)
                battery_bounds(self, event, now, alerts)
            elif kind is StrategyStatus:
                assert isinstance(event, StrategyStatus)
                strategy_error(self, event, now, alerts)
            elif kind is FeedHealth:
                assert isinstance(event, FeedHealth)
                feed_health(self, event, now, alerts)
            elif kind is Forecast:
                assert isinstance(event, Forecast)
                hold_forecast(self, event)
        if saw_feed:
            self._last_feed_at = now
            if ("feed_stale", "feed") in self._active:
                self._active.discard(("feed_stale", "feed"))
                self._emit(
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
        if quiet_s >= self.config.feed_stale_after_s and key not in self._active:
            self._active.add(key)
            what = "no price since" if self._last_feed_at else "no price at all since the start,"
            self._emit(
                alerts,
                now,
                "feed_stale",
                "feed",
                Severity.WARNING,
                f"feed stale: {what} {since:%Y-%m-%d %H:%M:%S} UTC ({quiet_s:,.0f} s)",
            )
        expire_forecasts(self, now)
        return alerts

    # -- cooldown and emission -------------------------------------------------------

    def _emit(
        self,
        alerts: list[Alert],
        now: datetime,
        rule: str,
        key: str,
        severity: Severity,
        message: str,
        *,
        market: str | None = None,
        cooldown: bool = True,
    ) -> None:
        last = self._last_alert.get((rule, key))
        if cooldown and last is not None:
            last_at, last_severity = last
            quiet = (now - last_at).total_seconds() < self.config.cooldown_s
            if quiet and _RANK[severity] <= _RANK[last_severity]:
                self.stats.suppressed += 1
                return
        self._last_alert[(rule, key)] = (now, severity)
        self.stats.raised += 1
        self.stats.by_rule[rule] = self.stats.by_rule.get(rule, 0) + 1
        alerts.append(
            Alert(ts=now, rule=rule, severity=severity, message=message, key=key, market=market)
        )


__all__ = ["RULES", "AlertEngine", "AlertStats"]
