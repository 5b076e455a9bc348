"""Calibration bench: the mock simulator's hourly prices next to the real 2020–2022 ones.

Prints, per market, simulator and real statistics side by side: mean, std, tails,
share of negative hours, the hourly profile (mean price per UTC hour over the
overall mean), the pairwise correlation matrix and the share of hours in which each
pair clears at the same price (|diff| < 0.005 EUR/MWh). The real figures are given
for the whole file and for 2021 alone, the regime the default parameters aim at.

Run: ``.venv/bin/python bench/mock_calibration.py [--seed N] [--days N]``. It skips
with a message (exit 0) when ``../shared/data`` is absent, as on a fresh clone.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import SupportsFloat

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
REAL_PRICES = DATA_DIR / "prices_real_train.parquet"
MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
SAME_PRICE_TOLERANCE_EUR_MWH = 0.005

if str(REPO_ROOT) not in sys.path:
    # Run as a script from anywhere: make the project packages importable.
    sys.path.insert(0, str(REPO_ROOT))

from feeds.mock.model import simulate_hourly_prices  # noqa: E402 — needs the path above


def wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Long (timestamp, market, price) to one column per market on the hourly grid."""
    table = frame.pivot_table(
        index="timestamp", columns="market", values="price_eur_mwh", observed=True
    )
    return table.reindex(columns=[m for m in MARKETS if m in table.columns])


def hourly_profile(prices: pd.Series) -> str:
    """Mean price per UTC hour over the overall mean, 24 values on one line."""
    clean = prices.dropna()
    index = pd.DatetimeIndex(clean.index)
    by_hour = clean.groupby(index.hour).mean()
    ratio = by_hour / clean.mean()
    return " ".join(f"{value:.2f}" for value in ratio.to_numpy())


def same_price_share(prices: pd.DataFrame, a: str, b: str) -> float:
    both = prices[[a, b]].dropna()
    if both.empty:
        return float("nan")
    return float(((both[a] - both[b]).abs() < SAME_PRICE_TOLERANCE_EUR_MWH).mean())


def fmt(value: SupportsFloat, digits: int = 1) -> str:
    number = float(value)
    return "—" if not np.isfinite(number) else f"{number:,.{digits}f}"


def market_table(sim: pd.DataFrame, real: pd.DataFrame, real_2021: pd.DataFrame) -> Table:
    table = Table(title="Per market: simulator | real 2020–22 | real 2021 (EUR/MWh)")
    table.add_column("market")
    for stat in ("mean", "std", "p1", "p99", "min", "max", "neg %"):
        table.add_column(stat, justify="right")
    for market in sim.columns:
        for label, frame in (("sim", sim), ("real", real), ("2021", real_2021)):
            if market not in frame.columns:
                continue
            series = frame[market].dropna()
            if series.empty:
                continue
            table.add_row(
                f"{market} {label}",
                fmt(series.mean()),
                fmt(series.std()),
                fmt(series.quantile(0.01)),
                fmt(series.quantile(0.99)),
                fmt(series.min()),
                fmt(series.max()),
                fmt(100.0 * (series < 0).mean(), 2),
                end_section=label == "2021",
            )
    return table


def profile_table(sim: pd.DataFrame, real: pd.DataFrame) -> Table:
    table = Table(title="Hourly profile: mean per UTC hour 00…23 / overall mean")
    table.add_column("market")
    table.add_column("source")
    table.add_column("00 01 02 …                                                          23")
    for market in sim.columns:
        table.add_row(market, "sim", hourly_profile(sim[market]))
        if market in real.columns:
            table.add_row("", "real", hourly_profile(real[market]), end_section=True)
    return table


def pair_table(sim: pd.DataFrame, real: pd.DataFrame, real_2021: pd.DataFrame) -> Table:
    table = Table(title="Pairs: correlation and same-price share (|diff| < 0.005)")
    table.add_column("pair")
    for column in (
        "corr sim",
        "corr real",
        "corr 2021",
        "same sim %",
        "same real %",
        "same 2021 %",
    ):
        table.add_column(column, justify="right")
    sim_corr, real_corr, corr_2021 = sim.corr(), real.corr(), real_2021.corr()
    for a, b in combinations(sim.columns, 2):

        def corr(matrix: pd.DataFrame, x: str = a, y: str = b) -> float:
            columns = list(matrix.columns)
            if x in columns and y in columns:
                return float(matrix.to_numpy()[columns.index(x), columns.index(y)])
            return float("nan")

        def share(frame: pd.DataFrame, x: str = a, y: str = b) -> float:
            if x in frame.columns and y in frame.columns:
                return 100.0 * same_price_share(frame, x, y)
            return float("nan")

        table.add_row(
            f"{a}-{b}",
            fmt(corr(sim_corr), 2),
            fmt(corr(real_corr), 2),
            fmt(corr(corr_2021), 2),
            fmt(share(sim)),
            fmt(share(real)),
            fmt(share(real_2021)),
        )
    return table


def cluster_share(prices: pd.DataFrame) -> float:
    """Share of hours in which all continental zones clear at one price."""
    core = prices[[m for m in ("DE", "FR", "NL", "BE", "AT") if m in prices.columns]].dropna()
    if core.empty:
        return float("nan")
    spread = core.max(axis=1) - core.min(axis=1)
    return float((spread < SAME_PRICE_TOLERANCE_EUR_MWH).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=int, default=3 * 365, help="simulated days (UTC)")
    args = parser.parse_args()
    console = Console()
    if not REAL_PRICES.exists():
        console.print(f"[yellow]skipped:[/] {REAL_PRICES} not found (no ../shared/data here)")
        return 0

    real_long = pd.read_parquet(REAL_PRICES)
    real = wide(real_long)
    real_index = pd.DatetimeIndex(real.index)
    real_2021 = real[real_index.year == 2021]

    started = time.perf_counter()
    sim_long = simulate_hourly_prices(
        MARKETS, datetime(2020, 1, 1, tzinfo=UTC), args.days, args.seed
    )
    elapsed_s = time.perf_counter() - started
    sim = wide(sim_long)
    console.print(
        f"simulated {args.days} days × {len(MARKETS)} markets (seed {args.seed}) "
        f"in {elapsed_s:.2f} s; real file: {len(real_long):,} rows"
    )
    console.print(market_table(sim, real, real_2021))
    console.print(profile_table(sim, real))
    console.print(pair_table(sim, real, real_2021))
    console.print(
        "All five continental zones at one price: "
        f"sim {100 * cluster_share(sim):.1f} %, real {100 * cluster_share(real):.1f} %, "
        f"2021 {100 * cluster_share(real_2021):.1f} %"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
