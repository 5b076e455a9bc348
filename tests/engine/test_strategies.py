"""Strategies' execution model and their host, checked on small hand-computed cases.

The execution model (room per delivery period, fees, limits), the manager
(look-ahead, lifecycle, audit) and arbitrage. The battery, technical, ML,
fundamental and mining strategies have their own tests in
``tests/engine/strategies/``; the shared builders are in
:mod:`tests.stubs.strategy_host`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest

from engine.events import (
    AuditEntry,
    Event,
    Forecast,
    PriceTick,
    StrategyStatus,
)
from engine.market.timeline import Product
from engine.spreads.config import SpreadConfig
from engine.spreads.engine import SpreadEngine
from engine.strategies.arbitrage import ArbitrageConfig, ArbitrageStrategy
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.config import ManagerConfig
from engine.strategies.execution import Account, ExecutionConfig, ExecutionModel, period_start_us
from engine.strategies.manager import StrategyManager
from engine.strategies.mining import MiningStrategy
from engine.strategies.registry import KINDS, build, parse_names
from engine.strategies.slot import StrategyState
from engine.strategies.technical import TechnicalConfig, TechnicalStrategy
from tests.stubs.strategy_host import (
    DA,
    DAY_D,
    FREE,
    GATE_BAR,
    ID,
    T0,
    at,
    da,
    feed,
    fills_of,
    host,
    hours_of,
    intraday,
    settles_of,
    trades_of,
)

HOUR_US = 3_600_000_000


# -- execution: prices, fees and limits per delivery period ------------------------------


def test_fill_prices_move_against_the_order_and_pay_fees_and_asset_costs():
    model = ExecutionModel(ExecutionConfig(fee_eur_mwh=0.1, slippage_eur_mwh=0.5))
    account = Account()
    order = Order(market="DE", side=Side.BUY, volume_mwh=10.0, reason="t", extra_cost_eur_mwh=2.0)
    price = model.price(order, 50.0, 10.0)
    assert price == pytest.approx(50.0 + 0.5 + 0.001 * 10)  # half the spread, then depth
    sell = Order(market="DE", side=Side.SELL, volume_mwh=10.0, reason="t")
    assert model.price(sell, 50.0, 10.0) == pytest.approx(50.0 - 0.5 - 0.001 * 10)
    period = period_start_us(T0, 60)
    fill = model.fill(order, 10.0, price, account, period, Product.INTRADAY)
    assert fill.fee_eur == pytest.approx((0.1 + 2.0) * 10)  # exchange fee + the asset's own cost
    assert fill.pnl_eur == 0.0  # a fill realises nothing: its period has not been delivered
    assert account.ledger.held("DE", period) == 10.0 and account.held("DE") == 10.0
    assert (account.trades, account.volume_mwh) == (1, 10.0)
    assert account.fees_eur == pytest.approx(21.0)


def test_limits_clip_volume_and_position_per_delivery_period():
    model = ExecutionModel(ExecutionConfig(max_order_mwh=50, max_position_mwh=80))
    account = Account()
    first, second = period_start_us(T0, 60), period_start_us(T0, 60) + HOUR_US
    big = Order(market="DE", side=Side.BUY, volume_mwh=100.0, reason="t")
    assert model.room_mwh(big, account, first) == (50.0, "max order size")
    model.fill(big, 50.0, 40.0, account, first, Product.INTRADAY)
    assert model.room_mwh(big, account, first) == (30.0, "position limit")  # 80 − 50 held
    assert model.room_mwh(big, account, second) == (50.0, "max order size")  # another period
    selling = Order(market="DE", side=Side.SELL, volume_mwh=100.0, reason="t")
    assert model.room_mwh(selling, account, first)[0] == 50.0  # reducing: up to max order
    mine = Order(market="DE", side=Side.BUY, volume_mwh=100.0, reason="t", consume_value_eur_mwh=1)
    assert model.room_mwh(mine, account, first)[0] == 50.0  # consumed: no position to limit


def test_border_capacity_and_asset_power_are_shared_per_delivery_period():
    model = ExecutionModel(ExecutionConfig(border_capacity_mw={"DE-FR": 30}))
    account = Account()
    first, second = period_start_us(T0, 60), period_start_us(T0, 60) + HOUR_US
    leg = Order(market="DE", side=Side.BUY, volume_mwh=25.0, reason="t", book="x", border="DE-FR")
    model.take(leg, 25.0, first)
    assert model.room_mwh(leg, account, first) == (5.0, "DE-FR capacity")  # 30 MW x 1 h − 25
    assert model.room_mwh(leg, account, second)[0] == 25.0
    model.register_asset("bess", 4.0)
    quarter = Order(
        market="DE",
        side=Side.SELL,
        volume_mwh=5.0,
        reason="t",
        book="b",
        asset="bess",
        delivery_minutes=15,
    )
    assert model.room_mwh(quarter, account, first) == (1.0, "bess power")  # 4 MW x 15 min
    model.take(quarter, 1.0, first)
    assert model.room_mwh(quarter, account, first) == (0.0, "bess power")
    assert model.room_mwh(quarter, account, first + HOUR_US // 4)[0] == 1.0  # the next quarter


def test_a_limit_price_refuses_an_intraday_fill_after_slippage():
    manager = host(Recorder(), execution=ExecutionConfig(slippage_eur_mwh=1.0), kind=ID)
    manager.on_events([intraday("DE", 50.0, 0)], T0)
    slot = manager._slots["recorder"]
    order = Order(market="DE", side=Side.BUY, volume_mwh=1.0, reason="t", limit_price_eur_mwh=50.5)
    assert slot.submit(order) == []  # 50 + 1 slippage is worse than the limit
    assert manager.account("recorder").rejections == {"no room": 1}
    assert (
        slot.submit(msgspec.structs.replace(order, limit_price_eur_mwh=51.5))[0].price_eur_mwh
        == 51.001
    )


# -- the manager: look-ahead, lifecycle, audit ------------------------------------------


class Recorder(Strategy):
    """Records what it is given and what it could see at that moment."""

    kind = "recorder"
    wants = (PriceTick, Forecast)

    def __init__(self, name: str = "recorder") -> None:
        super().__init__(StrategyConfig(), name)
        self.seen: list[tuple[datetime, datetime, dict[str, datetime | None]]] = []

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        peek = {m: ctx.price_ts(m) for m in ("DE", "FR", "NL")}
        self.seen.append((event.ts, ctx.now, peek))


def test_a_strategy_never_gets_an_event_from_its_future():
    recorder = Recorder()
    manager = host(recorder)
    tomorrow = da("DE", 99.0, 30)  # a day-ahead price for tomorrow: valid, but in the future
    batch = [da("DE", 50.0, 0), tomorrow, da("FR", 60.0, 0)]
    manager.on_events(batch, T0)
    assert [ts for ts, _, _ in recorder.seen] == [T0, T0]
    manager.on_timer(T0 + timedelta(hours=29))
    assert len(recorder.seen) == 2  # still held
    manager.on_events([da("DE", 51.0, 30.5)], T0 + timedelta(hours=31))
    assert [ts for ts, _, _ in recorder.seen][2:] == [tomorrow.ts, T0 + timedelta(hours=30.5)]
    for event_ts, now, peek in recorder.seen:
        assert event_ts <= now
        assert all(ts is None or ts <= now for ts in peek.values())


def test_within_a_batch_a_strategy_sees_only_up_to_the_event_in_hand():
    recorder = Recorder()
    manager = host(recorder)
    batch = [da(m, 40.0 + h, h) for h in range(48) for m in ("DE", "FR")]
    manager.on_events(batch, batch[-1].ts)  # the clock stands at the end of the batch
    assert len(recorder.seen) == 96
    for event_ts, now, peek in recorder.seen:
        assert now == event_ts  # not the batch's end
        assert all(ts is None or ts <= event_ts for ts in peek.values())


def test_one_batch_of_many_instants_fills_and_clears_as_one_instant_at_a_time():
    """A backtest hands over 10,000 ticks a batch: fills must not see the batch's end."""

    def run(batched: bool) -> list[tuple[object, ...]]:
        technical = TechnicalStrategy(TechnicalConfig(indicator="bollinger", bollinger_window=4))
        mining = MiningStrategy()
        id_manager = host(technical, kind=ID)
        da_manager = host(mining)
        ticks = [intraday("DE", float(p), 9 + 0.25 * i) for i, p in enumerate([50, 52, 48, 50])]
        ticks += [intraday("DE", 20.0, 10), intraday("DE", 60.0, 10.25), intraday("DE", 50, 12)]
        prices = [da("DE", 30.0 + h, h) for h in range(DAY_D + 25)]
        if batched:
            out = id_manager.on_events(ticks, ticks[-1].ts)
            out += da_manager.on_events(prices, prices[-1].ts)
        else:
            out = feed(id_manager, ticks) + feed(da_manager, prices)
        return [(t.trade_id, t.ts, t.side, t.price_eur_mwh, t.pnl_eur) for t in trades_of(out)]

    one_at_a_time = run(batched=False)
    # The intraday round trip at 20 then 60, and mining's day-ahead bids for D, all filled.
    assert [t[3] for t in one_at_a_time[:2]] == [20.0, 60.0]
    assert sum(t[2] == "buy" for t in one_at_a_time) == 1 + 24 + 1  # D, and D+1's first hour
    assert run(batched=True) == one_at_a_time


def test_start_stop_and_kill_are_audited_and_stop_closes_what_intraday_still_allows():
    technical = TechnicalStrategy(TechnicalConfig(indicator="bollinger", bollinger_window=4))
    mining = MiningStrategy()
    manager = StrategyManager([technical, mining], ManagerConfig(price_kind=ID, execution=FREE))
    started = manager.start("technical", now=T0, actor="user:tui", reason="because")
    audit = [e for e in started if isinstance(e, AuditEntry)]
    assert [(a.actor, a.action, a.strategy, a.reason) for a in audit] == [
        ("user:tui", "start", "technical", "because")
    ]
    assert started[-1] == StrategyStatus(
        ts=T0, strategy="technical", state="running", last_action="started by user:tui"
    )
    prices = [(9.0, 50), (9.25, 52), (9.5, 48), (9.75, 50), (10.0, 20)]  # a dip: go long
    feed(manager, [intraday("DE", float(p), h) for h, p in prices])
    eleven = at(11)
    assert manager.account("technical").ledger.held("DE", period_start_us(eleven, 60)) == 10.0
    stopped = manager.stop("technical", now=at(10), actor="user:tui")
    closing = trades_of(stopped)
    # 11:00 is still open on intraday (until 10:30): sold back at the latest price.
    assert [(t.side, t.volume_mwh, t.delivery_start, t.reason) for t in closing] == [
        ("sell", 10.0, eleven, "close-out: strategy stopped")
    ]
    assert manager.account("technical").held("DE") == 0.0
    assert manager.state("technical") is StrategyState.STOPPED
    killed = manager.stop_all(now=at(11))
    assert [(a.action, a.strategy) for a in killed if isinstance(a, AuditEntry)] == [("kill", "*")]
    with pytest.raises(KeyError, match="no strategy 'nope'"):
        manager.start("nope", now=T0, actor="x")


def test_a_stop_before_the_gate_withdraws_day_ahead_bids_after_it_they_stand_and_settle():
    before, after = MiningStrategy(name="before"), MiningStrategy(name="after")
    manager = host(before, after, execution=FREE)
    feed(manager, [da("DE", 50.0, h) for h in range(GATE_BAR + 1)])  # both bid for D at 10:00
    assert [s.pending_orders for s in manager.statuses(at(GATE_BAR))] == [24, 24]
    manager.stop("before", now=at(GATE_BAR), actor="test")  # 10:00 UTC: D's gate is open
    out = feed(manager, [da("DE", 50.0, h) for h in range(GATE_BAR + 1, 12)])
    out += manager.stop("after", now=at(12), actor="test")  # committed: nothing to undo
    assert [s.pending_orders for s in manager.statuses(at(12))] == [24, 0]
    out += feed(manager, [da("DE", 50.0, h) for h in range(12, DAY_D + 25)])
    assert {t.strategy for t in trades_of(out)} == {"after"}
    assert hours_of(fills_of(out)) == list(range(DAY_D, DAY_D + 24))
    assert len(settles_of(out)) == 24  # a stopped strategy's positions still settle


def test_every_fill_has_an_audit_entry_and_every_unfilled_bid_its_reason():
    manager = host(MiningStrategy())
    prices = [30.0 if h == DAY_D else 200.0 for h in range(DAY_D + 25)]
    out = feed(manager, [da("DE", p, h) for h, p in enumerate(prices)])
    fills = [t for t in fills_of(out) if hours_of([t])[0] < DAY_D + 24]
    audit = [e for e in out if isinstance(e, AuditEntry)]
    assert len(fills) == 1 and fills[0].trade_id == "t/mining-0000001"
    assert [(a.ref, a.actor) for a in audit if a.action == "trade"] == [
        (t.trade_id, "strategy:mining") for t in fills_of(out)
    ]
    rejects = [a for a in audit if a.action == "reject" and a.ts < at(DAY_D + 24)]  # D's
    assert len(rejects) == 23 and "not filled: cleared at 200.00, limit 106.11" in rejects[0].reason
    # The settlement is the engine's booking of a delivered fill, not a new decision.
    assert [t.trade_id for t in settles_of(out)][:1] == ["t/mining-0000002"]


class Exploding(Strategy):
    kind = "exploding"

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        raise RuntimeError("boom")


def test_a_failing_strategy_is_stopped_in_error_and_the_others_go_on():
    manager = host(Exploding(StrategyConfig()), MiningStrategy())
    out = feed(manager, [da("DE", 30.0, h) for h in range(DAY_D + 25)])
    assert manager.state("exploding") is StrategyState.ERROR
    errors = [e for e in out if isinstance(e, AuditEntry) and e.action == "error"]
    assert len(errors) == 1 and "boom" in errors[0].reason
    assert list(range(DAY_D, DAY_D + 24)) == hours_of(fills_of(out))[:24]  # mining kept trading


def test_a_stopped_strategy_gets_nothing_and_statuses_report_every_strategy():
    mining = MiningStrategy()
    manager = StrategyManager([mining], ManagerConfig(price_kind=DA, execution=FREE))
    out = manager.on_events([da("DE", 10.0, 0)], T0)
    assert trades_of(out) == []
    assert [(s.strategy, s.state) for s in out if isinstance(s, StrategyStatus)] == [
        ("mining", "stopped")
    ]


def test_autostart_starts_with_the_first_batch_and_says_who():
    manager = StrategyManager(
        [MiningStrategy()], ManagerConfig(price_kind=DA, execution=FREE, autostart=("mining",))
    )
    out = manager.on_events([da("DE", 10.0, GATE_BAR)], at(GATE_BAR))
    first = next(a for a in out if isinstance(a, AuditEntry))
    assert (first.actor, first.action) == ("system:autostart", "start")
    assert trades_of(out) == []  # it bid for D: filled when D's prices are published
    assert manager.statuses(at(GATE_BAR))[0].pending_orders == 24


# -- arbitrage and battery ---------------------------------------------------------------


def test_arbitrage_buys_a_monthly_right_not_energy_and_earns_only_what_it_pays():
    # March 2021: FR 10 € over DE, 20 € over in the last week; the April auction
    # is on 03-31 at 12:00 CEST (hour 730), April starts at hour 742 (00:00 CEST).
    arbitrage = ArbitrageStrategy(ArbitrageConfig(borders=("DE-FR",), volume_mw=100.0))
    manager = host(arbitrage)
    events = [
        da(market, price, hour)
        for hour in range(745)
        for market, price in (
            ("DE", 50.0),
            ("FR", 80.0 if hour >= 742 else 70.0 if hour >= 562 else 60.0),
        )
    ]
    trades = trades_of(feed(manager, events))
    purchase, *settles = trades
    assert (purchase.market, purchase.side, purchase.volume_mwh, purchase.pnl_eur) == (
        "DE-FR",
        "buy",
        0.0,
        0.0,
    )
    assert purchase.ts == at(729)  # the last bar before the auction
    # March's mean payoff, known at the auction: hours 0-561 at 10 €, 562-729 at 20 €.
    price = (562 * 10.0 + 168 * 20.0) / 730
    assert purchase.price_eur_mwh == pytest.approx(price)
    # April's first three hours pay 30 € each on 100 MW, less the right's price.
    assert [t.delivery_start for t in settles] == [at(742), at(743), at(744)]
    assert [t.pnl_eur for t in settles] == pytest.approx([100 * (30.0 - price)] * 3)
    assert all(t.volume_mwh == 0.0 for t in trades)  # no energy moved
    assert manager.statuses(at(745))[0].positions == ()


def test_arbitrage_never_trades_a_spread_it_holds_no_right_for():
    spreads = SpreadEngine(SpreadConfig(markets=("DE", "FR"), price_kind=DA))
    manager = host(ArbitrageStrategy())
    # A 20 € spread every hour, but no month of history to price a right on and
    # no auction in these hours: the congestion rent is the TSOs', not the strategy's.
    events = [da(m, p, h) for h in range(6) for m, p in (("DE", 50.0), ("FR", 70.0))]
    out = feed(manager, events, spreads)
    assert trades_of(out) == [] and manager.stats.rejected == 0


def test_registry_builds_every_kind_from_mappings_and_names_bad_input():
    assert parse_names("all") == KINDS
    assert parse_names("mining, battery,mining") == ("mining", "battery")
    with pytest.raises(ValueError, match="unknown strategies"):
        parse_names("arbitrage,yolo")
    for kind in KINDS:
        assert build(kind).name == kind
    assert build("technical", {"indicator": "rsi"}).settings.indicator == "rsi"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"strategies\.mining"):
        build("mining", {"power_mw": "lots"})
