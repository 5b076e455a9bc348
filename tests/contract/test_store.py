"""One contract suite for every Store backend: SQLite and PostgreSQL behave alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.events import (
    Alert,
    AuditEntry,
    BatteryState,
    OpportunityStatus,
    PriceKind,
    Severity,
    SpreadOpportunity,
    Trade,
)
from engine.store import StoreError
from engine.store.base import BacktestRecord
from engine.store.sqlite import SqliteStore
from tests.stubs.builders import T0, tick


def opportunity(status=OpportunityStatus.OPENED, seconds=0.0, net=19.0, seq=0):
    return SpreadOpportunity(
        ts=T0 + timedelta(seconds=seconds),
        buy_market="DE",
        sell_market="FR",
        buy_price_eur_mwh=60.0,
        sell_price_eur_mwh=80.0,
        spread_eur_mwh=20.0,
        transmission_cost_eur_mwh=20.0 - net,
        net_spread_eur_mwh=net,
        status=status,
        opened_at=T0,
        duration_s=seconds,
        capacity_mw=1000.0,
        profit_eur_h=net * 1000.0,
        seq=seq,
    )


async def test_ticks_round_trip_exactly(store):
    ticks = [tick("DE", 50.0 + i, seconds=i) for i in range(10)]
    await store.write(ticks)
    assert await store.price_history("DE", limit=100) == ticks


async def test_the_same_tick_twice_is_one_row(store):
    batch = [tick("DE", 50.0), tick("FR", 60.0)]
    await store.write(batch)
    await store.write(batch)
    await store.write([batch[0], tick("DE", 51.0, seconds=1)])
    assert await store.count("prices") == 3


async def test_a_large_batch_with_repeats_inside_and_rows_already_stored(store):
    # Large enough for every bulk path (SQLite's multi-row statements and their
    # remainder, PostgreSQL's COPY and its staging fallback).
    markets = ("DE", "FR", "NL", "BE", "AT", "GB")
    ticks = [tick(markets[i % 6], 40.0 + i % 97, seconds=i // 6) for i in range(5_003)]
    await store.write(ticks[:1_000])
    await store.write(ticks + ticks[2_000:2_700])  # old, new and repeated in one batch
    assert await store.count("prices") == len(ticks)
    assert await store.price_history("GB", limit=10_000) == ticks[5::6]


async def test_latest_price_per_market(store):
    await store.write(
        [tick(m, p, seconds=s) for s, (m, p) in enumerate([("DE", 1), ("FR", 2), ("DE", 3)])]
        + [tick("DE", 999.0, seconds=99, kind=PriceKind.DAY_AHEAD)]
    )
    latest = await store.latest_prices(["DE", "FR", "NL"])
    assert {m: t.price_eur_mwh for m, t in latest.items()} == {"DE": 3.0, "FR": 2.0}
    day_ahead = await store.latest_prices(["DE"], kind=PriceKind.DAY_AHEAD)
    assert day_ahead["DE"].price_eur_mwh == 999.0


async def test_history_by_range_and_limit(store):
    await store.write([tick("NL", float(i), seconds=60 * i) for i in range(100)])
    window = await store.price_history(
        "NL", start=T0 + timedelta(minutes=10), end=T0 + timedelta(minutes=20)
    )
    assert [t.price_eur_mwh for t in window] == [float(i) for i in range(10, 20)]
    newest = await store.price_history("NL", limit=3)
    assert [t.price_eur_mwh for t in newest] == [97.0, 98.0, 99.0]
    assert await store.price_history("BE") == []


async def test_opportunities_of_the_last_minutes(store):
    lifecycle = [
        opportunity(OpportunityStatus.OPENED, 0),
        opportunity(OpportunityStatus.UPDATED, 60, net=25.0, seq=1),
        opportunity(OpportunityStatus.CLOSED, 120, net=3.0, seq=2),
    ]
    await store.write(lifecycle)
    await store.write(lifecycle)
    assert await store.count("opportunities") == 3
    assert await store.opportunities_since(T0 + timedelta(seconds=30)) == lifecycle[1:]


async def test_two_updates_in_the_same_second_are_two_rows(store):
    # Both markets of a pair ticked in one second: the later update is the one
    # that stands, and it must not be taken for a replay of the earlier one.
    events = [
        opportunity(OpportunityStatus.OPENED, 0),
        opportunity(OpportunityStatus.UPDATED, 60, net=25.0, seq=1),
        opportunity(OpportunityStatus.UPDATED, 60, net=21.0, seq=2),
    ]
    await store.write(events)
    await store.write(events[1:])  # a replay is still one row per event
    assert await store.count("opportunities") == 3
    assert await store.opportunities_since(T0 + timedelta(seconds=60)) == events[1:]


async def test_trades_alerts_and_battery_states(store):
    trade = Trade(
        ts=T0,
        trade_id="t-1",
        strategy="arbitrage",
        market="DE",
        side="buy",
        volume_mwh=10.0,
        price_eur_mwh=60.0,
        fee_eur=1.2,
        pnl_eur=-600.0,
        reason="DE→FR spread",
    )
    alert = Alert(
        ts=T0, rule="spike", severity=Severity.CRITICAL, message="FR at €900", key="FR", market="FR"
    )
    battery = BatteryState(
        ts=T0,
        battery_id="bess-de",
        market="DE",
        soc_mwh=5.0,
        soc_fraction=0.5,
        power_mw=-2.0,
        mode="charging",
        revenue_eur=12.5,
    )
    await store.write([trade, alert, battery, tick()])
    await store.write([trade, alert, battery])
    assert await store.trades() == [trade]
    assert await store.trades(strategy="other") == []
    assert await store.alerts() == [alert]
    assert await store.battery_states("bess-de") == [battery]
    assert [await store.count(t) for t in ("trades", "alerts", "battery_states")] == [1, 1, 1]


async def test_backtests_save_list_show_delete(store):
    record = BacktestRecord(
        run_id="bt-1",
        created_at=T0,
        state="finished",
        config={"strategies": ["arbitrage"], "from": "2021-01-01"},
        metrics={"total_revenue": 1234.5, "sharpe_ratio": 1.2},
        equity_curve=[(T0, 0.0), (T0 + timedelta(hours=1), 10.5)],
    )
    await store.save_backtest(record)
    assert await store.backtest("bt-1") == record
    assert [r.run_id for r in await store.backtests()] == ["bt-1"]
    assert await store.delete_backtest("bt-1") is True
    assert await store.delete_backtest("bt-1") is False
    assert await store.backtest("bt-1") is None


def audit(entry_id, seconds, strategy="arbitrage", action="start", actor="dashboard"):
    return AuditEntry(
        ts=T0 + timedelta(seconds=seconds),
        entry_id=entry_id,
        actor=actor,
        action=action,
        strategy=strategy,
        reason="pressed 1 twice",
        ref="",
    )


async def test_audit_log_keeps_every_toggle_once_newest_first(store):
    entries = [audit("a-1", 0), audit("a-2", 1, action="stop"), audit("a-3", 2, "battery")]
    await store.write([*entries, tick()])
    await store.write(entries[:2])  # a replayed batch: no duplicates
    assert await store.count("audit_log") == 3
    assert await store.audit_log() == entries[::-1]
    assert await store.audit_log(strategy="arbitrage", limit=1) == [entries[1]]
    assert await store.audit_log(strategy="mining") == []


def bt_trade(trade_id, seconds, strategy="battery", pnl=1.5):
    return Trade(
        ts=T0 + timedelta(seconds=seconds),
        trade_id=trade_id,
        strategy=strategy,
        market="DE",
        side="sell",
        volume_mwh=1.0,
        price_eur_mwh=80.0,
        fee_eur=0.1,
        pnl_eur=pnl,
        reason="discharge at the evening peak",
    )


async def test_backtest_trades_are_kept_per_run_and_deleted_with_it(store):
    record = BacktestRecord(run_id="bt-9", created_at=T0, state="finished")
    await store.save_backtest(record)
    trades = [bt_trade(f"battery-{i:06d}", i) for i in range(40)]
    trades.append(bt_trade("mining-1", 5, "mining"))
    await store.save_backtest_trades("bt-9", trades)
    await store.save_backtest_trades("bt-9", trades[:3])  # idempotent
    await store.save_backtest_trades("bt-other", trades[:2])
    ordered = sorted(trades, key=lambda t: (t.ts, t.trade_id))
    assert await store.backtest_trades("bt-9") == ordered
    assert await store.backtest_trades("bt-9", strategy="mining") == [trades[-1]]
    assert await store.trades() == []  # live trades are another table
    assert await store.count("backtest_trades") == 43
    assert await store.delete_backtest("bt-9") is True
    assert await store.backtest_trades("bt-9") == []
    assert len(await store.backtest_trades("bt-other")) == 2


async def test_count_rejects_unknown_tables(store):
    with pytest.raises(ValueError, match="unknown table"):
        await store.count("prices; DROP TABLE prices")


async def test_reopen_keeps_data_and_migrations_are_idempotent(store, tmp_path):
    await store.write([tick("AT", 42.0)])
    await store.close()
    await store.open()
    assert (await store.latest_prices(["AT"]))["AT"].price_eur_mwh == 42.0


async def test_using_a_closed_store_is_a_clear_error(tmp_path):
    store = SqliteStore(tmp_path / "x.db")
    with pytest.raises(StoreError, match="open"):
        await store.write([tick()])


async def test_audit_log_filters_by_actor_action_time_and_pages(store):
    entries = [
        audit("b-1", 0, actor="dashboard"),
        audit("b-2", 10, action="stop", actor="api:127.0.0.1"),
        audit("b-3", 20, actor="api:10.0.0.7"),
        audit("b-4", 30, action="kill", actor="cli"),
        audit("b-5", 40, actor="api_x:1"),  # not an "api" actor, though it starts alike
        audit("b-6", 50, actor="a%:1"),  # LIKE wildcards in an actor stay literal
    ]
    await store.write(entries)
    ids = lambda found: [e.entry_id for e in found]  # noqa: E731
    assert ids(await store.audit_log(actor="api")) == ["b-3", "b-2"]
    assert ids(await store.audit_log(actor="api:10.0.0.7")) == ["b-3"]
    assert ids(await store.audit_log(actor="a")) == []
    assert ids(await store.audit_log(actor="a%")) == ["b-6"]
    assert ids(await store.audit_log(action="start", actor="api")) == ["b-3"]
    window = {"start": T0 + timedelta(seconds=10), "end": T0 + timedelta(seconds=30)}
    assert ids(await store.audit_log(**window)) == ["b-3", "b-2"]
    assert ids(await store.audit_log(limit=2)) == ["b-6", "b-5"]
    assert ids(await store.audit_log(limit=2, offset=2)) == ["b-4", "b-3"]
    assert ids(await store.audit_log(limit=2, offset=6)) == []
