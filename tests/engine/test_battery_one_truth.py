"""One truth: `gridtui backtest --strategies battery` and `gridtui eval battery` agree to the cent.

The battery strategy as the CLI builds it (``gridtui.wiring.build_strategies``)
is backtested (``engine.backtest.run.run_backtest`` on a replay of a price file);
the same prices are scored by ``eval battery``'s own code (its series loader
and ``evaluate``) with the committed LP on the forecast the backtest's
strategy makes (:func:`engine.battery.gate.series_forecast`). Same battery,
period, fee and wear: the net revenues, the perfect-foresight figures and the
percentages agree within half a cent.

``eval battery``'s own committed rows read more than a backtest's strategy
can: "persistence (D-1)" all of D−1 (published the day before, which a live
feed shows but a replay reveals only hour by hour) and the file's history
before the evaluated days. The live fleet, which does see all of D−1, matches
that row to the cent (``tests/engine/test_battery_fleet.py``).
"""

from __future__ import annotations

import argparse
import math
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from engine.backtest.config import BacktestConfig
from engine.backtest.run import run_backtest
from engine.battery.commitment import LpPlanner
from engine.battery.gate import series_forecast
from feeds.replay import ReplayConfig, ReplayFeed
from gridtui.commands.battery import _auction_rule, load_series
from gridtui.commands.battery_output import CommittedEntry, evaluate
from gridtui.settings.loader import Settings, load_settings
from gridtui.wiring import build_strategies

REAL_PRICES = Path(__file__).resolve().parents[3] / "shared" / "data" / "prices_real_train.parquet"
BRUSSELS = ZoneInfo("Europe/Brussels")
FEE_EUR_MWH = 0.10
CENT = 0.005


def settings_for(forecast: str) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "markets": ["DE"],
            "strategies": {
                "enabled": ["battery"],
                "battery": {"spec": {"battery_id": "bess-1", "market": "DE"}, "forecast": forecast},
                "execution": {"fee_eur_mwh": FEE_EUR_MWH},
            },
        },
    )


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BRUSSELS).astimezone(ZoneInfo("UTC"))


async def backtest(path: Path, first: date, after: date, settings: Settings) -> Any:
    strategies = build_strategies(settings, ["battery"])
    config = BacktestConfig(
        run_id="one-truth",
        start=local_midnight(first),
        end=local_midnight(after),
        strategies=("battery",),
        data=str(path),
        markets=("DE",),
        execution=settings.strategies.execution,
        timeline=settings.market,
    )
    return await run_backtest(
        config, ReplayFeed(ReplayConfig(path=str(path), markets=("DE",))), strategies
    )


def eval_rows(
    path: Path, first: date, after: date, settings: Settings, entries: list[CommittedEntry]
) -> dict[str, dict[str, Any]]:
    args = argparse.Namespace(
        data=str(path), market="DE", start=first.isoformat(), end=after.isoformat()
    )
    series = load_series(args, settings)
    rows = evaluate(
        series,
        settings.strategies.battery.spec,
        [],
        _auction_rule(settings),
        entries,
        fee_eur_mwh=settings.strategies.execution.fee_eur_mwh,
    )
    return {row["policy"]: row for row in rows}


def as_backtested(forecast: str) -> CommittedEntry:
    return CommittedEntry(
        f"lp on {forecast} as backtested",
        lambda one: series_forecast(one, forecast),  # type: ignore[arg-type]
        LpPlanner,
    )


def assert_one_truth(result: Any, rows: dict[str, dict[str, Any]], policy: str) -> None:
    metrics = result.metrics
    committed, best = rows[policy], rows["perfect foresight"]
    assert abs(metrics.battery_revenue - committed["net_revenue_eur"]) < CENT
    assert abs(metrics.battery_perfect_foresight_eur - best["net_revenue_eur"]) < CENT
    percent = metrics.battery_perfect_foresight_pct
    assert abs(percent - committed["percent_of_perfect_foresight"]) < 0.01
    # Fees and wear were paid: every fill's fee is (exchange fee + wear) per MWh.
    fills = [t for t in result.trades if t.side in ("buy", "sell")]
    assert fills and all(t.product == "day_ahead" for t in fills)
    wear = settings_for("weekly").strategies.battery.spec.degradation_eur_mwh
    for fill in fills:
        assert math.isclose(fill.fee_eur, (FEE_EUR_MWH + wear) * fill.volume_mwh, abs_tol=1e-9)


def write_synthetic(path: Path, first: date, after: date, seed: int) -> Path:
    """Hourly DE prices with a daily shape and noise over whole local days."""
    times = pd.date_range(local_midnight(first), local_midnight(after), freq="h", inclusive="left")
    rng = np.random.default_rng(seed)
    hours = np.arange(len(times))
    shape = 70 + 35 * np.sin(2 * np.pi * (hours - 9) / 24) + 15 * np.sin(4 * np.pi * hours / 24)
    prices = np.round(shape + rng.normal(0, 12, len(times)) + 30 * (hours // 24 % 7 == 3), 2)
    frame = pd.DataFrame({"timestamp": times, "market": "DE", "price_eur_mwh": prices})
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize(
    ("first", "after"),
    [(date(2022, 3, 14), date(2022, 4, 4)), (date(2022, 10, 17), date(2022, 11, 7))],
    ids=["spring-forward", "fall-back"],
)
async def test_backtest_and_eval_agree_to_the_cent_on_synthetic_prices(tmp_path, first, after):
    path = write_synthetic(tmp_path / "prices.parquet", first, after, seed=first.month)
    for forecast in ("weekly", "persistence"):
        settings = settings_for(forecast)
        result = await backtest(path, first, after, settings)
        rows = eval_rows(path, first, after, settings, [as_backtested(forecast)])
        assert_one_truth(result, rows, f"lp on {forecast} as backtested")
        assert rows[f"lp on {forecast} as backtested"]["net_revenue_eur"] > 0


@pytest.mark.skipif(
    not REAL_PRICES.exists(), reason="needs ../shared/data (absent in a fresh clone)"
)
@pytest.mark.parametrize("forecast", ["weekly", "persistence"])
async def test_backtest_and_eval_agree_to_the_cent_on_two_months_of_real_de_prices(forecast):
    first, after = date(2022, 1, 1), date(2022, 3, 1)
    settings = settings_for(forecast)
    result = await backtest(REAL_PRICES, first, after, settings)
    rows = eval_rows(REAL_PRICES, first, after, settings, [as_backtested(forecast)])
    assert_one_truth(result, rows, f"lp on {forecast} as backtested")
    assert 0 < result.metrics.battery_perfect_foresight_pct < 100
