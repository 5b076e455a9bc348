"""engine.backtest.rerun.compare: live beside re-run, per strategy, the difference counted once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.backtest.rerun import LiveRecord, TradeLine, compare, realised_pnl_eur
from engine.events import Trade
from tests.stubs.builders import T0


def trade(minute: int, side: str = "buy", *, strategy: str = "technical", **extra) -> Trade:
    return Trade(
        ts=T0 + timedelta(minutes=minute),
        trade_id=f"{strategy}-{minute}-{side}-{extra.get('trade_id', '')}",
        strategy=strategy,
        market=extra.get("market", "DE"),
        side=side,
        volume_mwh=extra.get("volume_mwh", 10.0),
        price_eur_mwh=extra.get("price_eur_mwh", 50.0),
        fee_eur=extra.get("fee_eur", 0.5),
        pnl_eur=extra.get("pnl_eur", 0.0),
    )


def live(name: str, trades: list[Trade], start: float | None = 0.0, end: float | None = 0.0):
    return LiveRecord(
        strategy=name,
        trades=[TradeLine.of(t) for t in trades],
        status_pnl_start_eur=start,
        status_pnl_end_eur=end,
        state_at_start="running",
    )


def test_the_difference_names_the_trades_only_one_side_made():
    both = [trade(0), trade(5, "sell")]
    live_only = trade(10, pnl_eur=30.0)
    rerun_only = trade(10, price_eur_mwh=49.0)  # same instant and size, another price
    settle = trade(60, "settle", pnl_eur=12.0, fee_eur=0.0)
    result = compare(
        "rr-1",
        T0,
        T0 + timedelta(hours=2),
        {"technical": live("technical", [*both, live_only], 100.0, 140.0)},
        [*both, rerun_only, settle],
        {},
    )
    (row,) = result.strategies
    assert (row.live_trades, row.rerun_trades, row.same_trades) == (3, 4, 2)
    assert [t.price_eur_mwh for t in row.only_live] == [50.0]
    assert [(t.price_eur_mwh, t.side) for t in row.only_rerun] == [(49.0, "buy"), (50.0, "settle")]
    assert row.live_pnl_eur == pytest.approx(30.0 - 1.5)
    assert row.rerun_pnl_eur == pytest.approx(12.0 - 1.5)
    assert row.pnl_diff_eur == pytest.approx(row.rerun_pnl_eur - row.live_pnl_eur)
    assert row.live_status_pnl_eur == pytest.approx(40.0)
    assert [t.ts for t in result.rerun_trades] == sorted(t.ts for t in result.rerun_trades)


def test_a_left_out_strategy_says_why_and_other_strategies_trades_stay_apart():
    result = compare(
        "rr-2",
        T0,
        T0 + timedelta(hours=1),
        {"ml": live("ml", [], None, None), "technical": live("technical", [])},
        [trade(1, strategy="technical")],
        {"ml": "needs forecasts, which this run does not feed"},
    )
    ml, technical = result.strategies
    assert ml.skipped.startswith("needs forecasts") and ml.rerun_trades == 0
    assert ml.live_status_pnl_eur is None
    assert technical.rerun_trades == 1 and technical.only_rerun_count == 1


@given(
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["buy", "sell"])), max_size=12),
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["buy", "sell"])), max_size=12),
)
def test_every_trade_is_counted_once_same_or_one_sided(live_keys, rerun_keys):
    lives = [trade(m, s, trade_id=str(i)) for i, (m, s) in enumerate(live_keys)]
    reruns = [trade(m, s, trade_id=f"r{i}") for i, (m, s) in enumerate(rerun_keys)]
    (row,) = compare(
        "rr", T0, T0 + timedelta(hours=1), {"technical": live("technical", lives)}, reruns, {}
    ).strategies
    assert row.same_trades + row.only_live_count == len(lives)
    assert row.same_trades + row.only_rerun_count == len(reruns)
    assert row.pnl_diff_eur == pytest.approx(
        realised_pnl_eur([TradeLine.of(t) for t in reruns])
        - realised_pnl_eur([TradeLine.of(t) for t in lives])
    )
