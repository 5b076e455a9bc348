"""The condition rules of :class:`~engine.alerts.engine.AlertEngine`: one function a rule.

``price_spike`` (against a :class:`RollingBaseline`), ``arbitrage``,
``battery_low``/``battery_full``, ``strategy_error`` and ``feed_down``/
``feed_recovered`` from feed health; what each looks for is in the
:mod:`engine.alerts.engine` docstring, its thresholds in
:class:`~engine.alerts.config.AlertConfig`. They are the engine's own rules, kept
apart: they read its config, keep their state on it (baselines, the active
conditions, the feeds' last states) and raise through its cooldown
(``AlertEngine._emit``).
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING

from engine.events import (
    AUCTION_KINDS,
    Alert,
    BatteryState,
    FeedHealth,
    OpportunityStatus,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)

if TYPE_CHECKING:
    from engine.alerts.engine import AlertEngine


class RollingBaseline:
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


def price_spike(engine: AlertEngine, tick: PriceTick, now: datetime, alerts: list[Alert]) -> None:
    """``price_spike``: an intraday/imbalance price far from its rolling baseline."""
    if tick.kind in AUCTION_KINDS:  # auction results price delivery, not a moving market
        return
    config = engine.config
    series = (tick.market, tick.kind.value)
    baseline = engine._baselines.get(series)
    if baseline is None:
        baseline = engine._baselines[series] = RollingBaseline(config.spike_window)
    price = tick.price_eur_mwh
    if len(baseline.values) >= config.spike_min_samples:
        mean, std = baseline.mean_std()
        deviation = price - mean
        threshold = max(config.spike_min_eur_mwh, config.spike_sigma * std)
        if abs(deviation) >= threshold:
            severity = Severity.CRITICAL if abs(deviation) >= 2 * threshold else Severity.WARNING
            direction = "above" if deviation > 0 else "below"
            engine._emit(
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


def arbitrage(
    engine: AlertEngine, opportunity: SpreadOpportunity, now: datetime, alerts: list[Alert]
) -> None:
    """``arbitrage``: a spread opportunity opens with a net spread worth a look."""
    if opportunity.status is not OpportunityStatus.OPENED:
        return
    net = opportunity.net_spread_eur_mwh
    if net < engine.config.arbitrage_min_net_eur_mwh:
        return
    severity = Severity.WARNING if net >= engine.config.arbitrage_warning_eur_mwh else Severity.INFO
    engine._emit(
        alerts,
        now,
        "arbitrage",
        f"{opportunity.buy_market}>{opportunity.sell_market}",
        severity,
        f"arbitrage: {opportunity.describe()}",
        market=opportunity.sell_market,
    )


def battery_bounds(
    engine: AlertEngine, state: BatteryState, now: datetime, alerts: list[Alert]
) -> None:
    """``battery_low``/``battery_full``: state of charge at or beyond a bound, once a time."""
    config = engine.config
    soc = state.soc_fraction
    low, full = ("battery_low", state.battery_id), ("battery_full", state.battery_id)
    if soc <= config.battery_low_fraction:
        if low not in engine._active:
            engine._active.add(low)
            engine._emit(
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
        engine._active.discard(low)
    if soc >= config.battery_full_fraction:
        if full not in engine._active:
            engine._active.add(full)
            engine._emit(
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
        engine._active.discard(full)


def strategy_error(
    engine: AlertEngine, status: StrategyStatus, now: datetime, alerts: list[Alert]
) -> None:
    """``strategy_error``: a strategy reports state ``error``, once until it clears."""
    key = ("strategy_error", status.strategy)
    if status.state != "error":
        engine._active.discard(key)
        return
    if key in engine._active:
        return
    engine._active.add(key)
    detail = f": {status.last_action}" if status.last_action else ""
    engine._emit(
        alerts,
        now,
        "strategy_error",
        status.strategy,
        Severity.CRITICAL,
        f"strategy {status.strategy} failed{detail}",
    )


def feed_health(
    engine: AlertEngine, health: FeedHealth, now: datetime, alerts: list[Alert]
) -> None:
    """``feed_down``/``feed_recovered``: a feed reports a change of its own state."""
    previous = engine._feed_states.get(health.source, "up")
    engine._feed_states[health.source] = health.state
    if health.state == previous:
        return
    detail = f": {health.message}" if health.message else ""
    if health.state in ("down", "degraded"):
        severity = Severity.CRITICAL if health.state == "down" else Severity.WARNING
        engine._emit(
            alerts,
            now,
            "feed_down",
            health.source,
            severity,
            f"feed {health.source} is {health.state}{detail}",
        )
    elif health.state == "up" and previous in ("down", "degraded"):
        engine._emit(
            alerts,
            now,
            "feed_recovered",
            health.source,
            Severity.INFO,
            f"feed {health.source} is up again{detail}",
            cooldown=False,
        )


__all__ = [
    "RollingBaseline",
    "arbitrage",
    "battery_bounds",
    "feed_health",
    "price_spike",
    "strategy_error",
]
