"""Re-run from here: what happened live over a span, beside a backtest of the same span.

A re-run is a backtest whose prices are the engine's own recording
(:class:`~engine.backtest.recording_feed.RecordingFeed`): strategies start flat
at ``since`` and trade the recorded ticks to ``until``. This module owns the
other half of the picture and the comparison:

- :func:`live_over` reads what the chosen strategies did live in ``[since, until)``
  from the store: their trades, and their status lines' PnL at both ends;
- :func:`compare` sets that beside a :class:`~engine.backtest.result.BacktestResult`
  into a :class:`RerunComparison`: per strategy, trades and PnL on both sides,
  the PnL difference and the trades only one side made.

PnL on both sides is counted the same way, from the trades in the span: the
realised PnL of the deliveries settled in it minus the fees of every fill
(Σ ``pnl_eur`` − Σ ``fee_eur``). The live status lines' PnL change over the
span is shown beside it, for it includes what live held before ``since``.

Two trades are "the same" when they agree on instant, market, side, volume and
price (to 1e-6 MWh and 1e-4 EUR/MWh); trade ids differ by construction (a
backtest prefixes its run id). Callers: the in-process engine client (the
dashboard's ``R`` key, the daemon's ``POST /api/v1/rerun``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

import msgspec

from engine.events import StrategyStatus, Trade
from engine.store.base import Store

PAGE: Final = 5_000
SHOWN_TRADES: Final = 200  # per side and strategy: a screen, not an export
_TICK: Final = timedelta(microseconds=1)

TradeKey = tuple[datetime, str, str, float, float]


class TradeLine(msgspec.Struct, frozen=True, kw_only=True):
    """One trade as the comparison shows it."""

    ts: datetime
    market: str
    side: str
    volume_mwh: float
    price_eur_mwh: float
    pnl_eur: float = 0.0
    fee_eur: float = 0.0

    @classmethod
    def of(cls, trade: Trade) -> TradeLine:
        return cls(
            ts=trade.ts,
            market=trade.market,
            side=trade.side,
            volume_mwh=trade.volume_mwh,
            price_eur_mwh=trade.price_eur_mwh,
            pnl_eur=trade.pnl_eur,
            fee_eur=trade.fee_eur,
        )

    def key(self) -> TradeKey:
        return (
            self.ts,
            self.market,
            self.side,
            round(self.volume_mwh, 6),
            round(self.price_eur_mwh, 4),
        )


class LiveRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What one strategy did live in the span: its trades and its status PnL at both ends."""

    strategy: str
    trades: list[TradeLine]
    status_pnl_start_eur: float | None  # None: no status line recorded by then
    status_pnl_end_eur: float | None
    state_at_start: str = ""  # "running", "stopped", … at ``since`` ("" unrecorded)


class StrategyComparison(msgspec.Struct, frozen=True, kw_only=True):
    """One strategy, live beside re-run over the same span."""

    strategy: str
    live_trades: int
    rerun_trades: int
    live_pnl_eur: float
    rerun_pnl_eur: float
    pnl_diff_eur: float  # re-run − live
    same_trades: int
    only_live: list[TradeLine]  # at most SHOWN_TRADES; the counts say how many in all
    only_rerun: list[TradeLine]
    only_live_count: int
    only_rerun_count: int
    live_status_pnl_eur: float | None = None  # Δ of the live status line's PnL over the span
    live_state_at_start: str = ""
    skipped: str = ""  # why the re-run left it out ("" = it ran)


class RerunComparison(msgspec.Struct, frozen=True, kw_only=True):
    """A re-run's result beside what happened live, per strategy."""

    run_id: str
    since: datetime
    until: datetime
    strategies: list[StrategyComparison]
    rerun_trades: list[TradeLine]  # every re-run trade, oldest first (the Must-show's check)
    ticks_replayed: int = 0


def realised_pnl_eur(trades: Sequence[TradeLine]) -> float:
    """Σ pnl − Σ fees: what the deliveries settled in the span earned, net of every fill's fee."""
    return math.fsum(t.pnl_eur for t in trades) - math.fsum(t.fee_eur for t in trades)


async def live_over(
    store: Store, strategies: Sequence[str], since: datetime, until: datetime
) -> dict[str, LiveRecord]:
    """What ``strategies`` did live in ``[since, until)``, read from the store.

    Raises StoreError when the store fails.
    """
    found: dict[str, LiveRecord] = {}
    for name in strategies:
        trades: list[TradeLine] = []
        cursor = since
        while True:
            page = await store.recorded(
                Trade,
                since=cursor,
                until=until - _TICK,
                limit=PAGE,
                match={"strategy": name},
                oldest=True,
            )
            trades.extend(TradeLine.of(t) for t in page)
            if len(page) < PAGE:
                break
            cursor = page[-1].ts + _TICK
        start = await _status(store, name, since)
        end = await _status(store, name, until - _TICK)
        found[name] = LiveRecord(
            strategy=name,
            trades=trades,
            status_pnl_start_eur=start.pnl_eur if start is not None else None,
            status_pnl_end_eur=end.pnl_eur if end is not None else None,
            state_at_start=start.state if start is not None else "",
        )
    return found


async def _status(store: Store, name: str, at: datetime) -> StrategyStatus | None:
    newest = await store.recorded(StrategyStatus, until=at, limit=1, match={"strategy": name})
    return newest[0] if newest else None


def compare(
    run_id: str,
    since: datetime,
    until: datetime,
    live: dict[str, LiveRecord],
    rerun_trades: Sequence[Trade],
    skipped: dict[str, str],
    *,
    ticks_replayed: int = 0,
) -> RerunComparison:
    """Live beside re-run, per strategy of ``live`` (module docstring for what counts)."""
    ordered = sorted(rerun_trades, key=lambda t: (t.ts, t.trade_id))
    rerun_lines = [TradeLine.of(t) for t in ordered]
    rows: list[StrategyComparison] = []
    for name, record in live.items():
        ours = [line for line, t in zip(rerun_lines, ordered, strict=True) if t.strategy == name]
        only_live, only_rerun, same = _difference(record.trades, ours)
        live_pnl = realised_pnl_eur(record.trades)
        rerun_pnl = realised_pnl_eur(ours)
        status_pnl = (
            record.status_pnl_end_eur - (record.status_pnl_start_eur or 0.0)
            if record.status_pnl_end_eur is not None
            else None
        )
        rows.append(
            StrategyComparison(
                strategy=name,
                live_trades=len(record.trades),
                rerun_trades=len(ours),
                live_pnl_eur=live_pnl,
                rerun_pnl_eur=rerun_pnl,
                pnl_diff_eur=rerun_pnl - live_pnl,
                same_trades=same,
                only_live=only_live[:SHOWN_TRADES],
                only_rerun=only_rerun[:SHOWN_TRADES],
                only_live_count=len(only_live),
                only_rerun_count=len(only_rerun),
                live_status_pnl_eur=status_pnl,
                live_state_at_start=record.state_at_start,
                skipped=skipped.get(name, ""),
            )
        )
    return RerunComparison(
        run_id=run_id,
        since=since,
        until=until,
        strategies=rows,
        rerun_trades=rerun_lines,
        ticks_replayed=ticks_replayed,
    )


def _difference(
    live: Sequence[TradeLine], rerun: Sequence[TradeLine]
) -> tuple[list[TradeLine], list[TradeLine], int]:
    """Trades only live, only in the re-run (each oldest first), and how many both made."""
    live_left = Counter(t.key() for t in live)
    rerun_left = Counter(t.key() for t in rerun)
    common = live_left & rerun_left
    only_live: list[TradeLine] = []
    only_rerun: list[TradeLine] = []
    budget = Counter(common)
    for trade in live:
        if budget[trade.key()] > 0:
            budget[trade.key()] -= 1
        else:
            only_live.append(trade)
    budget = Counter(common)
    for trade in rerun:
        if budget[trade.key()] > 0:
            budget[trade.key()] -= 1
        else:
            only_rerun.append(trade)
    return only_live, only_rerun, sum(common.values())


__all__ = [
    "LiveRecord",
    "RerunComparison",
    "StrategyComparison",
    "TradeLine",
    "compare",
    "live_over",
    "realised_pnl_eur",
]
