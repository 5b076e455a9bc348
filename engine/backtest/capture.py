"""The capture ledger over a finished backtest: what the HTML report shows.

A backtest's recorder keeps the events the run produced — battery states,
trades (fills and settlements) and the battery's traded prices — including
those made outside the kernel loop (the last settlements at the end of the
run). :func:`run_ledger` feeds exactly those to a fresh
:class:`~engine.capture.book.CaptureBook` and keeps its "run" rows; the battery
row's optimum is then the backtest's ``battery_perfect_foresight_eur`` and its
realized money ``battery_revenue`` (``tests/engine/test_capture_eval.py``
checks both against ``gridtui eval battery``).
"""

from __future__ import annotations

from engine.backtest.result import BacktestResult
from engine.capture.book import CaptureBook
from engine.capture.rows import LedgerRow
from engine.strategies.base import Strategy
from engine.strategies.battery import BatteryStrategy
from engine.time_us import to_us


def run_ledger(
    result: BacktestResult, strategies: list[Strategy] | tuple[Strategy, ...], fee_eur_mwh: float
) -> list[LedgerRow]:
    """The ledger's "run" rows of ``result`` (one per battery and strategy)."""
    batteries = [s for s in strategies if isinstance(s, BatteryStrategy)]
    book = CaptureBook(
        [b.spec for b in batteries],
        fee_eur_mwh=fee_eur_mwh,
        strategy_batteries={b.name: b.spec.battery_id for b in batteries},
        step_minutes=batteries[0].settings.period_minutes if batteries else 60,
    )
    for market, prices in result.prices.items():
        for ts, price in prices:
            book.add_price(market, to_us(ts), price, None)
    book.observe(result.battery_states)
    book.observe(result.trades)
    return [row for row in book.snapshot().rows if row.window == "run"]


__all__ = ["run_ledger"]
