"""Arbitrage through monthly transmission rights: a grid of look-backs and margins per year.

Replays one year of ``../shared/data/prices_real_train.parquet`` through a
:class:`~engine.strategies.manager.StrategyManager` hosting the arbitrage
strategy (the same order path as ``gridtui backtest``, without the runtime),
once per setting, and prints what the rights did in that year: MW·h of
rights delivered, their payoff, their cost (price and fees), the profit, the
win rate (settled periods that earned more than they cost) and the Sharpe
ratio of the daily PnL.

The run starts on 1 December of the year before (when the file has it), so
January's rights are priced on December's prices; only rights delivered in
the year are counted.

This is how the strategy's defaults were chosen: on 2020 (train) and 2021
(validation), the setting with the best worst-year Sharpe. 2022 is the
out-of-sample year: measure it with ``gridtui backtest``, never tune on it.

Run: ``.venv/bin/python bench/arbitrage_rights.py --year 2020 --lookback 1,3,7,14,21,28
--edge 0,1,2,5,10``.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from engine.backtest import metrics
from engine.events import PriceKind, PriceTick, Trade
from engine.spreads.transmission import month_bounds, month_of
from engine.strategies.arbitrage import ArbitrageConfig, ArbitrageStrategy
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager

PRICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "prices_real_train.parquet"
Batch = tuple[datetime, list[PriceTick]]


def batches(frame: pd.DataFrame, start: datetime, end: datetime) -> list[Batch]:
    """The prices of [start, end) as one batch of day-ahead ticks per hour."""
    window = frame[(frame.timestamp >= start) & (frame.timestamp < end)]
    found: list[Batch] = []
    for ts, group in window.sort_values(["timestamp", "market"]).groupby("timestamp"):
        at = pd.Timestamp(str(ts)).to_pydatetime()
        found.append(
            (
                at,
                [
                    PriceTick(
                        ts=at,
                        market=str(market),
                        price_eur_mwh=float(price),
                        kind=PriceKind.DAY_AHEAD,
                        delivery_minutes=60,
                        source="replay",
                    )
                    for market, price in zip(group.market, group.price_eur_mwh, strict=True)
                ],
            )
        )
    return found


def run(
    config: ArbitrageConfig, data: list[Batch], since: datetime, end: datetime
) -> dict[str, float]:
    """One replay; the figures of the rights delivered from ``since`` on."""
    strategy = ArbitrageStrategy(config)
    manager = StrategyManager(
        [strategy],
        ManagerConfig(price_kind=PriceKind.DAY_AHEAD, id_prefix="bench/", record_equity=True),
    )
    out = manager.start(strategy.name, now=data[0][0], actor="bench")
    for ts, ticks in data:
        out += manager.on_events(ticks, ts)
    out += manager.settle_until(end)
    settles = [
        t
        for t in out
        if isinstance(t, Trade) and t.side == "settle" and (t.delivery_start or t.ts) >= since
    ]
    rights = {(r.border, month_of(r.delivery_start)): r for r in strategy.purchases}
    volume = payoff = 0.0
    for trade in settles:
        assert trade.delivery_start is not None and trade.delivery_minutes is not None
        right = rights[trade.market, month_of(trade.delivery_start)]
        mwh = right.mw * trade.delivery_minutes / 60
        volume += mwh
        payoff += mwh * trade.price_eur_mwh
    pnl = math.fsum(t.pnl_eur for t in settles)
    curve = [(ts, equity) for ts, equity in manager.equity_curve if ts >= since]
    return {
        "months": sum(1 for r in strategy.purchases if since <= r.delivery_start < end),
        "mwh": volume,
        "payoff": payoff,
        "cost": payoff - pnl,
        "pnl": pnl,
        "win": metrics.win_rate(settles),
        "sharpe": metrics.sharpe_ratio(metrics.daily_pnl(curve)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--lookback", default="7", help="comma list of days")
    parser.add_argument("--edge", default="0", help="comma list of EUR/MWh")
    parser.add_argument("--data", default=str(PRICES))
    args = parser.parse_args(argv)
    if args.year >= 2022:
        print("2022 is the out-of-sample year: measure it with gridtui backtest", file=sys.stderr)
    frame = pd.read_parquet(args.data)
    since = month_bounds(date(args.year, 1, 1))[0]
    end = month_bounds(date(args.year, 12, 1))[1]
    data = batches(frame, since - timedelta(days=31), end)
    for lookback in (float(x) for x in args.lookback.split(",")):
        for edge in (float(x) for x in args.edge.split(",")):
            config = ArbitrageConfig(lookback_days=lookback, min_edge_eur_mwh=edge)
            got = run(config, data, since, end)
            print(
                f"{args.year} lookback {lookback:>4g} d  edge {edge:>4g} €/MWh  "
                f"rights {got['months']:3d} direction-months  {got['mwh'] / 1e6:7.3f} M MW·h  "
                f"payoff €{got['payoff'] / 1e6:8.3f} M  cost €{got['cost'] / 1e6:8.3f} M  "
                f"profit €{got['pnl'] / 1e6:8.3f} M  win {got['win']:6.1%}  "
                f"Sharpe {got['sharpe']:6.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
