"""Alert rules: turn what the engine sees into :class:`~engine.events.Alert` events.

:class:`AlertEngine` is a kernel component (``name = "alerts"``): the kernel
hands it every batch together with what the components before it derived
(spread opportunities, battery states, strategy statuses, forecasts), and
publishes the alerts it returns on the ``alerts`` topic, from where the
daemon's sinks (log, file, webhook, Redis stream, dashboards) take them.
Wire it last so it sees everything derived before it.

Rules (thresholds in :class:`AlertConfig`):

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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

import msgspec

from engine.events import (
    Alert,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    Fundamentals,
    OpportunityStatus,
    PriceKind,
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


class AlertConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Thresholds of the alert rules (the ``[alerts]`` settings section extends it).

    Attributes:
        enabled: rules run at all.
        cooldown_s: a key that alerted stays quiet this long unless its severity rises.
        spike_window: ticks per market and kind in the rolling baseline.
        spike_min_samples: no spike alert before the baseline has this many ticks.
        spike_sigma: standard deviations from the baseline that make a spike.
        spike_min_eur_mwh: and at least this far (a flat market has a tiny σ).
        arbitrage_min_net_eur_mwh: an opening opportunity at least this good alerts (info).
        arbitrage_warning_eur_mwh: from this net spread on, it is a warning.
        battery_low_fraction / battery_full_fraction: state-of-charge bounds.
        battery_rearm_fraction: how far back inside the bounds re-arms the alert.
        feed_stale_after_s: engine-clock seconds without prices before ``feed_stale``.
        forecast_max_error_eur_mwh: realised price vs forecast beyond this alerts.
        max_pending_forecasts: forecasts waiting for their realised price (oldest dropped).
    """

    enabled: bool = True
    cooldown_s: float = 300.0
    spike_window: int = 60
    spike_min_samples: int = 20
    spike_sigma: float = 4.0
    spike_min_eur_mwh: float = 30.0
    arbitrage_min_net_eur_mwh: float = 20.0
    arbitrage_warning_eur_mwh: float = 60.0
    battery_low_fraction: float = 0.12
    battery_full_fraction: float = 0.88
    battery_rearm_fraction: float = 0.05
    feed_stale_after_s: float = 120.0
    forecast_max_error_eur_mwh: float = 40.0
    max_pending_forecasts: int = 10_000

    def __post_init__(self) -> None:
        for name in (
            "cooldown_s",
            "spike_sigma",
            "spike_min_eur_mwh",
            "feed_stale_after_s",
            "forecast_max_error_eur_mwh",
            "battery_rearm_fraction",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"alerts.{name} must be a finite number >= 0, got {value}")
        if self.spike_window < 2 or not 2 <= self.spike_min_samples <= self.spike_window:
            raise ValueError(
                "alerts.spike_window must be >= 2 and spike_min_samples within 2..spike_window"
            )
        if not 0 <= self.battery_low_fraction < self.battery_full_fraction <= 1:
            raise ValueError(
                "alerts.battery_low_fraction must be below battery_full_fraction, both in 0..1"
            )
        if self.arbitrage_warning_eur_mwh < self.arbitrage_min_net_eur_mwh:
            raise ValueError(
                "alerts.arbitrage_warning_eur_mwh must be >= arbitrage_min_net_eur_mwh"
            )
        if self.max_pending_forecasts < 1:
            raise ValueError("alerts.max_pending_forecasts must be >= 1")


class AlertStats(msgspec.Struct, kw_only=True):
    raised: int = 0
    suppressed: int = 0  # quiet because of a cooldown
    by_rule: dict[str, int] = {}


class _Baseline:
    """Rolling mean and standard deviation of the last ``size`` prices, O(1) a tick."""

    __slots__ = ("_sum", "_sum_sq", "values")

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self._sum = 0.0
        self._sum_sq = 0.0

    def add(self, value: float) -> None:
        values = self.values
        if len(values) == values.maxlen:
            old = values[0]
            self._sum -= old
            self._sum_sq -= old * old
        values.append(value)
        self._sum += value
        self._sum_sq += value * value

    def mean_std(self) -> tuple[float, float]:
        count = len(self.values)
        mean = self._sum / count
        variance = max(self._sum_sq / count - mean * mean, 0.0)
        return mean, math.sqrt(variance)


class AlertEngine:
    """The alert rules as a kernel component (see the module docstring)."""

    name = "alerts"

    def __init__(self, config: AlertConfig | None = None) -> None:
        self.config = config or AlertConfig()
        self.stats = AlertStats()
        self._baselines: dict[tuple[str, str], _Baseline] = {}
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
                self._on_price(event, now, alerts)
            elif kind is Fundamentals:
                saw_feed = True
            elif kind is SpreadOpportunity:
                assert isinstance(event, SpreadOpportunity)
                self._on_opportunity(event, now, alerts)
            elif kind is BatteryState:
                assert isinstance(event, BatteryState)
                self._on_battery(event, now, alerts)
            elif kind is StrategyStatus:
                assert isinstance(event, StrategyStatus)
                self._on_strategy(event, now, alerts)
            elif kind is FeedHealth:
                assert isinstance(event, FeedHealth)
                self._on_feed_health(event, now, alerts)
            elif kind is Forecast:
                assert isinstance(event, Forecast)
                self._on_forecast(event)
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
        self._expire_forecasts(now)
        return alerts

    # -- rules -----------------------------------------------------------------------

    def _on_price(self, tick: PriceTick, now: datetime, alerts: list[Alert]) -> None:
        if self._pending:
            self._check_forecasts(tick, now, alerts)
        if tick.kind is PriceKind.DAY_AHEAD:
            return
        config = self.config
        series = (tick.market, tick.kind.value)
        baseline = self._baselines.get(series)
        if baseline is None:
            baseline = self._baselines[series] = _Baseline(config.spike_window)
        price = tick.price_eur_mwh
        if len(baseline.values) >= config.spike_min_samples:
            mean, std = baseline.mean_std()
            deviation = price - mean
            threshold = max(config.spike_min_eur_mwh, config.spike_sigma * std)
            if abs(deviation) >= threshold:
                severity = (
                    Severity.CRITICAL if abs(deviation) >= 2 * threshold else Severity.WARNING
                )
                direction = "above" if deviation > 0 else "below"
                self._emit(
                    alerts,
                    now,
                    "price_spike",
                    f"{tick.market}:{tick.kind.value}",
                    severity,
                    f"{tick.market} {tick.kind.value} price €{price:,.2f}/MWh is "
                    f"€{abs(deviation):,.2f} {direction} its baseline €{mean:,.2f} "
                    f"(threshold €{threshold:,.2f})",
                    market=tick.market,
                )
        baseline.add(price)

    def _on_opportunity(
        self, opportunity: SpreadOpportunity, now: datetime, alerts: list[Alert]
    ) -> None:
        if opportunity.status is not OpportunityStatus.OPENED:
            return
        net = opportunity.net_spread_eur_mwh
        if net < self.config.arbitrage_min_net_eur_mwh:
            return
        severity = (
            Severity.WARNING if net >= self.config.arbitrage_warning_eur_mwh else Severity.INFO
        )
        self._emit(
            alerts,
            now,
            "arbitrage",
            f"{opportunity.buy_market}>{opportunity.sell_market}",
            severity,
            f"arbitrage: {opportunity.describe()}",
            market=opportunity.sell_market,
        )

    def _on_battery(self, state: BatteryState, now: datetime, alerts: list[Alert]) -> None:
        config = self.config
        soc = state.soc_fraction
        low, full = ("battery_low", state.battery_id), ("battery_full", state.battery_id)
        if soc <= config.battery_low_fraction:
            if low not in self._active:
                self._active.add(low)
                self._emit(
                    alerts,
                    now,
                    "battery_low",
                    state.battery_id,
                    Severity.WARNING,
                    f"battery {state.battery_id} ({state.market}) low: "
                    f"{soc:.0%} charged ({state.soc_mwh:,.2f} MWh)",
                    market=state.market,
                )
        elif soc >= config.battery_low_fraction + config.battery_rearm_fraction:
            self._active.discard(low)
        if soc >= config.battery_full_fraction:
            if full not in self._active:
                self._active.add(full)
                self._emit(
                    alerts,
                    now,
                    "battery_full",
                    state.battery_id,
                    Severity.INFO,
                    f"battery {state.battery_id} ({state.market}) full: "
                    f"{soc:.0%} charged ({state.soc_mwh:,.2f} MWh)",
                    market=state.market,
                )
        elif soc <= config.battery_full_fraction - config.battery_rearm_fraction:
            self._active.discard(full)

    def _on_strategy(self, status: StrategyStatus, now: datetime, alerts: list[Alert]) -> None:
        key = ("strategy_error", status.strategy)
        if status.state != "error":
            self._active.discard(key)
            return
        if key in self._active:
            return
        self._active.add(key)
        detail = f": {status.last_action}" if status.last_action else ""
        self._emit(
            alerts,
            now,
            "strategy_error",
            status.strategy,
            Severity.CRITICAL,
            f"strategy {status.strategy} failed{detail}",
        )

    def _on_feed_health(self, health: FeedHealth, now: datetime, alerts: list[Alert]) -> None:
        previous = self._feed_states.get(health.source, "up")
        self._feed_states[health.source] = health.state
        if health.state == previous:
            return
        detail = f": {health.message}" if health.message else ""
        if health.state in ("down", "degraded"):
            severity = Severity.CRITICAL if health.state == "down" else Severity.WARNING
            self._emit(
                alerts,
                now,
                "feed_down",
                health.source,
                severity,
                f"feed {health.source} is {health.state}{detail}",
            )
        elif health.state == "up" and previous in ("down", "degraded"):
            self._emit(
                alerts,
                now,
                "feed_recovered",
                health.source,
                Severity.INFO,
                f"feed {health.source} is up again{detail}",
                cooldown=False,
            )

    def _on_forecast(self, forecast: Forecast) -> None:
        by_target = self._pending.setdefault(forecast.market, {})
        if forecast.target_ts not in by_target:
            self._pending_count += 1
        by_target[forecast.target_ts] = forecast
        if not _is_day_ahead(forecast):
            due = self._next_due.get(forecast.market)
            if due is None or forecast.target_ts < due:
                self._next_due[forecast.market] = forecast.target_ts
        if self._pending_count > self.config.max_pending_forecasts:
            self._drop_oldest_forecast()

    def _drop_oldest_forecast(self) -> None:
        market, target = min(
            ((m, min(targets)) for m, targets in self._pending.items() if targets),
            key=lambda item: item[1],
        )
        self._remove_forecast(market, target)

    def _remove_forecast(self, market: str, target: datetime) -> None:
        by_target = self._pending[market]
        del by_target[target]
        self._pending_count -= 1
        intraday = [t for t, f in by_target.items() if not _is_day_ahead(f)]
        if intraday:
            self._next_due[market] = min(intraday)
        else:
            self._next_due.pop(market, None)
        if not by_target:
            del self._pending[market]

    def _check_forecasts(self, tick: PriceTick, now: datetime, alerts: list[Alert]) -> None:
        """Compare forecasts with the price that realised them.

        A day-ahead model (its id names ``dayahead``/``day_ahead``) is judged on
        the day-ahead price of its target period; any other on the first
        intraday tick at or after its target time.
        """
        by_target = self._pending.get(tick.market)
        if not by_target:
            return
        if tick.kind is PriceKind.DAY_AHEAD:
            forecast = by_target.get(tick.ts)
            due = [forecast] if forecast is not None and _is_day_ahead(forecast) else []
        elif tick.kind is PriceKind.INTRADAY:
            next_due = self._next_due.get(tick.market)
            if next_due is None or tick.ts < next_due:
                return
            due = [f for t, f in by_target.items() if t <= tick.ts and not _is_day_ahead(f)]
        else:
            return
        for forecast in due:
            self._remove_forecast(forecast.market, forecast.target_ts)
            error = tick.price_eur_mwh - forecast.price_eur_mwh
            if abs(error) <= self.config.forecast_max_error_eur_mwh:
                continue
            model = forecast.model_id or "forecast"
            self._emit(
                alerts,
                now,
                "forecast_off",
                f"{tick.market}:{model}",
                Severity.WARNING,
                f"{model} forecast €{forecast.price_eur_mwh:,.2f}/MWh for {tick.market} at "
                f"{forecast.target_ts:%Y-%m-%d %H:%M} UTC; realised €{tick.price_eur_mwh:,.2f} "
                f"(off by €{abs(error):,.2f})",
                market=tick.market,
            )

    def _expire_forecasts(self, now: datetime) -> None:
        horizon = now - timedelta(days=2)
        stale = [
            (market, target)
            for market, targets in self._pending.items()
            for target in targets
            if target < horizon
        ]
        for market, target in stale:
            self._remove_forecast(market, target)

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


def _is_day_ahead(forecast: Forecast) -> bool:
    model = forecast.model_id.lower()
    return "dayahead" in model or "day_ahead" in model or "day-ahead" in model
