"""Orders on the market timeline: gate closure, clearing, settlement at delivery.

Hand-computed cases on the real manager, and Hypothesis properties of the
ledger: settlement conserves energy (no position outlives its delivery) and
money (Σ realised PnL = Σ money of the fills + what the deliveries were worth).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import AuditEntry, Event, PriceKind, PriceTick, Trade
from engine.market.ledger import PositionLedger
from engine.market.timeline import Product
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.config import ManagerConfig
from engine.strategies.execution import ExecutionConfig
from engine.strategies.manager import StrategyManager

# 2022-01-14 00:00 CET: delivery day 2022-01-15 closes at 11:00Z on the 14th.
T0 = datetime(2022, 1, 13, 23, tzinfo=UTC)
FEES = ExecutionConfig(fee_eur_mwh=0.10, slippage_eur_mwh=0.0, impact_eur_mwh_per_mwh=0.0)


def da(price: float, hour: int, market: str = "DE") -> PriceTick:
    return PriceTick(
        ts=T0 + timedelta(hours=hour),
        market=market,
        price_eur_mwh=price,
        kind=PriceKind.DAY_AHEAD,
        delivery_minutes=60,
        source="test",
    )


class Scripted(Strategy):
    """Sends the orders it is given at the first event at or after their time."""

    kind = "scripted"

    def __init__(self, script: list[tuple[datetime, Order]]) -> None:
        super().__init__(StrategyConfig(), "scripted")
        self.script = sorted(script, key=lambda x: x[0])

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        while self.script and self.script[0][0] <= ctx.now:
            ctx.submit(self.script.pop(0)[1])


def buy_da(hours_from_t0: int, mwh: float, limit: float | None = None) -> Order:
    return Order(
        market="DE",
        side=Side.BUY,
        volume_mwh=mwh,
        reason="test",
        product=Product.DAY_AHEAD,
        delivery_start=T0 + timedelta(hours=hours_from_t0),
        limit_price_eur_mwh=limit,
    )


def run(strategy: Strategy, ticks: list[PriceTick]) -> tuple[StrategyManager, list[Event]]:
    manager = StrategyManager(
        [strategy],
        ManagerConfig(price_kind=PriceKind.DAY_AHEAD, execution=FEES, id_prefix="t/"),
    )
    out = manager.start(strategy.name, now=T0, actor="test")
    for tick in ticks:
        out += manager.on_events([tick], tick.ts)
    return manager, out


def test_a_day_ahead_order_before_the_gate_fills_at_the_clearing_price_and_settles():
    # Hour 34 from T0 is 2022-01-15 09:00Z, delivery day 15th; sent at hour 10 (10:00Z on the 14th).
    strategy = Scripted([(T0 + timedelta(hours=10), buy_da(34, 5.0))])
    manager, out = run(strategy, [da(40.0 + h, h) for h in range(40)])
    trades = [e for e in out if isinstance(e, Trade)]
    fill, settle = trades
    assert (fill.side, fill.volume_mwh, fill.price_eur_mwh, fill.pnl_eur) == ("buy", 5.0, 74.0, 0.0)
    assert fill.product == "day_ahead" and fill.delivery_start == T0 + timedelta(hours=34)
    assert math.isclose(fill.fee_eur, 0.5)
    # A trader's position bought in the auction and held to delivery closes at
    # the same price on a day-ahead-only feed: it loses its fees, nothing else.
    assert settle.side == "settle" and math.isclose(settle.pnl_eur, -0.5)
    assert settle.ts >= T0 + timedelta(hours=35)
    assert manager.account("scripted").ledger.realised_eur == settle.pnl_eur
    assert len(manager.account("scripted").ledger) == 0  # nothing left open


def test_a_day_ahead_order_after_gate_closure_is_rejected_and_audited_with_the_reason():
    strategy = Scripted([(T0 + timedelta(hours=12), buy_da(34, 5.0))])  # 12:00Z > 11:00Z gate
    manager, out = run(strategy, [da(40.0, h) for h in range(40)])
    assert not [e for e in out if isinstance(e, Trade)]
    rejects = [e for e in out if isinstance(e, AuditEntry) and e.action == "reject"]
    assert len(rejects) == 1
    assert "gate for DE delivery 2022-01-15 09:00Z closed at 2022-01-14 11:00Z" in rejects[0].reason
    assert manager.account("scripted").rejected == 1 and manager.stats.rejected == 1


def test_a_limit_price_fills_only_at_or_better():
    strategy = Scripted(
        [
            (T0 + timedelta(hours=1), buy_da(30, 1.0, limit=60.0)),  # clears at 70: no fill
            (T0 + timedelta(hours=1), buy_da(31, 1.0, limit=80.0)),  # clears at 71: fills
        ]
    )
    _, out = run(strategy, [da(40.0 + h, h) for h in range(33)])
    fills = [e for e in out if isinstance(e, Trade) and e.side == "buy"]
    assert [(f.delivery_start, f.price_eur_mwh) for f in fills] == [
        (T0 + timedelta(hours=31), 71.0)
    ]
    assert any(
        isinstance(e, AuditEntry) and "cleared at 70.00, limit 60.00" in e.reason for e in out
    )


def test_no_intraday_market_in_a_day_ahead_feed_means_intraday_orders_are_refused():
    order = Order(market="DE", side=Side.BUY, volume_mwh=1.0, reason="test")
    _, out = run(Scripted([(T0, order)]), [da(40.0, 0)])
    rejects = [e for e in out if isinstance(e, AuditEntry) and e.action == "reject"]
    assert rejects and "no continuous intraday market for DE" in rejects[0].reason


def test_an_order_never_cleared_expires_after_delivery():
    strategy = Scripted([(T0 + timedelta(hours=1), buy_da(30, 1.0))])
    ticks = [da(40.0, h) for h in range(33) if h != 30]  # hour 30 is missing from the data
    manager, out = run(strategy, ticks)
    assert not [e for e in out if isinstance(e, Trade)]
    assert any(
        isinstance(e, AuditEntry) and "no clearing price was published" in e.reason for e in out
    )
    assert len(manager.auction_book) == 0


def test_open_positions_with_their_delivery_are_in_the_status_until_delivered():
    strategy = Scripted([(T0 + timedelta(hours=1), buy_da(30, 2.0))])
    manager, _ = run(strategy, [da(40.0, h) for h in range(31)])  # cleared, not yet delivered
    status = manager.statuses(T0 + timedelta(hours=30))[0]
    assert [(p.market, p.delivery_start, p.net_mwh) for p in status.positions] == [
        ("DE", T0 + timedelta(hours=30), 2.0)
    ]
    manager.on_events([da(40.0, 31)], T0 + timedelta(hours=31))
    assert manager.statuses(T0 + timedelta(hours=31))[0].positions == ()


# -- properties of the ledger ---------------------------------------------------------

fill_st = st.tuples(
    st.integers(0, 5),  # delivery period
    st.sampled_from(["", "battery:b1"]),  # financial or physical
    st.floats(-50, 50, allow_nan=False).filter(lambda q: abs(q) > 1e-6),
    st.floats(-500, 3000, allow_nan=False),  # price
    st.floats(0, 2, allow_nan=False),  # fee
)


@settings(max_examples=300, deadline=None)
@given(
    fills=st.lists(fill_st, min_size=1, max_size=40),
    references=st.lists(st.floats(-500, 3000, allow_nan=False), min_size=6, max_size=6),
)
def test_settlement_conserves_energy_and_money(fills, references):
    ledger = PositionLedger()
    hour = 3_600_000_000
    cash = 0.0
    delivered_value = 0.0
    energy: dict[tuple[int, str], float] = {}
    for period, book, qty, price, fee in fills:
        ledger.fill(
            market="DE",
            book=book,
            product=Product.DAY_AHEAD,
            delivery_start_us=period * hour,
            delivery_end_us=(period + 1) * hour,
            signed_mwh=qty,
            price_eur_mwh=price,
            fee_eur=fee,
        )
        cash += -qty * price - fee
        energy[(period, book)] = energy.get((period, book), 0.0) + qty
    for (period, book), qty in energy.items():
        if not book and abs(qty) >= 1e-9:
            delivered_value += qty * references[period]  # closed at the reference
    pnl = 0.0
    for period in range(6):
        for position in ledger.due((period + 1) * hour):
            assert position.delivery_end_us <= (period + 1) * hour
            assert math.isclose(position.qty_mwh, energy[(period, position.book)], abs_tol=1e-6)
            pnl += ledger.settle(position, references[period]).pnl_eur
        assert all(p.delivery_end_us > (period + 1) * hour for p in ledger)
    assert len(ledger) == 0  # every position is zero (gone) after its delivery
    assert math.isclose(pnl, cash + delivered_value, rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(ledger.realised_eur, pnl, rel_tol=1e-12, abs_tol=1e-9)


def test_an_intraday_auction_order_fills_at_its_auction_and_not_at_another():
    # Delivery 2022-01-15 09:00Z; IDA2 closes 22:00 CET on the 14th = 21:00Z (hour 22 from T0).
    delivery = T0 + timedelta(hours=34)
    order = Order(
        market="DE",
        side=Side.SELL,
        volume_mwh=2.0,
        reason="test",
        product=Product.INTRADAY_AUCTION,
        auction="IDA2",
        delivery_start=delivery,
        delivery_minutes=15,
    )
    late = msgspec.structs.replace(order, delivery_start=delivery + timedelta(minutes=15))

    def ida(kind: PriceKind, price: float, at: datetime) -> PriceTick:
        return PriceTick(
            ts=at, market="DE", price_eur_mwh=price, kind=kind, delivery_minutes=15, source="t"
        )

    strategy = Scripted(
        [(T0 + timedelta(hours=20), order), (T0 + timedelta(hours=22), late)]  # 2nd after gate
    )
    ticks = [da(40.0, h) for h in range(23)]
    manager = StrategyManager(
        [strategy], ManagerConfig(price_kind=PriceKind.DAY_AHEAD, execution=FEES, id_prefix="t/")
    )
    out = manager.start(strategy.name, now=T0, actor="test")
    for tick in ticks:
        out += manager.on_events([tick], tick.ts)
    published = T0 + timedelta(hours=22, minutes=20)
    out += manager.on_events(
        [ida(PriceKind.IDA1, 10.0, delivery), ida(PriceKind.IDA2, 55.5, delivery)], published
    )
    out += manager.on_events([da(40.0, 23)], T0 + timedelta(hours=23))  # event time moves on
    fills = [e for e in out if isinstance(e, Trade) and e.side == "sell"]
    assert [(f.product, f.price_eur_mwh, f.volume_mwh) for f in fills] == [
        ("intraday_auction", 55.5, 2.0)
    ]
    assert any(
        isinstance(e, AuditEntry) and e.action == "reject" and "closed at" in e.reason for e in out
    )
