"""The capture ledger on a live fleet: its identity, its windows, its honest n/a.

The fleet runs hour by hour as in ``tests/engine/test_battery_fleet.py`` (each
day's prices published at 12:45 the day before); the ledger sees the events the
fleet emits and the prices the feed published, as the kernel feeds it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

from engine.battery.commitment import plan_day
from engine.battery.costs import perfect_foresight, trading_spec
from engine.battery.fleet import BatteryFleet, BatteryUnit
from engine.battery.physics import BatterySpec
from engine.battery.price_series import PriceSeries, to_us
from engine.capture.book import CaptureBook
from engine.capture.rows import NO_MODEL, LedgerRow
from engine.capture.windows import window_starts
from engine.events import Forecast, Trade
from tests.engine.test_battery_fleet import FEE, FIRST_DAY, live, local, ticks, week

SPEC = BatterySpec(battery_id="bess-de", market="DE")


def fed_book(forecast: str = "persistence", guesses: list[Forecast] | None = None) -> CaptureBook:
    days = week()
    fleet = BatteryFleet([BatteryUnit(SPEC, forecast=forecast)], fee_eur_mwh=FEE)  # type: ignore[arg-type]
    if guesses:
        fleet.on_events(guesses, guesses[0].ts)
    states = live(fleet, days)
    book = CaptureBook([SPEC], fee_eur_mwh=FEE)
    for day in sorted(days):
        book.observe(ticks("DE", days[day]))
    book.observe(states)
    return book


def by_window(book: CaptureBook) -> dict[str, LedgerRow]:
    return {row.window: row for row in book.snapshot().rows if row.owner == "bess-de"}


def test_every_row_splits_optimum_minus_realized_into_forecast_error_and_execution():
    rows = by_window(fed_book())
    assert set(rows) == {"today", "week", "month", "run"}
    for row in rows.values():
        assert row.optimum_eur is not None and row.forecast_error_eur is not None
        assert row.execution_eur is not None and row.horizon_eur is not None
        assert row.delivery_eur is not None
        gap = row.optimum_eur - row.realized_eur
        assert math.isclose(row.forecast_error_eur + row.execution_eur, gap, abs_tol=1e-9)
        assert math.isclose(row.horizon_eur + row.delivery_eur, row.execution_eur, abs_tol=1e-9)
        assert row.optimum_eur >= row.realized_eur - 1e-6  # nothing beats perfect foresight
        assert row.realized_information == "gate_closure"
        assert row.optimum_information == "perfect_foresight"
    run = rows["run"]
    assert run.captured_pct is not None and 0 < run.captured_pct < 100
    # The fleet settles itself and delivers its plan: a committed day loses nothing
    # in delivery ...
    assert abs(rows["today"].delivery_eur or 0.0) < 1e-6


def test_a_missed_gate_is_execution_not_forecast_error():
    days = week()
    states = live(BatteryFleet([BatteryUnit(SPEC, forecast="persistence")], fee_eur_mwh=FEE), days)
    first = days[FIRST_DAY]
    assert [s.committed for s in states[: len(first)]] == [False] * len(first)  # started late
    assert all(s.committed for s in states[len(first) :])
    book = CaptureBook([SPEC], fee_eur_mwh=FEE)
    for day in sorted(days):
        book.observe(ticks("DE", days[day]))
    book.observe(states)
    run = by_window(book)["run"]
    # ... and the whole first day, idle for want of a plan, is what the committed LP
    # would have made on its prices: all of it delivery, none of it forecast error.
    missed = plan_day(trading_spec(SPEC, FEE), [p for _, p in first], 1.0, SPEC.initial_soc_mwh)
    assert missed.net_revenue_eur > 1.0
    assert run.delivery_eur is not None
    assert math.isclose(run.delivery_eur, missed.net_revenue_eur, abs_tol=1e-4)


def test_the_run_optimum_is_the_perfect_foresight_yardstick_and_realized_is_the_fleets_revenue():
    days = week()
    fleet = BatteryFleet([BatteryUnit(SPEC, forecast="persistence")], fee_eur_mwh=FEE)
    states = live(fleet, days)
    book = CaptureBook([SPEC], fee_eur_mwh=FEE)
    points = [p for day in sorted(days) for p in days[day]]
    book.observe(ticks("DE", points))
    book.observe(states)
    run = by_window(book)["run"]
    series = PriceSeries.from_points("DE", [to_us(t) for t, _ in points], [p for _, p in points])
    yardstick = perfect_foresight(SPEC, series, FEE).net_revenue_eur
    assert run.optimum_eur is not None and abs(run.optimum_eur - yardstick) < 0.005
    assert abs(run.realized_eur - states[-1].revenue_eur) < 0.005
    assert run.steps == len(series)


def test_a_perfect_forecast_leaves_no_forecast_error_on_the_last_day():
    days = week()
    guesses = [
        Forecast(ts=local(FIRST_DAY), market="DE", target_ts=ts, horizon_steps=1, price_eur_mwh=p)
        for day in sorted(days)
        for ts, p in days[day]
    ]
    perfect = by_window(fed_book("model", guesses))["today"]
    naive = by_window(fed_book("persistence"))["today"]
    assert perfect.forecast_error_eur is not None and naive.forecast_error_eur is not None
    assert abs(perfect.forecast_error_eur) < 1e-6
    assert naive.forecast_error_eur > 1.0  # yesterday's prices are not today's


def test_the_optimum_is_recomputed_as_prices_arrive():
    days = week()
    fleet = BatteryFleet([BatteryUnit(SPEC, forecast="persistence")], fee_eur_mwh=FEE)
    states = live(fleet, days)
    book = CaptureBook([SPEC], fee_eur_mwh=FEE)
    for day in sorted(days):
        book.observe(ticks("DE", days[day]))
    book.observe(states[:-12])
    before = by_window(book)["run"]
    assert book.snapshot() is book.snapshot()  # nothing new: not recomputed
    book.observe(states[-12:])
    after = by_window(book)["run"]
    assert after.steps == before.steps + 12 and after.end > before.end
    assert after.optimum_eur != before.optimum_eur


def test_windows_begin_at_local_midnight_monday_and_the_first_across_dst():
    anchor = to_us(datetime(2022, 3, 30, 10, tzinfo=UTC))  # a Wednesday, CEST since the 27th
    run_start = to_us(datetime(2022, 1, 10, tzinfo=UTC))
    starts = window_starts(anchor, run_start, "Europe/Brussels")
    assert starts["today"] == to_us(datetime(2022, 3, 29, 22, tzinfo=UTC))
    assert starts["week"] == to_us(datetime(2022, 3, 27, 22, tzinfo=UTC))  # Monday 28th, CEST
    assert starts["month"] == to_us(datetime(2022, 2, 28, 23, tzinfo=UTC))  # 1 March, CET
    assert starts["run"] == run_start
    late = window_starts(anchor, to_us(datetime(2022, 3, 29, tzinfo=UTC)), "Europe/Brussels")
    assert late["month"] == late["week"] == to_us(datetime(2022, 3, 29, tzinfo=UTC))


def test_a_strategy_without_a_model_reports_realized_money_and_says_optimum_is_not_available():
    book = CaptureBook([SPEC])
    start = local(FIRST_DAY, 10)
    for hour, pnl in enumerate([12.5, -2.0, 4.25]):
        at = start + timedelta(hours=hour)
        book.observe(
            [
                Trade(
                    ts=at,
                    trade_id=f"t{hour}",
                    strategy="spread-arb",
                    market="FR",
                    side="settle",
                    volume_mwh=1.0,
                    price_eur_mwh=50.0,
                    pnl_eur=pnl,
                    delivery_start=at,
                    delivery_minutes=60,
                )
            ]
        )
    rows = [r for r in book.snapshot().rows if r.owner == "spread-arb"]
    assert {r.window for r in rows} == {"today", "week", "month", "run"}
    for row in rows:
        assert row.kind == "strategy" and row.note == NO_MODEL
        assert row.optimum_eur is None and row.captured_pct is None
        assert row.forecast_error_eur is None and row.execution_eur is None
        assert math.isclose(row.realized_eur, 14.75)
    assert np.isclose(sum(r.realized_eur for r in rows if r.window == "run"), 14.75)
