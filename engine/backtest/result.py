"""Backtest results: what a run produced, its metrics, and the record the store keeps.

:func:`collect_result` turns a finished run's
:class:`~engine.strategies.manager.StrategyManager` and
:class:`~engine.backtest.recorder.BacktestRecorder` into a
:class:`BacktestResult`: trades, equity curves, metrics (with the battery's
percentage of perfect foresight) and the :class:`~engine.store.base.BacktestRecord`
to save, its equity curve thinned to at most ``MAX_STORED_EQUITY_POINTS``.

Per strategy (:class:`StrategyReport`): its figures
(:func:`engine.backtest.metrics.strategy_figures`), the positions it still held when
the run ended (none may be delivered and still open: delivered means settled)
and the timeline it traded under, worded from what the run did — the products
of its fills, the gate and lead times of the markets it traded, how its
positions settled (:func:`traded_under`).

The battery's percentage of perfect foresight compares its revenue with
:func:`engine.battery.costs.perfect_foresight` on the very prices it traded
(gaps filled as :class:`engine.battery.price_series.PriceSeries` fills them), net of the
same wear and exchange fee per MWh its fills pay (day-ahead fills have no
slippage): the figure ``gridtui eval battery`` prints as "perfect foresight".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec

from engine.backtest.config import BacktestConfig
from engine.backtest.metrics import (
    SETTLE,
    BacktestMetrics,
    StrategyFigures,
    compute_metrics,
    strategy_figures,
)
from engine.backtest.recorder import BacktestRecorder
from engine.events import BatteryState, Trade
from engine.market.timeline import MarketTimeline
from engine.store.base import BacktestRecord
from engine.strategies.base import Strategy
from engine.strategies.battery import BatteryStrategy
from engine.strategies.manager import StrategyManager
from engine.time_us import to_us

log = logging.getLogger(__name__)

MAX_STORED_EQUITY_POINTS: Final = 20_000


class StrategyReport(msgspec.Struct, kw_only=True):
    """One strategy's line of the results: figures, timeline, what is left open.

    Attributes:
        traded_under: the products and timeline it traded, and how it settled.
        open_periods / open_mwh: positions held when the run ended (for
            delivery after it: committed at a gate inside the window).
        delivered_open: positions whose delivery had ended and that were not
            settled — always 0, or the engine has a bug.
    """

    figures: StrategyFigures
    traded_under: str
    open_periods: int = 0
    open_mwh: float = 0.0
    delivered_open: int = 0


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
    strategies: dict[str, StrategyReport]
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
        perfect_eur = perfect_foresight_eur(battery, battery_prices, config.execution.fee_eur_mwh)
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
    reports = strategy_reports(manager, strategies, trades, equity_curve)
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
            "per_strategy": msgspec.to_builtins(reports),
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
        strategies=reports,
        skipped=skipped,
        events_in=0,
        events_derived=0,
        engine_s=0.0,
        total_s=0.0,
    )


def strategy_reports(
    manager: StrategyManager,
    strategies: Sequence[Strategy],
    trades: Sequence[Trade],
    equity_curve: Sequence[tuple[datetime, float]],
) -> dict[str, StrategyReport]:
    """Every strategy's :class:`StrategyReport` at the end of a run."""
    times = [ts for ts, _ in equity_curve]
    settled_until_us = to_us(manager.event_now)
    intraday_feed = bool(manager.intraday_prices)
    reports: dict[str, StrategyReport] = {}
    for strategy in strategies:
        name = strategy.name
        own = [t for t in trades if t.strategy == name]
        values = [0.0, *manager.strategy_equity.get(name, [])]
        curve = list(zip(times, values, strict=False))
        positions = [p for p in manager.account(name).ledger if abs(p.qty_mwh) >= 1e-9]
        reports[name] = StrategyReport(
            figures=strategy_figures(own, curve),
            traded_under=traded_under(own, manager.timeline, intraday_feed=intraday_feed),
            open_periods=len(positions),
            open_mwh=math.fsum(abs(p.qty_mwh) for p in positions),
            delivered_open=sum(p.delivery_end_us <= settled_until_us for p in positions),
        )
    return reports


def traded_under(trades: Sequence[Trade], timeline: MarketTimeline, *, intraday_feed: bool) -> str:
    """What a strategy's trades show it traded under, in words (module docstring).

    From its fills: the share of volume per product, with the gate (day-ahead)
    or the lead time (continuous intraday) of the markets it traded; from its
    settlements: what its positions closed at.
    """
    filled = [t for t in trades if t.side != SETTLE]
    if not filled:
        return "no fills"
    volume: dict[str, float] = {}
    markets: dict[str, set[str]] = {}
    for trade in filled:
        product = trade.product or "intraday"
        volume[product] = volume.get(product, 0.0) + trade.volume_mwh
        markets.setdefault(product, set()).add(trade.market)
    total = math.fsum(volume.values())
    parts: list[str] = []
    for product, mwh in sorted(volume.items(), key=lambda item: -item[1]):
        share = f"{mwh / total:.0%} " if len(volume) > 1 else ""
        parts.append(share + _product_words(product, sorted(markets[product]), timeline))
    how = sorted({_settled_words(t.reason, intraday_feed) for t in trades if t.side == SETTLE})
    return "; ".join(parts) + (f"; settled: {', '.join(how)}" if how else "")


def _product_words(product: str, markets: list[str], timeline: MarketTimeline) -> str:
    if product == "day_ahead":
        gates: dict[str, list[str]] = {}
        for market in markets:
            rules = timeline.rules(market)
            gates.setdefault(f"{rules.day_ahead_gate:%H:%M} {rules.timezone}", []).append(market)
        words = ", ".join(
            gate if len(gates) == 1 else f"{gate} ({', '.join(m)})" for gate, m in gates.items()
        )
        return f"day-ahead, committed before gate closure D-1 {words}, filled at clearing"
    if product == "intraday":
        leads = sorted({timeline.rules(m).intraday_lead_minutes for m in markets})
        lead = "/".join(f"{minutes}" for minutes in leads)
        return f"continuous intraday until {lead} min before delivery"
    return product.replace("_", " ")


def _settled_words(reason: str, intraday_feed: bool) -> str:
    if "consumed" in reason:
        return "consumed at its value"
    if "delivered by" in reason:
        return "delivered by its asset"
    return "at the latest intraday price" if intraday_feed else "at the day-ahead clearing price"


def perfect_foresight_eur(
    battery: BatteryStrategy, prices: Sequence[tuple[datetime, float]], fee_eur_mwh: float = 0.0
) -> float | None:
    """The net revenue the battery would have made knowing every price (None if unsolvable).

    Net of its wear and of ``fee_eur_mwh`` per MWh traded, as its fills are.
    """
    if len(prices) < 2:
        return None
    from engine.battery.costs import perfect_foresight
    from engine.battery.optimum import OptimumError
    from engine.battery.price_series import PriceSeries, to_us

    series = PriceSeries.from_points(
        battery.spec.market,
        [to_us(ts) for ts, _ in prices],
        [p for _, p in prices],
        battery.settings.period_minutes,
    )
    try:
        schedule = perfect_foresight(battery.spec, series, fee_eur_mwh)
    except OptimumError as exc:
        log.warning("perfect foresight for %s failed: %s", battery.spec.battery_id, exc)
        return None
    return schedule.net_revenue_eur


__all__ = [
    "MAX_STORED_EQUITY_POINTS",
    "BacktestResult",
    "StrategyReport",
    "collect_result",
    "perfect_foresight_eur",
    "strategy_reports",
    "traded_under",
]
