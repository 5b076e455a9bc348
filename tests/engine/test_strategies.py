"""Strategies, their execution model and their host, checked on small hand-computed cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from engine.battery import BatterySpec
from engine.events import (
    AuditEntry,
    BatteryState,
    Event,
    Forecast,
    Fundamentals,
    PriceKind,
    PriceTick,
    StrategyStatus,
    Trade,
)
from engine.spread_config import SpreadConfig
from engine.spreads import SpreadEngine
from engine.strategies.arbitrage import ArbitrageConfig, ArbitrageStrategy
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.battery import BatteryStrategy, BatteryStrategyConfig
from engine.strategies.execution import Account, Book, ExecutionConfig, ExecutionModel
from engine.strategies.fundamental import FundamentalConfig, FundamentalStrategy
from engine.strategies.mining import MiningConfig, MiningStrategy, break_even_eur_mwh
from engine.strategies.ml import MlConfig, MlStrategy
from engine.strategies.registry import KINDS, build, parse_names
from engine.strategies.technical import TechnicalConfig, TechnicalStrategy
from engine.strategy_config import ManagerConfig
from engine.strategy_manager import StrategyManager
from engine.strategy_slot import StrategyState

T0 = datetime(2021, 3, 1, tzinfo=UTC)
FREE = ExecutionConfig(fee_eur_mwh=0.0, slippage_eur_mwh=0.0, impact_eur_mwh_per_mwh=0.0)
DA = PriceKind.DAY_AHEAD


def da(market: str, price: float, hour: float) -> PriceTick:
    return PriceTick(
        ts=T0 + timedelta(hours=hour),
        market=market,
        price_eur_mwh=price,
        kind=DA,
        delivery_minutes=60,
        source="test",
    )


def host(*strategies: Strategy, execution: ExecutionConfig = FREE, **config) -> StrategyManager:
    manager = StrategyManager(
        strategies, ManagerConfig(price_kind=DA, execution=execution, id_prefix="t/", **config)
    )
    for strategy in strategies:
        manager.start(strategy.name, now=T0, actor="test")
    return manager


def feed(manager: StrategyManager, events: Sequence[Event], *components) -> list[Event]:
    """Run ``components`` (a spread engine, say) then the manager, one batch per instant."""
    out: list[Event] = []
    by_ts: dict[datetime, list[Event]] = {}
    for event in events:
        by_ts.setdefault(event.ts, []).append(event)
    for ts, batch in sorted(by_ts.items()):
        outgoing = list(batch)
        for component in components:
            outgoing += component.on_events(outgoing, ts)
        out += manager.on_events(outgoing, ts)
    return out


def trades_of(events: list[Event]) -> list[Trade]:
    return [e for e in events if isinstance(e, Trade)]


# -- books and execution ---------------------------------------------------------------


def test_book_opening_fills_realise_nothing_and_capitalise_their_costs():
    book = Book()
    assert book.fill(10.0, 50.0, costs_eur=2.0) == 0.0
    assert book.avg_eur_mwh == pytest.approx(50.2)
    assert book.fill(-4.0, 60.0, costs_eur=1.0) == pytest.approx(4 * (60 - 50.2) - 1.0)
    assert book.qty_mwh == pytest.approx(6.0)
    assert book.avg_eur_mwh == pytest.approx(50.2)  # reducing keeps the basis


def test_book_short_and_flip_through_zero():
    book = Book()
    book.fill(-10.0, 80.0, costs_eur=0.0)
    # Buy 15: closes 10 (80 − 70 = +10 each), opens 5 long at 70; costs split 10:5.
    assert book.fill(15.0, 70.0, costs_eur=3.0) == pytest.approx(100.0 - 2.0)
    assert book.qty_mwh == pytest.approx(5.0)
    assert book.avg_eur_mwh == pytest.approx(70.0 + 1.0 / 5)


def test_battery_book_realises_cash_through_the_losses():
    """Charge 10 MWh at 20 (η 0.9 each way, wear 5, fee 0.1), sell what is left at 80."""
    book = Book()
    fee, wear = 0.1, 5.0
    assert book.fill(10 * 0.9, 20 / 0.9, costs_eur=10 * (fee + wear)) == 0.0
    sold = 9 * 0.9  # the cells hold 9 MWh; 8.1 reach the grid
    pnl = book.fill(-sold / 0.9, 80 * 0.9, costs_eur=sold * (fee + wear))
    cash = -10 * 20 - 10 * (fee + wear) + sold * 80 - sold * (fee + wear)
    assert pnl == pytest.approx(cash)
    assert book.qty_mwh == pytest.approx(0.0)


def test_fill_prices_move_against_the_order_and_pay_fees():
    model = ExecutionModel(ExecutionConfig(fee_eur_mwh=0.1, slippage_eur_mwh=0.5))
    account = Account()
    order = Order(market="DE", side=Side.BUY, volume_mwh=10.0, reason="test")
    fill = model.fill(order, 10.0, 50.0, account, T0)
    assert fill.price_eur_mwh == pytest.approx(50.0 + 0.5 + 0.001 * 10)
    assert fill.fee_eur == pytest.approx(1.0)
    assert fill.pnl_eur == 0.0 and account.held("DE") == 10.0


def test_limits_clip_volume_position_capacity_and_power():
    config = ExecutionConfig(
        max_order_mwh=50, max_position_mwh=80, border_capacity_mw={"DE-FR": 30}
    )
    model = ExecutionModel(config)
    account = Account()
    big = Order(market="DE", side=Side.BUY, volume_mwh=100.0, reason="t")
    assert model.room_mwh(big, account, T0) == (50.0, "max order size")
    model.fill(big, 50.0, 40.0, account, T0)
    assert model.room_mwh(big, account, T0) == (30.0, "position limit")
    selling = Order(market="DE", side=Side.SELL, volume_mwh=100.0, reason="t")
    assert model.room_mwh(selling, account, T0)[0] == 50.0  # reducing is fine, up to max order
    leg = Order(market="DE", side=Side.BUY, volume_mwh=25.0, reason="t", book="x", border="DE-FR")
    model.fill(leg, 25.0, 40.0, account, T0)
    assert model.room_mwh(leg, account, T0) == (5.0, "DE-FR capacity")  # 30 MW x 1 h − 25
    assert model.room_mwh(leg, account, T0 + timedelta(hours=1))[0] == 25.0  # a new period
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
    assert model.room_mwh(quarter, account, T0) == (1.0, "bess power")  # 4 MW x 15 min


def test_a_limit_price_refuses_the_fill():
    manager = host(Recorder(), execution=ExecutionConfig(slippage_eur_mwh=1.0))
    manager.on_events([da("DE", 50.0, 0)], T0)
    slot = manager._slots["recorder"]
    order = Order(market="DE", side=Side.BUY, volume_mwh=1.0, reason="t", limit_price_eur_mwh=50.5)
    assert slot.submit(order) == []
    assert manager.account("recorder").rejected == 1


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


def test_start_stop_and_kill_are_audited_and_stop_closes_positions():
    technical = TechnicalStrategy(TechnicalConfig(indicator="bollinger", bollinger_window=4))
    mining = MiningStrategy()
    manager = StrategyManager([technical, mining], ManagerConfig(price_kind=DA, execution=FREE))
    started = manager.start("technical", now=T0, actor="user:tui", reason="because")
    audit = [e for e in started if isinstance(e, AuditEntry)]
    assert [(a.actor, a.action, a.strategy, a.reason) for a in audit] == [
        ("user:tui", "start", "technical", "because")
    ]
    assert started[-1] == StrategyStatus(
        ts=T0, strategy="technical", state="running", last_action="started by user:tui"
    )
    prices = [50, 52, 48, 50, 20]  # a dip far below the band: go long
    feed(manager, [da("DE", p, h) for h, p in enumerate(prices)])
    assert manager.account("technical").held("DE") == 10.0
    stopped = manager.stop("technical", now=T0 + timedelta(hours=5), actor="user:tui")
    closing = trades_of(stopped)
    assert [(t.side, t.volume_mwh, t.reason) for t in closing] == [
        ("sell", 10.0, "close-out: strategy stopped")
    ]
    assert manager.account("technical").held("DE") == 0.0
    assert manager.state("technical") is StrategyState.STOPPED
    killed = manager.stop_all(now=T0 + timedelta(hours=6))
    assert [(a.action, a.strategy) for a in killed if isinstance(a, AuditEntry)] == [("kill", "*")]
    with pytest.raises(KeyError, match="no strategy 'nope'"):
        manager.start("nope", now=T0, actor="x")


def test_every_trade_has_an_audit_entry():
    manager = host(MiningStrategy())
    out = feed(manager, [da("DE", 30.0, 0), da("DE", 200.0, 1)])
    trades = trades_of(out)
    audit = [e for e in out if isinstance(e, AuditEntry)]
    assert len(trades) == 1
    assert [(a.action, a.ref, a.actor) for a in audit] == [
        ("trade", trades[0].trade_id, "strategy:mining")
    ]
    assert trades[0].trade_id == "t/mining-0000001"


class Exploding(Strategy):
    kind = "exploding"

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        raise RuntimeError("boom")


def test_a_failing_strategy_is_stopped_in_error_and_the_others_go_on():
    manager = host(Exploding(StrategyConfig()), MiningStrategy())
    out = feed(manager, [da("DE", 30.0, 0), da("DE", 31.0, 1)])
    assert manager.state("exploding") is StrategyState.ERROR
    errors = [e for e in out if isinstance(e, AuditEntry) and e.action == "error"]
    assert len(errors) == 1 and "boom" in errors[0].reason
    assert len(trades_of(out)) == 2  # mining kept trading


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
    out = manager.on_events([da("DE", 10.0, 0)], T0)
    first = next(a for a in out if isinstance(a, AuditEntry))
    assert (first.actor, first.action) == ("system:autostart", "start")
    assert len(trades_of(out)) == 1


# -- the strategies ----------------------------------------------------------------------


def test_mining_runs_below_break_even_minus_margin_and_books_mining_profit():
    config = MiningConfig(hash_price_eur_per_th_day=0.06, efficiency_j_per_th=25.0, power_mw=10.0)
    assert config.break_even_eur_mwh == pytest.approx(break_even_eur_mwh(0.06, 25.0)) == 100.0
    execution = ExecutionConfig(fee_eur_mwh=0.1, slippage_eur_mwh=0.5, impact_eur_mwh_per_mwh=0)
    manager = host(MiningStrategy(config), execution=execution)
    out = feed(manager, [da("DE", p, h) for h, p in enumerate([90.0, 96.0, 94.9, 150.0])])
    trades = trades_of(out)
    assert [t.ts.hour for t in trades] == [0, 2]  # 96 is within the 5 € margin
    first = trades[0]
    assert first.price_eur_mwh == pytest.approx(90.5)
    assert first.pnl_eur == pytest.approx((100.0 - 90.5) * 10 - 1.0)


def test_arbitrage_buys_low_sells_high_net_of_transmission_capped_by_capacity():
    spreads = SpreadEngine(SpreadConfig(markets=("DE", "FR"), price_kind=DA))
    arbitrage = ArbitrageStrategy(ArbitrageConfig(volume_mw=100.0, min_net_spread_eur_mwh=5.0))
    execution = ExecutionConfig(
        fee_eur_mwh=0.0,
        slippage_eur_mwh=0.0,
        impact_eur_mwh_per_mwh=0.0,
        border_capacity_mw={"DE-FR": 40.0},
    )
    manager = host(arbitrage, execution=execution)
    prices = [(50.0, 70.0), (50.0, 53.0), (80.0, 60.0), (40.0, 40.0)]
    events = [
        da(m, p, h)
        for h, pair in enumerate(prices)
        for m, p in zip(("DE", "FR"), pair, strict=True)
    ]
    trades = trades_of(feed(manager, events, spreads))
    cost = 1.0  # DE-FR transmission (engine.spread_config)
    # hour 0: DE→FR, net 19, capped at 40 MW. hour 1: net 2 < 5. hour 2: FR→DE,
    # net 19 on a border with the default capacity (500 MW): 100 MW. hour 3: flat.
    assert [(t.ts.hour, t.market, t.side, t.volume_mwh) for t in trades] == [
        (0, "DE", "buy", 40.0),
        (0, "FR", "sell", 40.0),
        (2, "FR", "buy", 100.0),
        (2, "DE", "sell", 100.0),
    ]
    assert trades[1].pnl_eur == pytest.approx(40 * (70 - 50 - cost))
    assert trades[3].pnl_eur == pytest.approx(100 * (80 - 60 - cost))
    assert trades[0].pnl_eur == trades[2].pnl_eur == 0.0


def test_arbitrage_never_pairs_prices_of_different_hours():
    spreads = SpreadEngine(SpreadConfig(markets=("DE", "FR"), price_kind=DA, max_price_age_s=7200))
    manager = host(ArbitrageStrategy())
    # FR lags an hour behind: DE at hour 1 against FR at hour 0 is no trade.
    events = [da("DE", 50.0, 0), da("DE", 10.0, 1), da("FR", 70.0, 0.5)]
    trades = trades_of(feed(manager, events, spreads))
    assert trades == []


def test_technical_bollinger_goes_long_on_a_dip_and_flat_at_the_mean():
    strategy = TechnicalStrategy(TechnicalConfig(indicator="bollinger", bollinger_window=4))
    manager = host(strategy)
    prices = [50, 52, 48, 50, 20, 35, 60]
    trades = trades_of(feed(manager, [da("DE", p, h) for h, p in enumerate(prices)]))
    assert [(t.side, t.price_eur_mwh, t.pnl_eur) for t in trades] == [
        ("buy", 20.0, 0.0),
        ("sell", 60.0, pytest.approx(10 * (60 - 20))),
    ]


@pytest.mark.parametrize(
    ("indicator", "prices", "sides"),
    [
        ("ma_cross", [10, 10, 10, 20, 30, 40, 10, 0, 0], ["buy", "sell"]),
        ("rsi", [50, 49, 48, 47, 46, 45, 44, 50, 60], ["buy", "sell"]),
    ],
)
def test_technical_ma_cross_and_rsi(indicator, prices, sides):
    config = TechnicalConfig(
        indicator=indicator, fast_window=2, slow_window=3, rsi_window=3, rsi_low=30, rsi_high=70
    )
    manager = host(TechnicalStrategy(config))
    trades = trades_of(feed(manager, [da("DE", p, h) for h, p in enumerate(prices)]))
    assert [t.side for t in trades][: len(sides)] == sides


def test_ml_trades_a_forecast_outside_its_band_and_closes_at_the_target():
    manager = host(MlStrategy(MlConfig(volume_mwh=5.0)))
    target = T0 + timedelta(hours=3)

    def forecast(price, lower, upper, hour):
        return Forecast(
            ts=T0 + timedelta(hours=hour),
            market="DE",
            target_ts=target,
            horizon_steps=3,
            price_eur_mwh=price,
            lower_eur_mwh=lower,
            upper_eur_mwh=upper,
            model_id="xgb",
        )

    events: list[Event] = [
        da("DE", 50.0, 0),
        forecast(55.0, 45.0, 65.0, 0),  # inside the band: nothing
        da("DE", 50.0, 1),
        forecast(80.0, 70.0, 90.0, 1),  # lower bound above the price: buy
        da("DE", 60.0, 2),
        da("DE", 75.0, 3),  # the target hour: close
    ]
    trades = trades_of(feed(manager, events))
    assert [(t.side, t.ts.hour, t.pnl_eur) for t in trades] == [
        ("buy", 1, 0.0),
        ("sell", 3, pytest.approx(5 * (75 - 50))),
    ]


def test_fundamental_sells_a_price_far_above_fair_value():
    config = FundamentalConfig(warmup=24, entry_eur_mwh=20, exit_eur_mwh=5, forgetting=1.0)
    strategy = FundamentalStrategy(config)
    manager = host(strategy)
    events: list[Event] = []
    for h in range(30):
        share = 0.2 + 0.6 * (h % 6) / 5  # renewables share 20 %..80 %
        fair = 100 - 100 * share
        events.append(
            Fundamentals(
                ts=T0 + timedelta(hours=h),
                market="DE",
                load_mw=50_000.0,
                wind_mw=50_000 * share,
                solar_mw=0.0,
            )
        )
        price = fair + (60.0 if h == 27 else 0.0)  # one hour far above its fair value
        events.append(da("DE", price, h))
    trades = trades_of(feed(manager, events))
    hours = [(t.side, (t.ts - T0) // timedelta(hours=1)) for t in trades]
    assert hours == [("sell", 27), ("buy", 28)]  # back within 5 € of fair: flat
    assert strategy.fair_value["DE"][1] == pytest.approx(20.0, abs=5)  # share 80 %


def test_battery_charges_cheap_discharges_dear_within_its_limits():
    spec = BatterySpec(battery_id="b1", market="DE", capacity_mwh=2.0, power_mw=1.0)
    config = BatteryStrategyConfig(
        spec=spec, controller="rule", rule_lookback_hours=4, rule_lookahead_hours=0
    )
    battery = BatteryStrategy(config)
    manager = host(battery)
    day = [30, 30, 30, 30, 10, 10, 10, 100, 100, 100, 30, 30]
    out = feed(manager, [da("DE", p, h) for h, p in enumerate(day)] + [da("FR", 500.0, 5)])
    states = [e for e in out if isinstance(e, BatteryState)]
    trades = trades_of(out)
    assert len(states) == len(day)  # one state per hour, none for FR
    assert all(spec.soc_min_mwh - 1e-9 <= s.soc_mwh <= spec.soc_max_mwh + 1e-9 for s in states)
    assert all(t.volume_mwh <= spec.power_mw + 1e-9 for t in trades)
    buys = [t for t in trades if t.side == "buy"]
    sells = [t for t in trades if t.side == "sell"]
    assert buys and sells
    assert max(t.price_eur_mwh for t in buys) < min(t.price_eur_mwh for t in sells)
    assert sum(t.pnl_eur for t in trades) > 0
    assert states[-1].revenue_eur == pytest.approx(sum(t.pnl_eur for t in trades))


def test_battery_rl_controller_must_be_injected():
    with pytest.raises(ValueError, match="needs a policy"):
        BatteryStrategy(BatteryStrategyConfig(controller="rl"))


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
