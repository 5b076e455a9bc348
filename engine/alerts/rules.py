"""The condition rules of :class:`~engine.alerts.engine.AlertEngine`: one function a rule.

``price_spike`` (against a :class:`RollingBaseline`), ``arbitrage``,
``battery_low``/``battery_full``, ``strategy_error`` and ``feed_down``/
``feed_recovered`` from feed health; what each looks for is in the
:mod:`engine.alerts.engine` docstring, its thresholds in
:class:`~engine.alerts.config.AlertConfig`. They are the engine's own rules, kept
apart: they read its config, keep their state on it (baselines, the active
conditions, the feeds' last states) and raise through its cooldown
(:meth:`AlertState.emit <engine.alerts.state.AlertState.emit>`).
"""

from __future__ import annotations

from datetime import datetime

from engine.alerts.state import AlertState, RollingBaseline
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


def price_spike(state: AlertState, tick: PriceTick, now: datetime, alerts: list[Alert]) -> None:
    """``price_spike``: an intraday/imbalance price far from its rolling baseline."""
    if tick.kind in AUCTION_KINDS:  # auction results price delivery, not a moving market
        return
    config = state.config
    series = (tick.market, tick.kind.value)
    baseline = state.baselines.get(series)
    if baseline is None:
        baseline = state.baselines[series] = RollingBaseline(config.spike_window)
    price = tick.price_eur_mwh
    if len(baseline.values) >= config.spike_min_samples:
        mean, std = baseline.mean_std()
        deviation = price - mean
        threshold = max(config.spike_min_eur_mwh, config.spike_sigma * std)
        if abs(deviation) >= threshold:
            severity = Severity.CRITICAL if abs(deviation) >= 2 * threshold else Severity.WARNING
            direction = "above" if deviation > 0 else "below"
            state.emit(
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
    state: AlertState, opportunity: SpreadOpportunity, now: datetime, alerts: list[Alert]
) -> None:
    """``arbitrage``: a spread opportunity opens with a net spread worth a look."""
    if opportunity.status is not OpportunityStatus.OPENED:
        return
    net = opportunity.net_spread_eur_mwh
    if net < state.config.arbitrage_min_net_eur_mwh:
        return
    severity = Severity.WARNING if net >= state.config.arbitrage_warning_eur_mwh else Severity.INFO
    state.emit(
        alerts,
        now,
        "arbitrage",
        f"{opportunity.buy_market}>{opportunity.sell_market}",
        severity,
        f"arbitrage: {opportunity.describe()}",
        market=opportunity.sell_market,
    )


def battery_bounds(
    state: AlertState, battery: BatteryState, now: datetime, alerts: list[Alert]
) -> None:
    """``battery_low``/``battery_full``: state of charge at or beyond a bound, once a time."""
    config = state.config
    soc = battery.soc_fraction
    low, full = ("battery_low", battery.battery_id), ("battery_full", battery.battery_id)
    if soc <= config.battery_low_fraction:
        if low not in state.active:
            state.active.add(low)
            state.emit(
                alerts,
                now,
                "battery_low",
                battery.battery_id,
                Severity.WARNING,
                f"battery {battery.battery_id} ({battery.market}) low: "
                f"{soc:.0%} charged ({battery.soc_mwh:,.2f} MWh)",
                market=battery.market,
            )
    elif soc >= config.battery_low_fraction + config.battery_rearm_fraction:
        state.active.discard(low)
    if soc >= config.battery_full_fraction:
        if full not in state.active:
            state.active.add(full)
            state.emit(
                alerts,
                now,
                "battery_full",
                battery.battery_id,
                Severity.INFO,
                f"battery {battery.battery_id} ({battery.market}) full: "
                f"{soc:.0%} charged ({battery.soc_mwh:,.2f} MWh)",
                market=battery.market,
            )
    elif soc <= config.battery_full_fraction - config.battery_rearm_fraction:
        state.active.discard(full)


def strategy_error(
    state: AlertState, status: StrategyStatus, now: datetime, alerts: list[Alert]
) -> None:
    """``strategy_error``: a strategy reports state ``error``, once until it clears."""
    key = ("strategy_error", status.strategy)
    if status.state != "error":
        state.active.discard(key)
        return
    if key in state.active:
        return
    state.active.add(key)
    detail = f": {status.last_action}" if status.last_action else ""
    state.emit(
        alerts,
        now,
        "strategy_error",
        status.strategy,
        Severity.CRITICAL,
        f"strategy {status.strategy} failed{detail}",
    )


def feed_health(state: AlertState, health: FeedHealth, now: datetime, alerts: list[Alert]) -> None:
    """``feed_down``/``feed_recovered``: a feed reports a change of its own state."""
    previous = state.feed_states.get(health.source, "up")
    state.feed_states[health.source] = health.state
    if health.state == previous:
        return
    detail = f": {health.message}" if health.message else ""
    if health.state in ("down", "degraded"):
        severity = Severity.CRITICAL if health.state == "down" else Severity.WARNING
        state.emit(
            alerts,
            now,
            "feed_down",
            health.source,
            severity,
            f"feed {health.source} is {health.state}{detail}",
        )
    elif health.state == "up" and previous in ("down", "degraded"):
        state.emit(
            alerts,
            now,
            "feed_recovered",
            health.source,
            Severity.INFO,
            f"feed {health.source} is up again{detail}",
            cooldown=False,
        )


__all__ = [
    "arbitrage",
    "battery_bounds",
    "feed_health",
    "price_spike",
    "strategy_error",
]
