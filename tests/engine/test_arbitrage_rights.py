"""Cross-border arbitrage through monthly transmission rights, checked on hand-computed months.

A right on DE→FR pays max(0, p_FR − p_DE) per MWh for each hour of its month
and costs its auction price; the strategy buys it at the monthly auction
(the last day of the month before, 12:00 Europe/Brussels) from what it knows
then. Everything runs on the real StrategyManager.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.events import AuditEntry, Event, PriceKind, PriceTick, StrategyStatus, Trade
from engine.market.rights import RightPurchase, RightsBook
from engine.spreads.transmission import (
    PayoffHistory,
    RightsPricing,
    TransmissionConfig,
    month_bounds,
)
from engine.strategies.arbitrage import ArbitrageConfig, ArbitrageStrategy
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.config import ManagerConfig
from engine.strategies.execution import ExecutionConfig
from engine.strategies.manager import StrategyManager
from engine.strategies.settlement import RIGHT
from engine.time_us import to_us

HOUR = timedelta(hours=1)
FEB_START, FEB_END = month_bounds(date(2022, 2, 1))  # 2022-01-31 23:00Z .. 2022-02-28 23:00Z
MAR_START, MAR_END = month_bounds(date(2022, 3, 1))  # .. 2022-03-31 22:00Z: 743 h (DST)
AUCTION_MARCH = datetime(2022, 2, 28, 11, tzinfo=UTC)  # 12:00 CET on the last day of February
MID_FEB = datetime(2022, 2, 20, 23, tzinfo=UTC)  # 2022-02-21 00:00 CET
MID_MAR = datetime(2022, 3, 15, 23, tzinfo=UTC)  # 2022-03-16 00:00 CET

Prices = Callable[[datetime], dict[str, float]]


def hours(start: datetime, end: datetime) -> list[datetime]:
    count = int((end - start) / HOUR)
    return [start + i * HOUR for i in range(count)]


def ticks(start: datetime, end: datetime, prices: Prices) -> list[PriceTick]:
    return [
        PriceTick(
            ts=at,
            market=market,
            price_eur_mwh=price,
            kind=PriceKind.DAY_AHEAD,
            delivery_minutes=60,
            source="test",
        )
        for at in hours(start, end)
        for market, price in prices(at).items()
    ]


def run(
    strategy: Strategy, feed: list[PriceTick], until: datetime
) -> tuple[StrategyManager, list[Event]]:
    """Replay ``feed`` one tick at a time (a day-ahead price reaches the strategy at delivery)."""
    free = ExecutionConfig(fee_eur_mwh=0.0, slippage_eur_mwh=0.0, impact_eur_mwh_per_mwh=0.0)
    manager = StrategyManager(
        [strategy],
        ManagerConfig(price_kind=PriceKind.DAY_AHEAD, execution=free, id_prefix="t/"),
    )
    out = manager.start(strategy.name, now=feed[0].ts, actor="test")
    for tick in feed:
        out += manager.on_events([tick], tick.ts)
    out += manager.settle_until(until)
    return manager, out


def two_zone_months(at: datetime) -> dict[str, float]:
    """February: FR 3 € over DE until the 21st, then 8 € over. March: 10 € over, then 5 € under."""
    if at < MID_FEB:
        return {"DE": 50.0, "FR": 53.0}
    if at < MAR_START:
        return {"DE": 50.0, "FR": 58.0}
    return {"DE": 40.0, "FR": 50.0 if at < MID_MAR else 35.0}


def trades_of(out: list[Event]) -> list[Trade]:
    return [e for e in out if isinstance(e, Trade)]


def test_a_hand_computed_month_payoff_rights_cost_and_profit_to_the_cent():
    config = ArbitrageConfig(
        borders=("DE-FR",),
        volume_mw=100.0,
        min_edge_eur_mwh=1.0,
        transmission=TransmissionConfig(fee_eur_mwh=0.05),
    )
    strategy = ArbitrageStrategy(config)
    manager, out = run(strategy, ticks(FEB_START, MAR_END, two_zone_months), MAR_END)

    # The March price: February's mean payoff over the hours known at the auction.
    # 480 h (Feb 1-20) at 3 € and 180 h (Feb 21 00:00 CET .. Feb 28 12:00 CET) at 8 €.
    price = (480 * 3.0 + 180 * 8.0) / 660
    # The last 7 days before the auction all paid 8 €: edge 8 − 4.36 − 0.05 ≥ 1, bought.
    [right] = strategy.purchases
    assert (right.border, right.mw, right.delivery_start, right.delivery_end) == (
        "DE-FR",
        100.0,
        MAR_START,
        MAR_END,
    )
    assert right.price_eur_mwh == pytest.approx(price, abs=1e-12)
    assert right.hours == 743  # the spring-forward day has 23 hours

    trades = trades_of(out)
    purchase, *settles = trades
    assert (purchase.side, purchase.market, purchase.product) == ("buy", "DE-FR", RIGHT)
    assert purchase.ts == AUCTION_MARCH - HOUR  # the last bar before the auction
    assert purchase.pnl_eur == 0.0 and purchase.fee_eur == pytest.approx(0.05 * 74_300)
    assert [t.side for t in settles] == ["settle"] * 743
    assert [t.delivery_start for t in settles] == hours(MAR_START, MAR_END)
    # 360 h (Mar 1-15) pay 10 € on 100 MW; the 383 h after pay nothing (FR is below DE).
    payoff = math.fsum(t.price_eur_mwh * 100.0 for t in settles)
    assert payoff == pytest.approx(360 * 10.0 * 100.0, abs=1e-6)
    cost = price * 100.0 * 743
    fees = 0.05 * 100.0 * 743
    profit = math.fsum(t.pnl_eur for t in trades)
    assert round(profit, 2) == round(360_000.0 - cost - fees, 2) == 32_066.82
    assert manager.account(strategy.name).realised_eur == pytest.approx(profit, abs=1e-6)
    assert manager.equity_eur(strategy.name) == pytest.approx(profit, abs=1e-6)


def test_it_moves_no_energy_and_nothing_is_open_after_delivery():
    strategy = ArbitrageStrategy(ArbitrageConfig(borders=("DE-FR",), volume_mw=100.0))
    manager, out = run(strategy, ticks(FEB_START, MAR_END, two_zone_months), MAR_END)
    trades = trades_of(out)
    assert trades and all(t.volume_mwh == 0.0 for t in trades)  # a right is not energy
    statuses = [e for e in out if isinstance(e, StrategyStatus)]
    assert all(s.positions == () for s in statuses)
    assert len(manager.account(strategy.name).ledger) == 0
    # Every period of the month settled once: the next tick of April would find nothing due.
    assert len({t.delivery_start for t in trades if t.side == "settle"}) == 743
    assert manager.stats.settled == 743


def test_the_default_price_is_last_months_mean_payoff_from_the_past_only():
    transmission = TransmissionConfig()
    history = PayoffHistory(transmission.directions())
    for at in hours(FEB_START, FEB_END):
        spike = at >= AUCTION_MARCH  # published after the auction: must not count
        history.observe("DE", to_us(at), 50.0)
        history.observe("FR", to_us(at), 500.0 if spike else (53.0 if at < MID_FEB else 58.0))
    pricing = RightsPricing(transmission, history)
    march = date(2022, 3, 1)
    # Asked at 09:00Z it knows the periods that started by then: 179 at 8 €.
    early = AUCTION_MARCH - 2 * HOUR
    assert pricing.price_eur_mwh(("DE", "FR"), march, early) == pytest.approx(
        (480 * 3.0 + 179 * 8.0) / 659
    )
    # At the auction: every period that started before it, none after.
    expected = (480 * 3.0 + 180 * 8.0) / 660
    assert pricing.price_eur_mwh(("DE", "FR"), march, AUCTION_MARCH) == pytest.approx(expected)
    assert pricing.price_eur_mwh(("DE", "FR"), march, FEB_END) == pytest.approx(expected)
    assert pricing.price_eur_mwh(("FR", "DE"), march, AUCTION_MARCH) == 0.0
    # No prices of the month before, no price; no border, no right.
    assert pricing.price_eur_mwh(("DE", "AT"), march, AUCTION_MARCH) is None
    assert pricing.price_eur_mwh(("DE", "FR"), date(2022, 5, 1), MAR_END) is None
    assert pricing.price_eur_mwh(("GB", "AT"), march, AUCTION_MARCH) is None
    fixed = RightsPricing(TransmissionConfig(pricing="fixed", fixed_price_eur_mwh=2.5))
    assert fixed.price_eur_mwh(("DE", "FR"), march, AUCTION_MARCH) == 2.5


def test_a_price_file_sets_each_directions_price(tmp_path):
    path = tmp_path / "rights.csv"
    path.write_text("border,month,price_eur_mwh\nDE-FR,2022-03,1.25\nFR-DE,2022-03,0.5\n")
    pricing = RightsPricing(TransmissionConfig(pricing="file", prices_file=str(path)))
    assert pricing.price_eur_mwh(("DE", "FR"), date(2022, 3, 1), AUCTION_MARCH) == 1.25
    assert pricing.price_eur_mwh(("DE", "FR"), date(2022, 4, 1), AUCTION_MARCH) is None


def five_zones(at: datetime) -> dict[str, float]:
    """Spreads everywhere, widening in the last week of February: every right looks cheap."""
    wide = 3.0 if at >= MID_FEB else 1.0
    return {
        "DE": 50.0,
        "FR": 50.0 + 10 * wide,
        "NL": 50.0 - 5 * wide,
        "AT": 50.0 + 20 * wide,
        "GB": 50.0 - 30 * wide,
    }


def test_only_configured_borders_are_traded_and_never_above_their_capacity():
    transmission = TransmissionConfig(capacity_mw={"DE-FR": 40.0})
    config = ArbitrageConfig(
        borders=("DE-FR", "NL-DE", "GB-FR"), volume_mw=1_000.0, transmission=transmission
    )
    strategy = ArbitrageStrategy(config)
    _, out = run(strategy, ticks(FEB_START, MAR_START + 2 * HOUR, five_zones), MAR_START)
    bought = {p.border: p.mw for p in strategy.purchases}
    assert bought == {"DE-FR": 40.0, "NL-DE": 400.0, "GB-FR": 500.0}
    assert {t.market for t in trades_of(out)} == set(bought)
    for right in strategy.purchases:
        assert right.mw <= transmission.capacity((right.from_market, right.to_market))


def test_a_pair_without_an_interconnector_is_never_traded():
    with pytest.raises(ValueError, match="GB-AT has no interconnector"):
        ArbitrageConfig(borders=("GB-AT",))
    strategy = ArbitrageStrategy()  # every interconnector direction
    assert ("GB", "AT") not in strategy.directions and ("AT", "GB") not in strategy.directions
    assert ("AT", "FR") not in strategy.directions
    _, out = run(strategy, ticks(FEB_START, MAR_START + 2 * HOUR, five_zones), MAR_START)
    borders = {p.border for p in strategy.purchases}
    assert "AT-GB" not in borders and "GB-AT" not in borders  # the widest spread of all
    assert {"GB-FR", "DE-AT"} <= borders
    for right in strategy.purchases:
        assert strategy.settings.transmission.has_border(right.from_market, right.to_market)
    assert not [e for e in out if isinstance(e, AuditEntry) and e.action == "reject"]


def test_an_unpriced_period_pays_nothing_once_delivered_and_a_late_right_is_refused():
    book = RightsBook()
    start = MAR_START
    book.add(
        RightPurchase(
            from_market="DE",
            to_market="FR",
            mw=10.0,
            delivery_start=start,
            delivery_end=start + 3 * HOUR,
            price_eur_mwh=2.0,
            reason="test",
        )
    )
    prices = {("DE", to_us(start)): 40.0, ("FR", to_us(start)): 45.0}
    paid = book.due(to_us(start), lambda m, s: prices.get((m, s)))
    assert [(p.payoff_eur_mwh, p.pnl_eur) for p in paid] == [(5.0, 30.0)]
    assert book.due(to_us(start + HOUR), lambda m, s: None) == []  # hour 1 may still be priced
    paid = book.due(to_us(start + 3 * HOUR), lambda m, s: None)
    assert [(p.payoff_eur_mwh, p.pnl_eur) for p in paid] == [(0.0, -20.0), (0.0, -20.0)]
    assert len(book) == 0

    # A right whose delivery has begun cannot be bought any more.
    late = RightPurchase(
        from_market="DE",
        to_market="FR",
        mw=1.0,
        delivery_start=MAR_START,
        delivery_end=MAR_END,
        price_eur_mwh=0.0,
        reason="late",
    )
    buyer = LateBuyer(late)
    manager, out = run(buyer, ticks(MAR_START, MAR_START + 2 * HOUR, two_zone_months), MAR_END)
    assert buyer.got == [None] and not trades_of(out)
    assert manager.account(buyer.name).rejections == {"auction closed": 1}
    [entry] = [e for e in out if isinstance(e, AuditEntry) and e.action == "reject"]
    assert "right DE-FR 1 MW rejected: auction closed" in entry.reason


class LateBuyer(Strategy):
    """Tries to buy its right at the first event it is handed."""

    kind = "late"

    def __init__(self, right: RightPurchase) -> None:
        super().__init__(StrategyConfig(), "late")
        self.right = right
        self.got: list[Trade | None] = []

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        if not self.got:
            self.got.append(ctx.buy_right(self.right))
