"""The fundamentals and day-ahead forecasts of the scripted dashboard afternoon.

Kept apart from :mod:`tests.stubs.scripted_client` (which appends them to its
script): a day of quarter-hourly load, wind and solar per market with a daily
shape and no randomness, a running fundamental strategy holding DE, and the
day-ahead model's forecast of tomorrow for DE, made at 10:00 today.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from engine.events import Event, Forecast, Fundamentals, OpenPosition, StrategyStatus
from gridtui.client.protocol import ForecasterInfo

LOAD_GW = {"DE": 58.0, "FR": 52.0, "NL": 13.0, "BE": 10.0, "AT": 8.0, "GB": 31.0}
WIND_GW = {"DE": 21.0, "FR": 9.0, "NL": 5.0, "BE": 2.5, "AT": 1.5, "GB": 12.0}
SOLAR_GW = {"DE": 14.0, "FR": 6.0, "NL": 4.0, "BE": 2.0, "AT": 1.2, "GB": 3.0}

INTRADAY_MODEL = "xgb-de-v1"
DAY_AHEAD_MODEL = "xgb-da-v1"
FORECASTERS = (
    ForecasterInfo(model_id=INTRADAY_MODEL, task="intraday", step_s=900, warmup_steps=1),
    ForecasterInfo(model_id=DAY_AHEAD_MODEL, task="dayahead", step_s=3600, warmup_steps=0),
)


def fundamentals_at(market: str, ts: datetime) -> Fundamentals:
    """A smooth day: load peaks in the evening, solar at noon, wind drifts."""
    hours = ts.hour + ts.minute / 60
    load = LOAD_GW.get(market, 20.0) * (1 + 0.12 * math.sin((hours - 11) / 24 * 2 * math.pi))
    solar = SOLAR_GW.get(market, 2.0) * max(0.0, math.sin((hours - 6) / 12 * math.pi))
    wind = WIND_GW.get(market, 3.0) * (0.8 + 0.2 * math.cos(hours / 9))
    return Fundamentals(
        ts=ts,
        market=market,
        load_mw=round(load * 1000, 1),
        wind_mw=round(wind * 1000, 1),
        solar_mw=round(solar * 1000, 1),
        source="mock",
    )


def fundamentals_script(now: datetime, markets: Sequence[str]) -> list[Event]:
    events: list[Event] = []
    for quarter in range(24 * 4, -1, -1):
        ts = now - timedelta(minutes=15 * quarter)
        events += [fundamentals_at(market, ts) for market in markets]
    if "DE" in markets:
        tomorrow = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        made_at = now.replace(hour=10, minute=0, second=0, microsecond=0)
        for hour in range(24):
            target = tomorrow + timedelta(hours=hour - 1)  # local midnight is 23:00 UTC
            value = round(88 + 20 * math.sin((hour - 8) / 24 * 2 * math.pi), 2)
            events.append(
                Forecast(
                    ts=made_at,
                    market="DE",
                    target_ts=target,
                    horizon_steps=hour + 14,
                    price_eur_mwh=value,
                    lower_eur_mwh=value - 9,
                    upper_eur_mwh=value + 11,
                    model_id=DAY_AHEAD_MODEL,
                )
            )
        delivery = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        events.append(
            StrategyStatus(
                ts=now,
                strategy="fundamental",
                state="running",
                pnl_eur=410.0,
                trades=6,
                last_action="sell DE 10.0 MWh @ 96.20",
                positions=(
                    OpenPosition(
                        market="DE",
                        product="intraday",
                        delivery_start=delivery,
                        delivery_minutes=60,
                        net_mwh=-10.0,
                    ),
                ),
            )
        )
    return events
