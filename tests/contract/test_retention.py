"""Recorder retention on every Store backend: compaction keeps what it promises, and reads
across the cut-off still answer.

Three hours of a busy recording (two markets at a 10 s tick with seeded
random prices, a battery, a strategy, a forecaster and an opportunity that
updates every tick) are compacted up to the middle of the third hour: the two
whole hours before it are folded and thinned, the third stays raw.
"""

from __future__ import annotations

import asyncio
import random
import statistics
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from engine.events import (
    Alert,
    BatteryState,
    Event,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)
from engine.store.recording import recording_span, state_at

T = datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TICK_S = 10
ROUNDS = 3 * 3600 // TICK_S
MARKETS = ("DE", "FR")
CUT = T + 2 * HOUR + timedelta(minutes=30)  # hours 06:00 and 07:00 compacted, 08:00 raw


def at(i: int) -> datetime:
    return T + timedelta(seconds=TICK_S * i)


def recording(seed: int = 7) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for i in range(ROUNDS):
        ts = at(i)
        for market in MARKETS:
            events.append(
                PriceTick(
                    ts=ts,
                    market=market,
                    price_eur_mwh=round(rng.uniform(20, 120), 2),
                    volume_mwh=round(rng.uniform(1, 5), 1),
                    source="mock",
                )
            )
        events.append(
            BatteryState(
                ts=ts,
                battery_id="bess-de",
                market="DE",
                soc_mwh=1.0 + i / ROUNDS,
                soc_fraction=0.5,
                power_mw=0.5,
                mode="charging",
                revenue_eur=float(i),
            )
        )
        events.append(
            SpreadOpportunity(
                ts=ts,
                buy_market="DE",
                sell_market="FR",
                buy_price_eur_mwh=50.0,
                sell_price_eur_mwh=60.0 + i % 5,
                spread_eur_mwh=10.0 + i % 5,
                transmission_cost_eur_mwh=1.0,
                net_spread_eur_mwh=9.0 + i % 5,
                status=OpportunityStatus.OPENED if i == 0 else OpportunityStatus.UPDATED,
                opened_at=T,
                seq=i,
            )
        )
        if i % 30 == 0:  # every 5 minutes: a status line and a forecast
            events.append(
                StrategyStatus(
                    ts=ts, strategy="arbitrage", state="running", pnl_eur=float(i), trades=i
                )
            )
            events.append(
                Forecast(
                    ts=ts,
                    market="DE",
                    model_id="xgb",
                    horizon_steps=1,
                    target_ts=ts + HOUR,
                    price_eur_mwh=float(i),
                )
            )
    # Day-ahead prices of the three hours (delivery-stamped), and one alert.
    for h in range(3):
        events.append(
            PriceTick(
                ts=T + h * HOUR,
                market="DE",
                price_eur_mwh=70.0 + h,
                kind=PriceKind.DAY_AHEAD,
                delivery_minutes=60,
                source="mock",
            )
        )
    events.append(Alert(ts=at(5), rule="spike", key="DE", severity=Severity.WARNING, message="x"))
    return events


def intraday(events: list[Event], market: str) -> list[PriceTick]:
    return [
        e
        for e in events
        if isinstance(e, PriceTick) and e.market == market and e.kind is PriceKind.INTRADAY
    ]


def close_of(ticks: list[PriceTick], hour: int) -> PriceTick:
    """What a compacted hour reads as: its last tick, carrying the hour's volume."""
    within = [t for t in ticks if T + hour * HOUR <= t.ts < T + (hour + 1) * HOUR]
    volume = sum(t.volume_mwh or 0.0 for t in within)
    return msgspec.structs.replace(within[-1], volume_mwh=volume)


def same(a: list[PriceTick], b: list[PriceTick]) -> bool:
    """Equal ticks, volumes to float rounding (a sum in SQL may add in another order)."""

    def key(t: PriceTick) -> PriceTick:
        return msgspec.structs.replace(t, volume_mwh=round(t.volume_mwh or 0.0, 6))

    return [key(t) for t in a] == [key(t) for t in b]


async def test_each_compacted_hour_is_the_aggregate_of_its_ticks(store):
    events = recording()
    await store.write(events)

    report = await store.compact(CUT)

    assert report.hours == 2
    assert report.ticks_folded == 2 * 2 * 3600 // TICK_S
    assert report.compacted_until == T + 2 * HOUR
    for market in MARKETS:
        rows = await store.hourly_prices(market, PriceKind.INTRADAY, start=T, end=T + 3 * HOUR)
        assert [r.hour_start for r in rows] == [T, T + HOUR]
        for row in rows:
            raw = [
                t
                for t in intraday(events, market)
                if row.hour_start <= t.ts < row.hour_start + HOUR
            ]
            prices = [t.price_eur_mwh for t in raw]
            assert row.open_eur_mwh == prices[0]
            assert row.close_eur_mwh == prices[-1]
            assert row.high_eur_mwh == max(prices)
            assert row.low_eur_mwh == min(prices)
            assert row.mean_eur_mwh == pytest.approx(statistics.fmean(prices))
            assert row.ticks == len(raw) == 360
            assert row.volume_mwh == pytest.approx(sum(t.volume_mwh or 0 for t in raw))
            assert (row.first_ts, row.last_ts) == (raw[0].ts, raw[-1].ts)
            assert row.source == "mock"


async def test_raw_rows_before_the_cut_go_and_recent_ones_stay(store):
    events = recording()
    await store.write(events)
    await store.compact(CUT)

    for market in MARKETS:
        raw = await store.recorded(
            PriceTick,
            until=T + 3 * HOUR,
            limit=10_000,
            match={"market": market, "kind": "intraday"},
            oldest=True,
        )
        # The raw table holds only the hour that was not compacted, untouched.
        assert raw == [t for t in intraday(events, market) if t.ts >= T + 2 * HOUR]
    day_ahead = await store.price_history("DE", kind=PriceKind.DAY_AHEAD)
    assert [t.price_eur_mwh for t in day_ahead] == [70.0, 71.0, 72.0]
    assert len(await store.alerts()) == 1

    batteries = await store.battery_states("bess-de", limit=10_000)
    # The last state of each compacted hour, then every state of the raw hour.
    assert [b.ts for b in batteries] == [
        at(359),
        at(719),
        *(at(i) for i in range(720, ROUNDS)),
    ]
    opportunities = await store.opportunities_since(T)
    kept_before_cut = [o for o in opportunities if o.ts < T + 2 * HOUR]
    assert [(o.status, o.ts) for o in kept_before_cut] == [
        (OpportunityStatus.OPENED, at(0)),
        (OpportunityStatus.UPDATED, at(359)),
        (OpportunityStatus.UPDATED, at(719)),
    ]
    assert len(opportunities) == 3 + ROUNDS - 720
    lines = await store.recorded(StrategyStatus, until=T + 3 * HOUR, limit=100, oldest=True)
    assert [s.ts for s in lines] == [at(330), at(690), *(at(i) for i in range(720, ROUNDS, 30))]
    forecasts = await store.recorded(Forecast, until=T + 3 * HOUR, limit=100, oldest=True)
    assert [f.ts for f in forecasts] == [s.ts for s in lines]


async def test_compaction_is_idempotent(store):
    await store.write(recording())
    await store.compact(CUT)
    tables = ("prices", "battery_states", "opportunities", "price_ticks_hourly", "forecasts")
    counts = {table: await store.count(table) for table in tables}
    hourly = await store.hourly_prices("DE", PriceKind.INTRADAY, start=T, end=CUT)

    again = await store.compact(CUT)

    assert again.removed == 0 and again.hourly_rows == 0
    assert {table: await store.count(table) for table in tables} == counts
    assert await store.hourly_prices("DE", PriceKind.INTRADAY, start=T, end=CUT) == hourly
    assert (await store.compact(CUT - 5 * HOUR)).removed == 0  # an earlier cut: nothing to do


async def test_late_ticks_of_a_compacted_hour_are_merged_into_it(store):
    events = recording()
    first_half = [e for e in events if not (isinstance(e, PriceTick) and e.ts.minute >= 30)]
    late = [e for e in events if isinstance(e, PriceTick) and e.ts.minute >= 30 and e.ts < CUT]
    await store.write(first_half)
    await store.compact(CUT)

    await store.write(late)  # a backfill of the hours' second halves
    await store.compact(CUT)

    (row, _) = await store.hourly_prices("FR", PriceKind.INTRADAY, start=T, end=CUT)
    prices = [t.price_eur_mwh for t in intraday(events, "FR") if t.ts < T + HOUR]
    assert (row.open_eur_mwh, row.close_eur_mwh, row.ticks) == (prices[0], prices[-1], 360)
    assert (row.high_eur_mwh, row.low_eur_mwh) == (max(prices), min(prices))
    assert row.mean_eur_mwh == pytest.approx(statistics.fmean(prices))


async def test_history_across_the_cut_gives_each_compacted_hour_its_close(store):
    events = recording()
    await store.write(events)
    await store.compact(CUT)
    ticks = intraday(events, "DE")

    history = await store.price_history(
        "DE", start=T, end=T + 3 * HOUR, limit=10_000, kind=PriceKind.INTRADAY
    )

    # Each compacted hour: its last tick (its close, when it was seen), with the hour's volume.
    closes = [close_of(ticks, 0), close_of(ticks, 1)]
    assert closes[0].ts == ticks[359].ts and closes[0].price_eur_mwh == ticks[359].price_eur_mwh
    assert same(history, [*closes, *ticks[720:]])
    newest = await store.price_history("DE", limit=5, kind=PriceKind.INTRADAY)
    assert newest == ticks[-5:]
    # Mid-hour, the hour's close is not known yet: it is not shown before its time.
    partial = await store.price_history(
        "DE", start=T, end=T + HOUR + timedelta(minutes=30), kind=PriceKind.INTRADAY
    )
    assert same(partial, [close_of(ticks, 0)])
    everything = await store.price_history("DE", start=T, end=T + 3 * HOUR, limit=10_000)
    assert len(everything) == 2 + 360 + 3  # two closes, the raw hour, three day-ahead


async def test_state_at_in_the_compacted_past(store):
    events = recording()
    await store.write(events)
    await store.compact(CUT)
    moment = T + HOUR + timedelta(minutes=20)

    state = await state_at(store, moment, MARKETS, chart_hours=6.0)

    de = [e for e in state if isinstance(e, PriceTick) and e.market == "DE"]
    assert same(
        [t for t in de if t.kind is PriceKind.INTRADAY], [close_of(intraday(events, "DE"), 0)]
    )
    (battery,) = [e for e in state if isinstance(e, BatteryState)]
    assert battery.ts == at(359)  # the last state of the hour before
    (pair,) = [e for e in state if isinstance(e, SpreadOpportunity)]
    assert (pair.status, pair.ts) == (OpportunityStatus.UPDATED, at(359))
    # The rewind still reaches back to the recording's start (the kept day-ahead prices).
    span = await recording_span(store, MARKETS)
    assert span is not None and (span.first, span.last) == (T, at(ROUNDS - 1))


async def test_two_engines_compacting_at_once_fold_each_tick_once(store, make_store):
    events = recording()
    await store.write(events)
    other = make_store()  # a second daemon on the same file or schema
    await other.open()
    try:
        reports = await asyncio.gather(store.compact(CUT), other.compact(CUT))
    finally:
        await other.close()

    assert sum(r.ticks_folded for r in reports) == 2 * 2 * 3600 // TICK_S
    for market in MARKETS:
        rows = await store.hourly_prices(market, PriceKind.INTRADAY, start=T, end=CUT)
        assert [r.ticks for r in rows] == [360, 360]
        first_hour = [t.price_eur_mwh for t in intraday(events, market) if t.ts < T + HOUR]
        assert rows[0].mean_eur_mwh == pytest.approx(statistics.fmean(first_hour))
