"""Backtest run configuration: what one run replays, trades and records.

This module owns :class:`BacktestConfig` (frozen; ``gridtui backtest`` and the
dashboard's new-backtest form build it) for :func:`engine.backtest.run.run_backtest`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from engine.events import PriceKind
from engine.market.timeline import TimelineConfig
from engine.spreads.config import DEFAULT_MARKETS, SpreadConfig
from engine.strategies.execution import ExecutionConfig


class BacktestConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One backtest run.

    Attributes:
        run_id: the run's name in the store (``bt-20240301-101500``).
        start / end: the window, ``start`` included, ``end`` excluded (UTC).
        strategies: the names asked for (a strategy without its inputs is skipped).
        data: where the history came from, for the record (a path, ``mock``).
        markets: the markets replayed and validated.
        price_kind: the prices strategies trade (replayed history is day-ahead).
        execution: fees, slippage and limits.
        spreads: the spread engine's config; None = defaults on ``price_kind``.
        inputs: what the run feeds besides prices and spreads (``forecasts``,
            ``fundamentals``): decides which strategies can run.
        equity_interval_s: event-time spacing of the equity curve.
        progress_interval_s: real seconds between two progress events.
        timeline: gate closures and MTUs per market (the same rules as live).
    """

    run_id: str
    start: datetime
    end: datetime
    strategies: tuple[str, ...]
    data: str = ""
    markets: tuple[str, ...] = DEFAULT_MARKETS
    price_kind: PriceKind = PriceKind.DAY_AHEAD
    execution: ExecutionConfig = ExecutionConfig()
    spreads: SpreadConfig | None = None
    inputs: tuple[str, ...] = ()
    equity_interval_s: float = 3600.0
    progress_interval_s: float = 0.25
    timeline: TimelineConfig = TimelineConfig()

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("backtest start and end must be tz-aware (UTC)")
        if not self.start < self.end:
            raise ValueError(f"backtest window is empty: {self.start} .. {self.end}")

    def spread_config(self) -> SpreadConfig:
        if self.spreads is None:
            return SpreadConfig(markets=self.markets, price_kind=self.price_kind)
        return msgspec.structs.replace(self.spreads, price_kind=self.price_kind)


class NoDataInWindow(ValueError):
    """A backtest window holds no prices; the message says which range the data covers."""


def check_window(
    start: datetime, end: datetime, first: datetime, last: datetime, source: str
) -> None:
    """Refuse a window ``[start, end)`` that misses the data's ``first``..``last`` entirely.

    Raises:
        NoDataInWindow: naming the window asked for and the range ``source`` covers.
    """
    if start <= last and end > first:
        return
    raise NoDataInWindow(
        f"no prices from {start:%Y-%m-%d} to {end - timedelta(seconds=1):%Y-%m-%d} in "
        f"{source}: it covers {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC; "
        "pick days inside that range (nothing was run or stored)"
    )


__all__ = ["BacktestConfig", "NoDataInWindow", "check_window"]
