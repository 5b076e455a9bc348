"""The capture ledger over a replay equals ``gridtui eval battery``, to the cent.

The battery strategy as the CLI builds it is backtested on a replay of the
shared 2022 prices (the engine path: replay feed, kernel, strategy manager,
execution, settlement); the ledger is fed the events that run produced
(:func:`engine.backtest.capture.run_ledger`). ``eval battery``'s own code scores
the same span: its series loader and ``evaluate`` with its perfect-foresight row
and the committed LP on the forecast the backtest's strategy makes (as in
``tests/engine/test_battery_one_truth.py``: eval's own "weekly naive" row reads
history before the span, which a replay starting there cannot).
"""

from __future__ import annotations

import argparse
from datetime import date

import pytest

from engine.backtest.capture import run_ledger
from engine.battery.commitment import plan_day
from engine.battery.costs import trading_spec
from gridtui.commands.battery import load_series
from gridtui.wiring import build_strategies
from tests.engine.test_battery_one_truth import (
    CENT,
    FEE_EUR_MWH,
    REAL_PRICES,
    as_backtested,
    backtest,
    eval_rows,
    settings_for,
)


@pytest.mark.skipif(
    not REAL_PRICES.exists(), reason="needs ../shared/data (absent in a fresh clone)"
)
async def test_the_ledger_over_a_replayed_quarter_of_2022_is_eval_battery_to_the_cent():
    first, after = date(2022, 1, 1), date(2022, 4, 1)  # a quarter, across spring-forward
    settings = settings_for("weekly")
    result = await backtest(REAL_PRICES, first, after, settings)
    rows = eval_rows(REAL_PRICES, first, after, settings, [as_backtested("weekly")])
    committed, best = rows["lp on weekly as backtested"], rows["perfect foresight"]
    strategies = build_strategies(settings, ["battery"])
    ledger = run_ledger(result, strategies, FEE_EUR_MWH)
    battery = next(row for row in ledger if row.kind == "battery")
    assert battery.window == "run" and battery.owner == "bess-1"
    assert battery.steps == committed["hours"]
    assert abs(battery.realized_eur - committed["net_revenue_eur"]) < CENT
    assert best["net_revenue_eur"] > 0 and battery.optimum_eur is not None
    assert abs(battery.optimum_eur - best["net_revenue_eur"]) < CENT
    assert battery.captured_pct is not None
    assert abs(battery.captured_pct - committed["percent_of_perfect_foresight"]) < 0.01
    # The strategy starts after the first day's gate, so that day idles: its delivery
    # loss is what the committed LP would have made on the day's prices; every later
    # day is delivered as planned.
    args = argparse.Namespace(data=str(REAL_PRICES), market="DE", start=str(first), end=str(after))
    (series,) = load_series(args, settings)
    spec = trading_spec(settings.strategies.battery.spec, FEE_EUR_MWH)
    missed = plan_day(spec, series.prices[:24], 1.0, spec.initial_soc_mwh).net_revenue_eur
    assert battery.delivery_eur is not None and missed > 0
    assert abs(battery.delivery_eur - missed) < CENT
    assert battery.forecast_error_eur is not None and battery.forecast_error_eur > 0
    strategy = next(row for row in ledger if row.kind == "strategy")
    assert strategy.owner == "battery" and strategy.realized_eur == battery.realized_eur
