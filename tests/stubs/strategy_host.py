"""Hosting strategies by hand in tests: prices on a fixed clock, a manager, a feed loop.

The clock of these tests: ``T0`` = 2021-03-01 00:00 UTC (01:00 CET, winter).
Delivery day 2021-03-02 runs from hour 23 to hour 47 after ``T0`` and its
day-ahead gate closes at hour 11 (12:00 CET on 03-01); a strategy commits it on
its last bar before that, hour 10. The next day's gate closes at hour 35.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from engine.events import Event, PriceKind, PriceTick, Trade
from engine.strategies.base import Strategy
from engine.strategies.config import ManagerConfig
from engine.strategies.execution import ExecutionConfig
from engine.strategies.manager import StrategyManager

T0 = datetime(2021, 3, 1, tzinfo=UTC)
FREE = ExecutionConfig(fee_eur_mwh=0.0, slippage_eur_mwh=0.0, impact_eur_mwh_per_mwh=0.0)
COSTS = ExecutionConfig(fee_eur_mwh=0.1, slippage_eur_mwh=0.5, impact_eur_mwh_per_mwh=0.0)
DA = PriceKind.DAY_AHEAD
ID = PriceKind.INTRADAY
DAY_D = 23  # hours after T0 at which delivery day 2021-03-02 starts
GATE_BAR = 10  # the last hourly bar before its gate closure (11:00 UTC)


def at(hour: float) -> datetime:
    return T0 + timedelta(hours=hour)


def da(market: str, price: float, hour: float) -> PriceTick:
    """The day-ahead price of the hour starting ``hour`` after T0 (a replay stamps it so)."""
    return PriceTick(
        ts=at(hour), market=market, price_eur_mwh=price, kind=DA, delivery_minutes=60, source="test"
    )


def intraday(market: str, price: float, hour: float) -> PriceTick:
    """A continuous intraday tick at ``hour`` after T0."""
    return PriceTick(ts=at(hour), market=market, price_eur_mwh=price, kind=ID, source="test")


def host(
    *strategies: Strategy,
    execution: ExecutionConfig = FREE,
    kind: PriceKind = DA,
    start: datetime = T0,
    **config: object,
) -> StrategyManager:
    """A manager trading ``kind`` prices with ``strategies`` started at ``start``."""
    manager = StrategyManager(
        strategies,
        ManagerConfig(price_kind=kind, execution=execution, id_prefix="t/", **config),  # type: ignore[arg-type]
    )
    for strategy in strategies:
        manager.start(strategy.name, now=start, actor="test")
    return manager


def feed(manager: StrategyManager, events: Sequence[Event], *components: object) -> list[Event]:
    """Run ``components`` (a spread engine, say) then the manager, one batch per instant."""
    out: list[Event] = []
    by_ts: dict[datetime, list[Event]] = {}
    for event in events:
        by_ts.setdefault(event.ts, []).append(event)
    for ts, batch in sorted(by_ts.items()):
        outgoing = list(batch)
        for component in components:
            outgoing += component.on_events(outgoing, ts)  # type: ignore[attr-defined]
        out += manager.on_events(outgoing, ts)
    return out


def trades_of(events: Sequence[Event]) -> list[Trade]:
    return [e for e in events if isinstance(e, Trade)]


def fills_of(events: Sequence[Event]) -> list[Trade]:
    return [t for t in trades_of(events) if t.side != "settle"]


def settles_of(events: Sequence[Event]) -> list[Trade]:
    return [t for t in trades_of(events) if t.side == "settle"]


def hours_of(trades: Sequence[Trade]) -> list[int]:
    """Each trade's delivery start, in hours after T0."""
    return [int((t.delivery_start - T0) / timedelta(hours=1)) for t in trades if t.delivery_start]
