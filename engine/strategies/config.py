"""Strategy manager configuration: how the manager runs its strategies.

This module owns :class:`ManagerConfig` (frozen; ``gridtui.wiring`` builds it
from the settings, :mod:`engine.backtest.run` from a run's config) and the counters
:class:`ManagerStats` of :class:`~engine.strategies.manager.StrategyManager`.
"""

from __future__ import annotations

import msgspec

from engine.events import PriceKind
from engine.market.timeline import TimelineConfig
from engine.strategies.execution import ExecutionConfig


class ManagerConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the manager runs its strategies.

    Attributes:
        price_kind: the prices strategies trade on and are filled at. Live:
            intraday ticks. A replay of day-ahead history: day-ahead.
        execution: fees, slippage and limits of the simulated fills.
        status_interval_s: clock seconds between routine StrategyStatus lines
            (a strategy that trades also reports at once).
        record_equity: keep an equity curve (backtests; off live).
        equity_interval_s: event-time seconds between two equity samples.
        id_prefix: prepended to trade ids (a backtest's run id; live, the
            session start), so two runs never share an id.
        max_held_events: future-stamped events held back at most; beyond it
            the oldest are dropped (and counted).
        autostart: strategies started by the manager itself with its first
            batch (actor ``system:autostart``, in the audit log like any start).
        timeline: gate closures, publication and MTUs per market (``[market]``).
    """

    price_kind: PriceKind = PriceKind.INTRADAY
    execution: ExecutionConfig = ExecutionConfig()
    status_interval_s: float = 5.0
    record_equity: bool = False
    equity_interval_s: float = 3600.0
    id_prefix: str = ""
    max_held_events: int = 200_000
    autostart: tuple[str, ...] = ()
    timeline: TimelineConfig = TimelineConfig()


class ManagerStats(msgspec.Struct, kw_only=True):
    """What the manager has done: events handed over, orders taken, fills, settlements."""

    delivered: int = 0
    held: int = 0
    held_dropped: int = 0
    bars: int = 0
    trades: int = 0
    accepted: int = 0
    rejected: int = 0
    settled: int = 0
    errors: int = 0


__all__ = ["ManagerConfig", "ManagerStats"]
