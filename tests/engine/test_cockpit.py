"""The gate-closure cockpit on a real kernel and a simulated clock.

A real :class:`~engine.runtime.Runtime` (SQLite store, memory bus) hosts two
strategies in DE: ``bidder`` sends its day-ahead orders before the gate,
``sleeper`` never does. The clock crosses the day-ahead gate closure of
2026-12-04 (12:00 CET on 12-03 = 11:00 UTC); the board's countdown, the orders in,
the publication status and the alerts are checked on each side of it, and the
alerts are read back from the bus and the store, where the kernel put them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.bus.memory import MemoryBus
from engine.clock import SimClock
from engine.cockpit.board import GateBoard
from engine.cockpit.component import CockpitComponent
from engine.cockpit.orders import ManagerOrders
from engine.cockpit.rows import GateRow
from engine.events import ALERTS, Alert, Event, PriceKind, PriceTick, Trade
from engine.market.timeline import MarketTimeline, Product
from engine.runtime import Runtime
from engine.store.sqlite import SqliteStore
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from tests.stubs.scripted_feed import ScriptedFeed

GATE = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)  # 12:00 CET: day-ahead gate for 12-04
PUBLICATION = GATE + timedelta(minutes=45)  # 12:45 CET
TODAY = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # 12-03 00:00 CET
TOMORROW = TODAY + timedelta(days=1)


class Bidder(Strategy):
    """Sends one day-ahead order for the first quarter-hour of the next delivery day."""

    kind = "bidder"

    def __init__(self) -> None:
        super().__init__(StrategyConfig(markets=("DE",)), "bidder")
        self.sent = False

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        if self.sent:
            return
        auction = ctx.timeline.next_day_ahead("DE", ctx.now)
        ctx.submit(
            Order(
                market="DE",
                side=Side.BUY,
                volume_mwh=1.0,
                reason="test",
                product=Product.DAY_AHEAD,
                delivery_start=auction.delivery_start,
                delivery_minutes=15,
            )
        )
        self.sent = True


class Sleeper(Strategy):
    """Runs and never bids."""

    kind = "sleeper"

    def __init__(self) -> None:
        super().__init__(StrategyConfig(), "sleeper")


def intraday(at: datetime) -> PriceTick:
    return PriceTick(ts=at, market="DE", price_eur_mwh=80.0, kind=PriceKind.INTRADAY)


def day_ahead(day_start: datetime, price: float = 70.0) -> list[PriceTick]:
    return [
        PriceTick(ts=day_start + timedelta(minutes=15 * q), market="DE", price_eur_mwh=price,
                  kind=PriceKind.DAY_AHEAD, delivery_minutes=15)
        for q in range(96)
    ]  # fmt: skip


class Engine:
    """The runtime, its clock and its cockpit; ``at(when, events)`` runs one batch then."""

    def __init__(
        self, runtime: Runtime, clock: SimClock, cockpit: CockpitComponent, path: Path
    ) -> None:
        self.path = path
        self.runtime = runtime
        self.clock = clock
        self.cockpit = cockpit

    async def at(self, when: datetime, events: Sequence[Event] = ()) -> list[Event]:
        self.clock.advance_to(when)
        return await self.runtime.kernel.process([intraday(when), *events])

    def gate(self, auction: str = "DA") -> GateRow:
        (market,) = self.cockpit.snapshot(self.clock.now()).markets
        return next(row for row in market.gates if row.auction == auction)

    def publication(self) -> str:
        (market,) = self.cockpit.snapshot(self.clock.now()).markets
        assert market.publication is not None
        return market.publication.status


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    start = GATE - timedelta(minutes=30)
    clock = SimClock(start)
    manager = StrategyManager(
        [Bidder(), Sleeper()], ManagerConfig(price_kind=PriceKind.INTRADAY, id_prefix="t/")
    )
    for name in manager.names:
        manager.start(name, now=start, actor="test")
    board = GateBoard(MarketTimeline(), ("DE",), ManagerOrders(manager))
    cockpit = CockpitComponent(board)
    runtime = Runtime(
        feed=ScriptedFeed([]),
        clock=clock,
        bus=MemoryBus(),
        store=SqliteStore(tmp_path / "cockpit.db"),
        components=[manager, cockpit],
    )
    await runtime.start()
    yield Engine(runtime, clock, cockpit, tmp_path / "cockpit.db")
    await runtime.close()


def alerts_of(events: Sequence[Event], rule: str) -> list[Alert]:
    return [e for e in events if isinstance(e, Alert) and e.rule == rule]


async def test_crossing_the_gate_with_and_without_orders_in(engine: Engine) -> None:
    subscription = await engine.runtime.bus.subscribe([ALERTS], name="test", lossless=True)
    # Today's prices were published yesterday: the feed hands them over at the start.
    out = await engine.at(GATE - timedelta(minutes=30), day_ahead(TODAY))
    out += await engine.at(GATE - timedelta(minutes=1))

    gate = engine.gate()
    assert gate.gate_closure == GATE and gate.delivery_start == TOMORROW
    assert gate.seconds_to_gate == 60.0
    assert {s.strategy: s.orders_in for s in gate.strategies} == {"bidder": True, "sleeper": False}
    assert engine.publication() == "published"  # today's auction, closed yesterday
    ida = engine.gate("IDA1")  # 15:00 CET today, for all of tomorrow; nobody bids there
    assert ida.seconds_to_gate == 3 * 3600 + 60 and ida.strategies == ()
    assert not alerts_of(out, "gate_missed")

    out = await engine.at(GATE + timedelta(minutes=1))
    missed = alerts_of(out, "gate_missed")
    assert [a.key for a in missed] == ["gate_missed:sleeper:DE:DA:2026-12-04"]
    assert "sleeper" in missed[0].message and "12:00 CET" in missed[0].message
    assert missed[0].market == "DE"
    after = engine.gate()
    assert after.delivery_start == TOMORROW + timedelta(days=1)
    assert after.seconds_to_gate == 24 * 3600 - 60
    assert engine.publication() == "awaiting"  # the auction that just closed, due 12:45

    later = []
    for minutes in range(5, 45, 5):
        later += await engine.at(GATE + timedelta(minutes=minutes))
    assert not alerts_of(later, "gate_missed")  # once per strategy and auction
    assert engine.publication() == "awaiting"

    published = await engine.at(PUBLICATION, day_ahead(TOMORROW, price=65.0))
    assert engine.publication() == "published"
    fills = [t for t in published if isinstance(t, Trade) and t.strategy == "bidder"]
    assert [f.price_eur_mwh for f in fills] == [65.0]  # its order was in, and cleared
    later = [e for m in (20, 40) for e in await engine.at(PUBLICATION + timedelta(minutes=m))]
    assert not alerts_of(published + later, "publication_late")

    delivered = await subscription.next_batch(timeout=1.0)
    assert [a.rule for a in delivered if isinstance(a, Alert)] == ["gate_missed"]
    await engine.runtime.close()  # flushes the writer
    store = SqliteStore(engine.path)
    await store.open()
    try:
        stored = await store.alerts(10)
    finally:
        await store.close()
    assert [a.key for a in stored] == ["gate_missed:sleeper:DE:DA:2026-12-04"]


async def test_results_not_in_by_publication_and_grace_are_late_and_alert_once(
    engine: Engine,
) -> None:
    await engine.at(GATE - timedelta(minutes=30), day_ahead(TODAY))
    await engine.at(GATE + timedelta(minutes=1))
    out = await engine.at(PUBLICATION + timedelta(minutes=14))
    assert engine.publication() == "awaiting" and not alerts_of(out, "publication_late")

    out = await engine.at(PUBLICATION + timedelta(minutes=15))
    assert engine.publication() == "late"
    (late,) = alerts_of(out, "publication_late")
    assert late.key == "publication_late:DE:2026-12-04" and "13:00 CET" in late.message
    again = [e for m in (20, 30, 60) for e in await engine.at(PUBLICATION + timedelta(minutes=m))]
    assert not alerts_of(again, "publication_late")
    assert engine.publication() == "late"

    # Decoupled results arriving after all: published, and no further alert.
    out = await engine.at(PUBLICATION + timedelta(minutes=70), day_ahead(TOMORROW))
    assert engine.publication() == "published" and not alerts_of(out, "publication_late")
