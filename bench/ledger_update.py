"""Ledger bench: one update of the capture ledger with a month of hourly prices.

A battery has delivered the hours of a month (March 2022 DE from the shared
prices, else a simulated month), committed each day at the gate on
persistence and settled (:func:`engine.battery.commitment.run_committed`), and
the ledger has seen every hour so far. One **update** is what the engine does
per delivered hour: the :class:`~engine.capture.book.CaptureBook` folds the
hour's :class:`~engine.events.BatteryState` and answers its snapshot — the
perfect-foresight optimum of each window re-solved (today, this week, this
month = the run), the day in delivery re-planned on the realized prices.
Timed for each of the month's last ``--updates`` hours (500–744 hours seen).

Baseline, measured in the same run: one pass of ``gridtui eval battery``'s
optimum over the same month (:func:`engine.battery.costs.perfect_foresight`,
one HiGHS solve of 744 hours). The target is an update ≤ 50 ms at p99.

Run: ``.venv/bin/python bench/ledger_update.py [--updates 240] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_PRICES = REPO_ROOT.parent / "shared" / "data" / "prices_real_train.parquet"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.battery.commitment import run_committed  # noqa: E402 — needs the path above
from engine.battery.costs import perfect_foresight, trading_spec  # noqa: E402
from engine.battery.gate_forecast import lagged_forecast  # noqa: E402
from engine.battery.physics import BatterySpec  # noqa: E402
from engine.battery.price_series import PriceSeries, from_us  # noqa: E402
from engine.capture.book import CaptureBook  # noqa: E402
from engine.events import BatteryState  # noqa: E402

FEE_EUR_MWH = 0.1
TARGET_P99_MS = 50.0


def month_of_prices() -> tuple[str, PriceSeries]:
    if REAL_PRICES.exists():
        import pandas as pd

        from models.battery.env import series_from_frame

        frame = pd.read_parquet(REAL_PRICES)
        (series,) = series_from_frame(frame, ["DE"], start="2022-03-01", end="2022-04-01")
        return "DE 2022-03 (real)", series
    from feeds.mock.model import MarketModel

    print(f"(no {REAL_PRICES}: a simulated month)")
    model = MarketModel(["DE"], seed=7, start=datetime(2026, 3, 1, tzinfo=UTC), step_minutes=60)
    prices = model.next_days(31).price_eur_mwh[:, 0]
    start = int(datetime(2026, 2, 28, 23, tzinfo=UTC).timestamp() * 1_000_000)
    times = start + np.arange(len(prices), dtype=np.int64) * 3_600_000_000
    return "DE 31 days (simulator)", PriceSeries.from_points("DE", times, prices)


def states_of(spec: BatterySpec, series: PriceSeries) -> list[BatteryState]:
    """The committed battery's states, hour by hour, as a fleet reports them."""
    run = run_committed(trading_spec(spec, FEE_EUR_MWH), series, lagged_forecast(series, 1))
    revenue = np.cumsum(np.asarray(run.log.revenue_eur) - np.asarray(run.log.degradation_eur))
    return [
        BatteryState(ts=from_us(int(t)), battery_id=spec.battery_id, market=spec.market,
                     soc_mwh=float(soc), soc_fraction=float(soc) / spec.capacity_mwh,
                     power_mw=float(p), mode="idle", revenue_eur=float(r))
        for t, soc, p, r in zip(series.times_us(), run.soc_mwh, run.power_mw, revenue, strict=True)
    ]  # fmt: skip


def update_times_s(spec: BatterySpec, series: PriceSeries, updates: int) -> list[float]:
    states = states_of(spec, series)
    book = CaptureBook([spec], fee_eur_mwh=FEE_EUR_MWH)
    for t, price in zip(series.times_us().tolist(), series.prices.tolist(), strict=True):
        book.add_price(spec.market, t, price, 60)
    first = len(states) - updates
    book.observe(states[:first])
    book.snapshot()  # the chains of the hours before: built once, as a running engine has them
    times = []
    for state in states[first:]:
        start = time.perf_counter()
        book.observe([state])
        rows = book.snapshot().rows
        times.append(time.perf_counter() - start)
        assert rows and rows[-1].optimum_eur is not None
    return times


def baseline_times_s(spec: BatterySpec, series: PriceSeries, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        perfect_foresight(spec, series, FEE_EUR_MWH)
        times.append(time.perf_counter() - start)
    return times


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=240, help="hours timed per repeat")
    parser.add_argument("--repeat", type=int, default=3, help="repeats (fresh ledger each)")
    args = parser.parse_args()
    spec = BatterySpec(battery_id="bess-de", market="DE")
    name, series = month_of_prices()
    updates: list[float] = []
    baseline: list[float] = []
    for _ in range(args.repeat):
        baseline += baseline_times_s(spec, series, args.updates // 4)
        updates += update_times_s(spec, series, args.updates)
    ms = 1000.0
    update_med, update_p99 = statistics.median(updates) * ms, p99(updates) * ms
    base_med, base_p99 = statistics.median(baseline) * ms, p99(baseline) * ms
    print(f"ledger update, {name}, {len(series)} hours, 1 MW / 2 MWh, fee {FEE_EUR_MWH} €/MWh")
    print(f"  update (fold one hour + snapshot, {len(updates)} timed): "
          f"median {update_med:.1f} ms, p99 {update_p99:.1f} ms")  # fmt: skip
    print(f"  baseline (eval's optimum, one HiGHS solve of the month, {len(baseline)} timed): "
          f"median {base_med:.1f} ms, p99 {base_p99:.1f} ms")  # fmt: skip
    print(f"  ratio update/baseline: median {update_med / base_med:.2f}x, "
          f"p99 {update_p99 / base_p99:.2f}x")  # fmt: skip
    verdict = "meets" if update_p99 <= TARGET_P99_MS else "MISSES"
    print(f"  target p99 <= {TARGET_P99_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
