"""Backtest results: what a run produced, its metrics, and the record the store keeps.

:func:`collect_result` turns a finished run's
:class:`~engine.strategy_manager.StrategyManager` and
:class:`~engine.backtest_recorder.BacktestRecorder` into a
:class:`BacktestResult`: trades, equity curves, metrics (with the battery's
percentage of perfect foresight) and the :class:`~engine.store.base.BacktestRecord`
to save, its equity curve thinned to at most ``MAX_STORED_EQUITY_POINTS``.

The battery's percentage of perfect foresight compares its revenue with
:func:`engine.optimum.solve_schedule` on the very prices it traded (gaps filled
as :class:`engine.price_series.PriceSeries` fills them), without fees or slippage.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec

from engine.backtest_config import BacktestConfig
from engine.backtest_recorder import BacktestRecorder
from engine.events import BatteryState, Trade
from engine.metrics import BacktestMetrics, compute_metrics
from engine.store.base import BacktestRecord
from engine.strategies.base import Strategy
from engine.strategies.battery import BatteryStrategy
from engine.strategy_manager import StrategyManager

log = logging.getLogger(__name__)

MAX_STORED_EQUITY_POINTS: Final = 20_000


class BacktestResult(msgspec.Struct, kw_only=True):
    """Everything a run produced: what is stored, and what a report draws."""

    record: BacktestRecord
    metrics: BacktestMetrics
    trades: list[Trade]
    equity_curve: list[tuple[datetime, float]]
    strategy_equity: dict[str, list[float]]
    battery_states: list[BatteryState]
    prices: dict[str, list[tuple[datetime, float]]]
    descriptions: dict[str, str]
    skipped: dict[str, str]
    events_in: int
    events_derived: int
    engine_s: float
    total_s: float

    def __repr__(self) -> str:
        # Short on purpose: Python 3.11's asyncio.run formats the main task (and
        # so this result) into an error message while restoring the SIGINT
        # handler at exit; a full repr of a year's trades took 0.8 s there.
        return (
            f"BacktestResult(run_id={self.record.run_id!r}, trades={len(self.trades)}, "
            f"events_in={self.events_in}, events_derived={self.events_derived})"
        )

    @property
    def events_per_s(self) -> float:
        """Engine events (ticks in + events derived from them) per second of engine time."""
        return (self.events_in + self.events_derived) / max(self.engine_s, 1e-9)

    @property
    def ticks_per_s(self) -> float:
        return self.events_in / max(self.engine_s, 1e-9)


def collect_result(
    config: BacktestConfig,
    manager: StrategyManager,
    recorder: BacktestRecorder,
    strategies: Sequence[Strategy],
    skipped: dict[str, str],
    created_at: datetime | None,
) -> BacktestResult:
    """The results of a finished run (timings and event counts are left for the caller)."""
    kinds = {s.name: s.kind for s in strategies}
    batteries = [s for s in strategies if isinstance(s, BatteryStrategy)]
    battery = batteries[0] if batteries else None
    equity_curve = [(config.start, 0.0), *manager.equity_curve]
    trades = sorted(recorder.trades, key=lambda t: (t.ts, t.trade_id))
    battery_states: list[BatteryState] = []
    battery_prices: list[tuple[datetime, float]] = []
    perfect_eur: float | None = None
    if battery is not None:
        spec = battery.spec
        battery_states = [s for s in recorder.battery_states if s.battery_id == spec.battery_id]
        battery_prices = recorder.prices.get(spec.market, [])
        perfect_eur = perfect_foresight_eur(battery, battery_prices)
    metrics = compute_metrics(
        trades,
        equity_curve,
        kinds=kinds,
        battery_states=battery_states,
        battery_power_mw=battery.spec.power_mw if battery else None,
        battery_usable_mwh=battery.spec.usable_mwh if battery else None,
        battery_prices=battery_prices,
        perfect_foresight_eur=perfect_eur,
    )
    stride = max(1, math.ceil(len(equity_curve) / MAX_STORED_EQUITY_POINTS))
    stored_curve = equity_curve[::stride]
    if stored_curve[-1] != equity_curve[-1]:
        stored_curve.append(equity_curve[-1])
    record = BacktestRecord(
        run_id=config.run_id,
        created_at=created_at or config.start,
        state="finished",
        config={
            "from": config.start.isoformat(),
            "to": config.end.isoformat(),
            "data": config.data,
            "markets": list(config.markets),
            "price_kind": config.price_kind.value,
            "strategies": list(config.strategies),
            "ran": [s.name for s in strategies],
            "skipped": skipped,
            "descriptions": {s.name: s.describe() for s in strategies},
            "execution": msgspec.to_builtins(config.execution),
        },
        metrics=metrics.to_dict(),
        equity_curve=stored_curve,
    )
    return BacktestResult(
        record=record,
        metrics=metrics,
        trades=trades,
        equity_curve=equity_curve,
        strategy_equity={name: [0.0, *values] for name, values in manager.strategy_equity.items()},
        battery_states=battery_states,
        prices=recorder.prices,
        descriptions={s.name: s.describe() for s in strategies},
        skipped=skipped,
        events_in=0,
        events_derived=0,
        engine_s=0.0,
        total_s=0.0,
    )


def perfect_foresight_eur(
    battery: BatteryStrategy, prices: Sequence[tuple[datetime, float]]
) -> float | None:
    """The net revenue the battery would have made knowing every price (None if unsolvable)."""
    if len(prices) < 2:
        return None
    from engine.optimum import OptimumError, solve_schedule
    from engine.price_series import PriceSeries, to_us

    series = PriceSeries.from_points(
        battery.spec.market,
        [to_us(ts) for ts, _ in prices],
        [p for _, p in prices],
        battery.settings.period_minutes,
    )
    try:
        schedule = solve_schedule(battery.spec, series.prices, series.dt_h)
    except OptimumError as exc:
        log.warning("perfect foresight for %s failed: %s", battery.spec.battery_id, exc)
        return None
    return schedule.net_revenue_eur


__all__ = ["MAX_STORED_EQUITY_POINTS", "BacktestResult", "collect_result", "perfect_foresight_eur"]
