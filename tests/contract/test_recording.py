"""The flight recorder on every Store backend: the state at an instant is what was known then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.events import (
    Alert,
    BatteryState,
    Forecast,
    OpenPosition,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)
from engine.store.recording import recording_span, state_at
from tests.stubs.builders import tick

# 2024-03-05 09:00 UTC = 10:00 Brussels: before the 12:45 publication for 03-06.
T = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def battery(minutes: int, soc: float) -> BatteryState:
    return BatteryState(
        ts=T + minutes * MINUTE,
        battery_id="bess-1",
        market="DE",
        soc_mwh=soc,
        soc_fraction=soc / 10,
        power_mw=1.0,
        mode="charging",
        revenue_eur=minutes * 10.0,
    )


def status(minutes: int, pnl: float, positions: tuple[OpenPosition, ...] = ()) -> StrategyStatus:
    return StrategyStatus(
        ts=T + minutes * MINUTE,
        strategy="day_ahead",
        state="running",
        pnl_eur=pnl,
        trades=minutes,
        last_action=f"buy at {minutes}",
        positions=positions,
    )


def opportunity(minutes: int, status: OpportunityStatus, seq: int) -> SpreadOpportunity:
    return SpreadOpportunity(
        ts=T + minutes * MINUTE,
        buy_market="DE",
        sell_market="FR",
        buy_price_eur_mwh=60.0,
        sell_price_eur_mwh=80.0 + minutes,
        spread_eur_mwh=20.0 + minutes,
        transmission_cost_eur_mwh=1.0,
        net_spread_eur_mwh=19.0 + minutes,
        status=status,
        opened_at=T,
        seq=seq,
    )


POSITION = OpenPosition(
    market="DE",
    product="day_ahead",
    delivery_start=datetime(2024, 3, 5, 23, tzinfo=UTC),
    delivery_minutes=60,
    net_mwh=2.5,
    average_price_eur_mwh=71.0,
)


async def record(store) -> None:
    events = [
        *(tick("DE", 50.0 + m, at=T, seconds=60 * m) for m in range(0, 120)),
        *(tick("FR", 70.0 + m, at=T, seconds=60 * m) for m in range(0, 120)),
        # Day-ahead for 03-05 (published 03-04) and for 03-06 (published 03-05 12:45).
        *(
            tick(
                "DE",
                40.0 + h,
                at=datetime(2024, 3, 4, 23, tzinfo=UTC),
                seconds=3600 * h,
                kind=PriceKind.DAY_AHEAD,
            )
            for h in range(48)
        ),
        battery(0, 1.0),
        battery(30, 4.0),
        battery(90, 7.0),
        status(10, 100.0, (POSITION,)),
        status(70, 250.0),
        opportunity(5, OpportunityStatus.OPENED, 0),
        opportunity(20, OpportunityStatus.UPDATED, 1),
        opportunity(50, OpportunityStatus.CLOSED, 2),
        Alert(ts=T + 15 * MINUTE, rule="spike", severity=Severity.WARNING, message="a", key="1"),
        Alert(ts=T + 80 * MINUTE, rule="spike", severity=Severity.WARNING, message="b", key="2"),
        *(
            Forecast(
                ts=T + m * MINUTE,
                market="DE",
                target_ts=T + (m + 15) * MINUTE,
                horizon_steps=1,
                price_eur_mwh=55.0 + m,
                model_id="m",
            )
            for m in (0, 40, 100)
        ),
    ]
    await store.write(events)


def of(kind, events):
    return [e for e in events if isinstance(e, kind)]


async def test_state_at_is_the_newest_of_each_thing_at_or_before_the_instant(store) -> None:
    await record(store)
    at = T + 45 * MINUTE
    events = await state_at(store, at, ["DE", "FR"], chart_hours=0.5)
    assert all(e.ts <= at for e in events if not isinstance(e, PriceTick))
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    [bess] = of(BatteryState, events)
    assert (bess.ts, bess.soc_mwh) == (T + 30 * MINUTE, 4.0)
    [line] = of(StrategyStatus, events)
    assert (line.pnl_eur, line.positions) == (100.0, (POSITION,))
    [open_one] = of(SpreadOpportunity, events)
    assert (open_one.status, open_one.seq) == (OpportunityStatus.UPDATED, 1)
    assert [a.message for a in of(Alert, events)] == ["a"]
    assert [f.price_eur_mwh for f in of(Forecast, events)] == [55.0, 95.0]
    intraday = [e for e in of(PriceTick, events) if e.kind is PriceKind.INTRADAY]
    de = [e.price_eur_mwh for e in intraday if e.market == "DE"]
    assert de == [50.0 + m for m in range(15, 46)]  # the half hour ending at the instant


async def test_a_closed_opportunity_leaves_its_pair_empty(store) -> None:
    await record(store)
    events = await state_at(store, T + 55 * MINUTE, ["DE", "FR"])
    assert of(SpreadOpportunity, events) == []
    [line] = of(StrategyStatus, await state_at(store, T + 75 * MINUTE, ["DE", "FR"]))
    assert (line.pnl_eur, line.positions) == (250.0, ())


async def test_the_next_days_auction_is_known_only_after_its_publication(store) -> None:
    await record(store)
    before = await state_at(store, T + 60 * MINUTE, ["DE"], chart_hours=12)  # 11:00 Brussels
    after = await state_at(store, datetime(2024, 3, 5, 12, 0, tzinfo=UTC), ["DE"], chart_hours=24)
    tomorrow = datetime(2024, 3, 5, 23, tzinfo=UTC)  # 03-06 00:00 Brussels

    def day_ahead(events):
        return [e for e in of(PriceTick, events) if e.kind is PriceKind.DAY_AHEAD]

    assert day_ahead(before) and max(e.ts for e in day_ahead(before)) < tomorrow
    assert max(e.ts for e in day_ahead(after)) == tomorrow + timedelta(hours=23)


async def test_the_span_and_an_empty_recording(store) -> None:
    assert await recording_span(store, ["DE"]) is None
    assert await state_at(store, T, ["DE"]) == []
    await record(store)
    span = await recording_span(store, ["DE", "FR"])
    assert span is not None
    assert span.first == datetime(2024, 3, 4, 23, tzinfo=UTC)
    assert span.last == T + 119 * MINUTE  # the newest intraday tick, not tomorrow's delivery


async def test_bad_reads_name_what_is_accepted(store) -> None:
    with pytest.raises(ValueError, match="has no column 'colour'"):
        await store.recorded(BatteryState, until=T, match={"colour": "red"})
    with pytest.raises(ValueError, match="does not lead the key"):
        await store.recorded_keys(BatteryState, "market")
    with pytest.raises(ValueError, match="time zone"):
        await state_at(store, T.replace(tzinfo=None), ["DE"])
