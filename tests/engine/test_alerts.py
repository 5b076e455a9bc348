"""Alert rules: each rule, severity, cooldown and deduplication, on an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.alerts.config import AlertConfig
from engine.alerts.engine import AlertEngine
from engine.events import (
    Alert,
    BatteryState,
    FeedHealth,
    Forecast,
    Fundamentals,
    OpportunityStatus,
    PriceKind,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)
from tests.stubs.builders import T0, tick


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def warm(engine: AlertEngine, market: str = "DE", count: int = 30) -> None:
    """A calm baseline around 50 ± 1 EUR/MWh."""
    for i in range(count):
        engine.on_events([tick(market, 50.0 + (i % 3 - 1), seconds=i)], at(i))


def opportunity(net: float, status=OpportunityStatus.OPENED, seconds: float = 0.0):
    return SpreadOpportunity(
        ts=at(seconds),
        buy_market="DE",
        sell_market="FR",
        buy_price_eur_mwh=40.0,
        sell_price_eur_mwh=40.0 + net + 1.0,
        spread_eur_mwh=net + 1.0,
        transmission_cost_eur_mwh=1.0,
        net_spread_eur_mwh=net,
        status=status,
        opened_at=at(seconds),
    )


def battery(soc: float, seconds: float = 0.0) -> BatteryState:
    return BatteryState(
        ts=at(seconds),
        battery_id="bess-1",
        market="NL",
        soc_mwh=2 * soc,
        soc_fraction=soc,
        power_mw=0.0,
        mode="idle",
    )


def rules(alerts: list[Alert]) -> list[tuple[str, Severity]]:
    return [(a.rule, a.severity) for a in alerts]


def test_price_spike_against_the_rolling_baseline() -> None:
    engine = AlertEngine(AlertConfig(spike_min_eur_mwh=20.0, spike_sigma=4.0))
    warm(engine)
    assert engine.on_events([tick("DE", 65.0, seconds=40)], at(40)) == []  # 15 off: not a spike
    [spike] = engine.on_events([tick("DE", 90.0, seconds=41)], at(41))
    assert (spike.rule, spike.severity, spike.key, spike.market) == (
        "price_spike",
        Severity.WARNING,
        "DE:intraday",
        "DE",
    )
    assert "above its baseline" in spike.message and spike.ts == at(41)
    # Escalation passes the cooldown; the same severity again does not.
    [worse] = engine.on_events([tick("DE", 200.0, seconds=42)], at(42))
    assert worse.severity is Severity.CRITICAL
    assert engine.on_events([tick("DE", 210.0, seconds=43)], at(43)) == []
    assert engine.stats.suppressed == 1
    # Another market has its own baseline; day-ahead prices never spike.
    assert engine.on_events([tick("FR", 500.0, seconds=44)], at(44)) == []
    assert engine.on_events([tick("DE", 900.0, seconds=45, kind=PriceKind.DAY_AHEAD)], at(45)) == []


def test_cooldown_ends() -> None:
    engine = AlertEngine(AlertConfig(cooldown_s=60.0))
    warm(engine)
    assert len(engine.on_events([tick("DE", 300.0, seconds=40)], at(40))) == 1
    warm(engine, count=30)  # calm again
    assert engine.on_events([tick("DE", 300.0, seconds=80)], at(80)) == []  # within 60 s
    warm(engine, count=30)
    assert len(engine.on_events([tick("DE", 300.0, seconds=101)], at(101))) == 1


def test_arbitrage_above_threshold_when_it_opens() -> None:
    engine = AlertEngine(AlertConfig(arbitrage_min_net_eur_mwh=20, arbitrage_warning_eur_mwh=60))
    assert engine.on_events([opportunity(10.0)], T0) == []
    [info] = engine.on_events([opportunity(25.0)], T0)
    assert (info.rule, info.severity, info.key) == ("arbitrage", Severity.INFO, "DE>FR")
    assert "Buy in DE" in info.message
    assert engine.on_events([opportunity(30.0, OpportunityStatus.UPDATED)], at(1)) == []
    [warning] = engine.on_events([opportunity(80.0)], at(2))  # escalates through the cooldown
    assert warning.severity is Severity.WARNING


def test_battery_low_and_full_alert_once_per_episode() -> None:
    engine = AlertEngine(
        AlertConfig(
            battery_low_fraction=0.12,
            battery_full_fraction=0.88,
            battery_rearm_fraction=0.05,
            cooldown_s=0.0,
        )
    )
    assert rules(engine.on_events([battery(0.10)], T0)) == [("battery_low", Severity.WARNING)]
    assert engine.on_events([battery(0.08, 1)], at(1)) == []  # still low: deduplicated
    assert engine.on_events([battery(0.15, 2)], at(2)) == []  # inside the hysteresis band
    assert engine.on_events([battery(0.11, 3)], at(3)) == []  # never left: still deduplicated
    assert engine.on_events([battery(0.50, 4)], at(4)) == []  # re-armed
    assert rules(engine.on_events([battery(0.10, 5)], at(5))) == [("battery_low", Severity.WARNING)]
    assert rules(engine.on_events([battery(0.95, 6)], at(6))) == [("battery_full", Severity.INFO)]


def test_strategy_error_is_critical_once() -> None:
    engine = AlertEngine()
    status = StrategyStatus(ts=T0, strategy="alpha", state="error", last_action="division by zero")
    [alert] = engine.on_events([status], T0)
    assert alert.severity is Severity.CRITICAL and "division by zero" in alert.message
    assert engine.on_events([status], at(1)) == []
    engine.on_events([StrategyStatus(ts=T0, strategy="alpha", state="running")], at(2))
    assert engine.on_events([status], at(400)) != []


def test_feed_stale_then_recovered_on_the_engine_clock() -> None:
    engine = AlertEngine(AlertConfig(feed_stale_after_s=120.0))
    engine.on_events([tick("DE", 50.0)], T0)
    assert engine.on_timer(at(119)) == []
    [stale] = engine.on_timer(at(121))
    assert (stale.rule, stale.severity) == ("feed_stale", Severity.WARNING)
    assert "121 s" in stale.message
    assert engine.on_timer(at(300)) == []  # deduplicated while stale
    [back] = engine.on_events(
        [Fundamentals(ts=at(301), market="DE", load_mw=1.0, wind_mw=1.0, solar_mw=0.0)], at(301)
    )
    assert (back.rule, back.severity) == ("feed_recovered", Severity.INFO)
    # A feed that never delivered is stale from the start.
    quiet = AlertEngine(AlertConfig(feed_stale_after_s=10.0))
    assert quiet.on_timer(T0) == []
    assert "no price at all" in quiet.on_timer(at(11))[0].message


def test_feed_down_and_degraded_from_health_events() -> None:
    engine = AlertEngine()
    down = FeedHealth(ts=T0, source="entsoe", state="down", message="HTTP 503")
    [alert] = engine.on_events([down], T0)
    assert (alert.rule, alert.severity, alert.key) == ("feed_down", Severity.CRITICAL, "entsoe")
    assert engine.on_events([down], at(1)) == []
    up = FeedHealth(ts=at(2), source="entsoe", state="up")
    assert rules(engine.on_events([up], at(2))) == [("feed_recovered", Severity.INFO)]
    degraded = FeedHealth(ts=at(3), source="entsoe", state="degraded")
    assert rules(engine.on_events([degraded], at(3))) == []  # down alerted <5 min ago, lower
    assert rules(engine.on_events([up], at(4))) == [("feed_recovered", Severity.INFO)]


def test_forecast_far_off_the_realised_price() -> None:
    engine = AlertEngine(AlertConfig(forecast_max_error_eur_mwh=40.0))
    target = at(900)
    intraday = Forecast(
        ts=T0,
        market="DE",
        target_ts=target,
        horizon_steps=1,
        price_eur_mwh=50.0,
        model_id="forecast-intraday-3",
    )
    close = Forecast(ts=T0, market="FR", target_ts=target, horizon_steps=1, price_eur_mwh=50.0)
    day_ahead = Forecast(
        ts=T0,
        market="NL",
        target_ts=target,
        horizon_steps=24,
        price_eur_mwh=80.0,
        model_id="forecast-dayahead-1",
    )
    assert engine.on_events([intraday, close, day_ahead], T0) == []
    assert engine.on_events([tick("DE", 200.0, seconds=899)], at(899)) == []  # not due yet
    [off] = engine.on_events(
        [tick("DE", 120.0, seconds=905), tick("FR", 60.0, seconds=905)], at(905)
    )
    assert (off.rule, off.key) == ("forecast_off", "DE:forecast-intraday-3")
    assert "off by €70.00" in off.message
    assert engine.on_events([tick("NL", 200.0, seconds=905)], at(905)) == []  # judged on DA
    [da] = engine.on_events([tick("NL", 10.0, seconds=900, kind=PriceKind.DAY_AHEAD)], at(906))
    assert da.key == "NL:forecast-dayahead-1"


def test_pending_forecasts_are_bounded() -> None:
    engine = AlertEngine(AlertConfig(max_pending_forecasts=3))
    engine.on_events(
        [
            Forecast(ts=T0, market="DE", target_ts=at(60 * i), horizon_steps=i, price_eur_mwh=1.0)
            for i in range(10)
        ],
        T0,
    )
    assert engine.state.pending_count == 3
    assert sorted(engine.state.pending["DE"]) == [at(420), at(480), at(540)]


def test_disabled_and_reconfigured() -> None:
    engine = AlertEngine(AlertConfig(enabled=False))
    assert engine.on_events([opportunity(500.0)], T0) == [] and engine.on_timer(at(1e6)) == []
    engine.reconfigure(AlertConfig(arbitrage_min_net_eur_mwh=1, arbitrage_warning_eur_mwh=1))
    assert len(engine.on_events([opportunity(5.0)], T0)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cooldown_s", -1.0),
        ("spike_window", 1),
        ("battery_low_fraction", 0.95),
        ("arbitrage_warning_eur_mwh", 1.0),
        ("spike_sigma", float("nan")),
    ],
)
def test_bad_config_is_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        AlertConfig(**{field: value})  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-500, max_value=4000), min_size=1, max_size=200))
def test_alerts_are_rate_bounded_by_the_cooldown(prices: list[float]) -> None:
    """Whatever the prices, one key never alerts twice at one severity within the cooldown."""
    engine = AlertEngine(AlertConfig(cooldown_s=3600.0, spike_min_samples=2))
    raised: list[Alert] = []
    for i, price in enumerate(prices):
        raised += engine.on_events([tick("DE", price, seconds=i)], at(i))
    per_severity = [a.severity for a in raised]
    assert len(per_severity) == len(set(per_severity))
    assert all(a.ts <= at(len(prices)) for a in raised)
