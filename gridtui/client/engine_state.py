"""The engine's current state as events, for a dashboard that starts after the engine.

A dashboard folds events; one that attaches to a running engine (``gridtui
--connect``) or opens an existing store would otherwise start blank and fill
only as new events arrive ("No alerts" while the daemon holds eight). The
clients hand it this state first, as the same events the engine publishes:

* :func:`stored_backtest_events` — a stored run as the progress events a live
  run would have sent (running at the window's start, then its final state at
  its end), so the pane shows its simulated span and, from the record, its
  wall time;
* :func:`daemon_state` — what a daemon's REST API says now: recent alerts,
  battery states, latest prices, strategies, backtests and forecasts. Given
  the client's GET (a callable), it needs nothing else of the client.

Each part that fails (a daemon without strategies answers 503) is left out
and logged; the rest still comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from engine.events import (
    Alert,
    BacktestProgress,
    BatteryState,
    Event,
    Forecast,
    PriceKind,
    PriceTick,
    StrategyStatus,
)
from engine.store.base import BacktestRecord

log = logging.getLogger(__name__)

Get = Callable[[str, dict[str, str] | None], Awaitable[bytes]]
RECENT_ALERTS = 100
RECENT_BACKTESTS = 20


def stored_backtest_events(record: BacktestRecord) -> list[BacktestProgress]:
    """A stored run as the progress a live run sends (see the module docstring)."""
    try:
        start = datetime.fromisoformat(str(record.config["from"]))
        end = datetime.fromisoformat(str(record.config["to"]))
    except (KeyError, ValueError):
        start = end = record.created_at
    wall_s = record.config.get("wall_s")
    done = record.state != "running"
    common: dict[str, Any] = {"run_id": record.run_id, "events_done": 0, "events_total": 0}
    return [
        BacktestProgress(ts=start, state="running", percent=0.0, **common),
        BacktestProgress(
            ts=end,
            state=record.state,
            percent=100.0 if done else 0.0,
            eta_s=0.0 if done else None,
            wall_s=float(wall_s) if isinstance(wall_s, int | float) else None,
            **common,
        ),
    ]


class _Alerts(msgspec.Struct):
    alerts: list[Alert]


class _Batteries(msgspec.Struct):
    batteries: list[BatteryState]


class _Prices(msgspec.Struct):
    prices: list[PriceTick]


class _Strategies(msgspec.Struct):
    strategies: list[StrategyStatus]


class _Run(msgspec.Struct):
    run_id: str


class _History(msgspec.Struct):
    runs: list[_Run]


class _Forecasts(msgspec.Struct):
    forecasts: list[Forecast]


async def daemon_state(get: Get, markets: Sequence[str]) -> list[Event]:
    """What the daemon behind ``get`` holds now, as events, oldest first."""

    async def part(path: str, params: dict[str, str] | None, kind: type[Any]) -> Any:
        try:
            return msgspec.json.decode(await get(path, params), type=kind)
        except (ConnectionError, RuntimeError, KeyError, ValueError, msgspec.DecodeError) as exc:
            # NotAvailable is a RuntimeError: a daemon without that part says so.
            log.info("no %s from the daemon: %s", path, exc)
            return None

    async def backtests() -> list[Event]:
        history = await part("/api/v1/backtest/history", {"limit": str(RECENT_BACKTESTS)}, _History)
        if history is None:
            return []
        records = await asyncio.gather(
            *(
                part(f"/api/v1/backtest/results/{run.run_id}", None, BacktestRecord)
                for run in history.runs
            )
        )
        return [
            e for record in records if record is not None for e in stored_backtest_events(record)
        ]

    alerts, batteries, intraday, day_ahead, strategies, runs, *forecasts = await asyncio.gather(
        part("/api/v1/alerts", {"limit": str(RECENT_ALERTS)}, _Alerts),
        part("/api/v1/dashboard/battery", None, _Batteries),
        part("/api/v1/dashboard/prices", {"kind": PriceKind.INTRADAY.value}, _Prices),
        part("/api/v1/dashboard/prices", {"kind": PriceKind.DAY_AHEAD.value}, _Prices),
        part("/api/v1/trading/strategies", None, _Strategies),
        backtests(),
        *(part("/api/v1/models/predict", {"market": m}, _Forecasts) for m in markets),
    )
    events: list[Event] = []
    events += alerts.alerts if alerts else []
    events += batteries.batteries if batteries else []
    events += [*(intraday.prices if intraday else []), *(day_ahead.prices if day_ahead else [])]
    events += strategies.strategies if strategies else []
    events += [f for found in forecasts if found for f in found.forecasts]
    # Oldest first, as the engine published them; a backtest's two events keep their order.
    state: list[Event] = sorted(events, key=lambda event: event.ts)
    state += runs
    return state
