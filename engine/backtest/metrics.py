"""Backtest metrics, as the energy trading backend's design names them: pure functions.

Every figure comes from a backtest's trades, its equity curve, its battery
states and the prices it saw; nothing here knows the engine. Money is EUR.

Trades are fills (``buy``/``sell``, which realise nothing) and settlements
(``settle``: one position of one market and delivery period, delivered, with
its realised PnL). Counts and volumes are of fills; PnL and wins are of
settlements.

- ``total_revenue``: the sum of every trade's ``pnl_eur`` (realised PnL, net of
  fees, slippage and asset costs): the revenue of every period delivered.
- ``arbitrage_profit`` / ``battery_revenue`` / ``mining_profit`` (and
  ``technical_pnl``, ``ml_pnl``, ``fundamental_pnl``): the same sum over the
  trades of the strategies of that kind.
- ``battery_utilization``: the battery's mean absolute power over its rated
  power, across every period it was dispatched (0 = never moved, 1 = at full
  power all the time; one full cycle a day at full power is 2·usable/power/24).
  ``battery_cycles_per_day``: energy discharged per day over usable capacity.
- ``price_capture_rate``: the spread the battery captured — volume-weighted
  sell price minus volume-weighted buy price — over the spread the market
  offered — the mean of each day's highest minus lowest price of its market.
  1 would be buying every MWh at the daily low and selling it at the high.
- ``win_rate``: settled periods with a gain over settled periods with a gain or
  a loss (scratches at 0 are not counted; fills realise nothing).
- ``sharpe_ratio``: mean over standard deviation (ddof 1) of daily PnL — the
  equity curve's change from one UTC midnight to the next — times √365, power
  being traded every day of the year; risk-free rate 0. PnL rather than returns:
  a strategy here has no capital base, and the ratio is the same either way.
- ``max_drawdown``: the deepest fall of the equity curve below its running
  peak, in EUR, as a number ≤ 0 (the curve starts at 0).
- ``total_trades`` / ``total_volume_mwh``: fills, every leg counted; settlements
  are not trades (they would count every MWh twice).
- :func:`strategy_figures`: the same figures for one strategy (the backtest's
  per-strategy table), its Sharpe ratio from its own equity curve.
- ``battery_perfect_foresight_pct``: battery revenue as a percentage of the
  perfect-foresight optimum on the same prices, net of the same wear and
  exchange fee per MWh (``engine.battery.costs.perfect_foresight``, the figure
  ``gridtui eval battery`` prints; computed by :mod:`engine.backtest.result`,
  absent without a battery).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Final

import msgspec

from engine.events import BatteryState, Trade

TRADING_DAYS_PER_YEAR: Final = 365
KIND_METRICS: Final = {
    "arbitrage": "arbitrage_profit",
    "battery": "battery_revenue",
    "mining": "mining_profit",
    "technical": "technical_pnl",
    "ml": "ml_pnl",
    "fundamental": "fundamental_pnl",
}


class BacktestMetrics(msgspec.Struct, kw_only=True):
    """The headline figures of a run. ``None`` = not applicable (no battery, no trades)."""

    total_revenue: float = 0.0
    arbitrage_profit: float = 0.0
    battery_revenue: float = 0.0
    mining_profit: float = 0.0
    technical_pnl: float = 0.0
    ml_pnl: float = 0.0
    fundamental_pnl: float = 0.0
    battery_utilization: float | None = None
    battery_cycles_per_day: float | None = None
    price_capture_rate: float | None = None
    win_rate: float = 0.0
    sharpe_ratio: float = 0.0
    max_drawdown: float = 0.0
    total_trades: int = 0
    total_fees: float = 0.0
    total_volume_mwh: float = 0.0
    battery_perfect_foresight_eur: float | None = None
    battery_perfect_foresight_pct: float | None = None

    def to_dict(self) -> dict[str, float]:
        """The figures that apply, as floats (what ``BacktestRecord.metrics`` stores)."""
        return {
            name: float(value)
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not None
        }


SETTLE: Final = "settle"


def fills(trades: Iterable[Trade]) -> list[Trade]:
    """The fills among ``trades``: what was bought and sold, not what settled."""
    return [t for t in trades if t.side != SETTLE]


def total_revenue(trades: Iterable[Trade]) -> float:
    return math.fsum(t.pnl_eur for t in trades)


def revenue_by_strategy(trades: Iterable[Trade]) -> dict[str, float]:
    sums: dict[str, list[float]] = defaultdict(list)
    for trade in trades:
        sums[trade.strategy].append(trade.pnl_eur)
    return {name: math.fsum(values) for name, values in sums.items()}


def win_rate(trades: Iterable[Trade]) -> float:
    """Settled periods that gained over those that gained or lost, in [0, 1]; 0 if none."""
    wins = losses = 0
    for trade in trades:
        if trade.side != SETTLE:
            continue
        if trade.pnl_eur > 0:
            wins += 1
        elif trade.pnl_eur < 0:
            losses += 1
    return wins / (wins + losses) if wins + losses else 0.0


def max_drawdown(equity: Iterable[float]) -> float:
    """The deepest fall below the running peak (≤ 0). The peak starts at the first value."""
    peak = -math.inf
    deepest = 0.0
    for value in equity:
        peak = max(peak, value)
        deepest = min(deepest, value - peak)
    return deepest


def daily_pnl(curve: Sequence[tuple[datetime, float]]) -> list[float]:
    """Equity change per UTC day: the last value of each day minus that of the day before.

    The first day is measured from the curve's first point (the start).
    """
    if not curve:
        return []
    closes: dict[object, float] = {}
    for ts, equity in curve:
        closes[ts.date()] = equity  # the curve is in time order: the last one wins
    pnl: list[float] = []
    previous = curve[0][1]
    for close in closes.values():
        pnl.append(close - previous)
        previous = close
    return pnl


def sharpe_ratio(daily: Sequence[float], periods_per_year: int = TRADING_DAYS_PER_YEAR) -> float:
    """Annualised mean/std of daily PnL (ddof 1); 0 with fewer than two days or no spread."""
    n = len(daily)
    if n < 2:
        return 0.0
    mean = math.fsum(daily) / n
    variance = math.fsum((x - mean) ** 2 for x in daily) / (n - 1)
    std = math.sqrt(variance)
    if not std > 1e-12 * max(1.0, abs(mean)):
        return 0.0
    return mean / std * math.sqrt(periods_per_year)


def mean_daily_range(prices: Iterable[tuple[datetime, float]]) -> float | None:
    """The mean over UTC days of the day's highest minus lowest price."""
    low: dict[object, float] = {}
    high: dict[object, float] = {}
    for ts, price in prices:
        day = ts.date()
        if day in low:
            low[day] = min(low[day], price)
            high[day] = max(high[day], price)
        else:
            low[day] = high[day] = price
    if not low:
        return None
    return math.fsum(high[d] - low[d] for d in low) / len(low)


def price_capture_rate(trades: Iterable[Trade], daily_range_eur_mwh: float | None) -> float | None:
    """(VWAP sold − VWAP bought) / the mean daily price range; None if undefined."""
    bought = bought_value = sold = sold_value = 0.0
    for trade in trades:
        if trade.side == "buy":
            bought += trade.volume_mwh
            bought_value += trade.volume_mwh * trade.price_eur_mwh
        elif trade.side == "sell":
            sold += trade.volume_mwh
            sold_value += trade.volume_mwh * trade.price_eur_mwh
    if not (bought > 0 and sold > 0 and daily_range_eur_mwh and daily_range_eur_mwh > 0):
        return None
    return (sold_value / sold - bought_value / bought) / daily_range_eur_mwh


def battery_utilization(states: Sequence[BatteryState], power_mw: float) -> float | None:
    """Mean |power| over rated power across ``states`` (one per dispatch period), in [0, 1]."""
    if not states or not power_mw > 0:
        return None
    return math.fsum(abs(s.power_mw) for s in states) / len(states) / power_mw


def cycles_per_day(states: Sequence[BatteryState], usable_mwh: float) -> float | None:
    """Energy discharged per day over usable capacity (equivalent full cycles a day)."""
    if len(states) < 2 or not usable_mwh > 0:
        return None
    step_h = min((b.ts - a.ts).total_seconds() / 3600 for a, b in pairwise(states))
    if not step_h > 0:
        return None
    discharged = math.fsum(max(s.power_mw, 0.0) for s in states) * step_h
    days = len(states) * step_h / 24
    return discharged / usable_mwh / days


def compute_metrics(
    trades: Sequence[Trade],
    equity_curve: Sequence[tuple[datetime, float]],
    *,
    kinds: Mapping[str, str],
    battery_states: Sequence[BatteryState] = (),
    battery_power_mw: float | None = None,
    battery_usable_mwh: float | None = None,
    battery_prices: Sequence[tuple[datetime, float]] = (),
    perfect_foresight_eur: float | None = None,
) -> BacktestMetrics:
    """Every metric of a run (module docstring). ``kinds`` maps strategy name → kind."""
    by_strategy = revenue_by_strategy(trades)
    by_kind: dict[str, float] = defaultdict(float)
    for name, revenue in by_strategy.items():
        by_kind[kinds.get(name, name)] += revenue
    filled = fills(trades)
    metrics = BacktestMetrics(
        total_revenue=total_revenue(trades),
        win_rate=win_rate(trades),
        sharpe_ratio=sharpe_ratio(daily_pnl(equity_curve)),
        max_drawdown=max_drawdown(e for _, e in equity_curve),
        total_trades=len(filled),
        total_fees=math.fsum(t.fee_eur for t in trades),
        total_volume_mwh=math.fsum(t.volume_mwh for t in filled),
    )
    for kind, field_name in KIND_METRICS.items():
        setattr(metrics, field_name, by_kind.get(kind, 0.0))
    battery_names = {name for name, kind in kinds.items() if kind == "battery"}
    if battery_states and battery_power_mw:
        metrics.battery_utilization = battery_utilization(battery_states, battery_power_mw)
        if battery_usable_mwh:
            metrics.battery_cycles_per_day = cycles_per_day(battery_states, battery_usable_mwh)
    if battery_names:
        battery_trades = [t for t in trades if t.strategy in battery_names]
        metrics.price_capture_rate = price_capture_rate(
            battery_trades, mean_daily_range(battery_prices)
        )
    if perfect_foresight_eur is not None and battery_names:
        metrics.battery_perfect_foresight_eur = perfect_foresight_eur
        if perfect_foresight_eur > 0:
            metrics.battery_perfect_foresight_pct = (
                100.0 * metrics.battery_revenue / perfect_foresight_eur
            )
    return metrics


class StrategyFigures(msgspec.Struct, kw_only=True):
    """One strategy's share of a run: what it filled, what its deliveries earned."""

    fills: int = 0
    settlements: int = 0
    volume_mwh: float = 0.0
    revenue_eur: float = 0.0
    fees_eur: float = 0.0
    win_rate: float = 0.0
    sharpe_ratio: float = 0.0
    max_drawdown: float = 0.0
    volume_by_product: dict[str, float] = msgspec.field(default_factory=dict)


def strategy_figures(
    trades: Sequence[Trade], equity_curve: Sequence[tuple[datetime, float]]
) -> StrategyFigures:
    """The figures of one strategy's ``trades`` and its own equity curve."""
    filled = fills(trades)
    by_product: dict[str, float] = defaultdict(float)
    for trade in filled:
        by_product[trade.product or "intraday"] += trade.volume_mwh
    return StrategyFigures(
        fills=len(filled),
        settlements=len(trades) - len(filled),
        volume_mwh=math.fsum(t.volume_mwh for t in filled),
        revenue_eur=total_revenue(trades),
        fees_eur=math.fsum(t.fee_eur for t in trades),
        win_rate=win_rate(trades),
        sharpe_ratio=sharpe_ratio(daily_pnl(equity_curve)),
        max_drawdown=max_drawdown(e for _, e in equity_curve),
        volume_by_product=dict(by_product),
    )


__all__ = [
    "KIND_METRICS",
    "SETTLE",
    "TRADING_DAYS_PER_YEAR",
    "BacktestMetrics",
    "StrategyFigures",
    "battery_utilization",
    "compute_metrics",
    "cycles_per_day",
    "daily_pnl",
    "fills",
    "max_drawdown",
    "mean_daily_range",
    "price_capture_rate",
    "revenue_by_strategy",
    "sharpe_ratio",
    "strategy_figures",
    "total_revenue",
    "win_rate",
]
