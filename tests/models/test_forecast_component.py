"""ForecastComponent in the engine: publishes what the batch pipeline would, at the right time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from engine.bus.memory import MemoryBus
from engine.clock import Clock, SimClock
from engine.events import FORECASTS, Event, Forecast, PriceKind, PriceTick
from engine.kernel import Component
from engine.runtime import Runtime
from engine.store.sqlite import SqliteStore
from models.features.price_grid import grid_from_frame, step_of
from models.forecast.component import ForecastComponent
from models.forecast.onnx_forecaster import OnnxForecaster
from tests.models.forecast_builders import (
    as_ticks,
    saved_model,
    synthetic_prices,
    ticks_within_steps,
)

pytest.importorskip("xgboost")  # the tiny models are trained on the spot


@pytest.fixture(scope="module")
def intraday(tmp_path_factory):
    return OnnxForecaster.load(*saved_model(tmp_path_factory.mktemp("reg"), "intraday"))


@pytest.fixture(scope="module")
def dayahead(tmp_path_factory):
    return OnnxForecaster.load(*saved_model(tmp_path_factory.mktemp("reg"), "dayahead"))


def test_intraday_forecasts_match_the_batch_pipeline_step_by_step(intraday):
    hourly = synthetic_prices(days=16, seed=21)
    ticks = as_ticks(ticks_within_steps(hourly, per_step=4))
    component: Component = ForecastComponent(intraday)
    published: list[Forecast] = []
    for tick in ticks:  # one tick a batch, "now" = the tick's time
        published += [e for e in component.on_events([tick], tick.ts) if isinstance(e, Forecast)]
    assert component.name == "forecast-intraday"
    assert {f.horizon_steps for f in published} == {1, 5}

    # The same ticks in batch: the same features, hence the same point forecasts.
    frame = ticks_within_steps(hourly, per_step=4)
    grid = grid_from_frame(frame, intraday.config.markets, 60, deliveries=False)
    checked = 0
    for forecast in published[-300:]:
        horizon = forecast.horizon_steps
        origin = step_of(forecast.target_ts, 60) - horizon
        block = intraday.pipeline.compute(grid, np.array([origin]), horizon)
        band = intraday.predict_block(block, horizon)
        row = intraday.config.markets.index(forecast.market)
        assert forecast.price_eur_mwh == round(float(band.point[block.market == row][0]), 2)
        checked += 1
    assert checked == 300
    # Forecasts are issued when a step closes, for the step just closed.
    last = published[-1]
    assert last.ts - (last.target_ts - timedelta(hours=last.horizon_steps)) == timedelta(hours=1)


def test_intraday_ignores_future_ticks_and_other_kinds(intraday):
    component = ForecastComponent(intraday)
    now = datetime(2023, 1, 20, tzinfo=UTC)
    later = PriceTick(ts=now + timedelta(hours=3), market="DE", price_eur_mwh=50.0)
    other = PriceTick(ts=now, market="DE", price_eur_mwh=50.0, kind=PriceKind.DAY_AHEAD)
    assert component.on_events([later, other], now) == []
    assert component.grid.latest_step is None


def _auction_batches(frame, days: list[date]) -> list[tuple[datetime, list[PriceTick]]]:
    """Each delivery day's curve, published at 11:00 UTC the day before."""
    batches = []
    for day in days:
        rows = frame[frame["timestamp"].dt.date == day]
        published = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
        batches.append(
            (
                published + timedelta(hours=11),
                as_ticks(rows, PriceKind.DAY_AHEAD, delivery_minutes=60),
            )
        )
    return batches


def test_dayahead_forecasts_once_at_the_decision_time_and_the_band_learns(dayahead):
    frame = synthetic_prices(days=40, seed=13)
    wild = frame["timestamp"] >= "2023-01-28"  # a regime of far wilder prices
    noise = np.random.default_rng(0).normal(0, 150, int(wild.sum()))
    frame.loc[wild, "price_eur_mwh"] += noise
    days = [date(2023, 1, 2) + timedelta(days=i) for i in range(37)]
    component = ForecastComponent(dayahead)
    issued: dict[date, list[Forecast]] = {}
    start = component.bands[None].offset.copy()
    for when, batch in _auction_batches(frame, days):
        assert all(not isinstance(e, Forecast) for e in component.on_events(batch, when))
        # The kernel's timer, through the next morning: the decision is 10:00 Brussels.
        for hour in range(1, 24):
            now = when + timedelta(hours=hour)
            for event in component.on_timer(now):
                assert isinstance(event, Forecast)
                delivery = (event.target_ts + timedelta(hours=1)).date()
                issued.setdefault(delivery, []).append(event)
                assert event.ts == now
    assert len(issued) >= 25
    for delivery, forecasts in issued.items():
        assert len(forecasts) == 24 * 3, delivery  # once per day: every hour, every market
        decision = dayahead.pipeline.decision_at(delivery)
        assert all(f.ts - decision < timedelta(hours=1) for f in forecasts)
    # In the wild regime the forecasts missed their bands, and the bands widened.
    assert (component.bands[None].offset > start).all()


def test_dayahead_at_start_up_forecasts_tomorrow_at_once(dayahead):
    frame = synthetic_prices(days=20, seed=1)
    component = ForecastComponent(dayahead)
    now = datetime(2023, 1, 19, 15, tzinfo=UTC)  # after the decision for Jan 20
    history = as_ticks(frame[frame["timestamp"] < "2023-01-20"], PriceKind.DAY_AHEAD, 60)
    forecasts = component.on_events(history, now)
    assert len(forecasts) == 72
    assert component.on_timer(now + timedelta(minutes=1)) == []


class _ClockedFeed:
    """Plays batches, moving a simulated clock to each batch's last timestamp first."""

    def __init__(self, batches: Sequence[Sequence[Event]]) -> None:
        self.batches = batches

    @property
    def name(self) -> str:
        return "clocked"

    async def stream(self, clock: Clock) -> AsyncIterator[Sequence[Event]]:
        for batch in self.batches:
            await clock.sleep_until(batch[-1].ts)
            yield batch


async def test_forecasts_reach_the_bus_through_the_kernel(tmp_path, intraday):
    frame = synthetic_prices(days=12, seed=2)
    ticks = as_ticks(frame)
    batches = [ticks[i : i + 3] for i in range(0, len(ticks), 3)]  # one hour, three markets
    runtime = Runtime(
        feed=_ClockedFeed(batches),
        clock=SimClock(ticks[0].ts),
        bus=MemoryBus(),
        store=SqliteStore(tmp_path / "k.db"),
        components=[ForecastComponent(intraday)],
    )
    await runtime.start()
    viewer = await runtime.bus.subscribe([FORECASTS], name="viewer")
    await runtime.run()
    received: list[Event] = []
    while batch := await viewer.next_batch(timeout=0.2):
        received += batch
    await runtime.close()
    forecasts = [e for e in received if isinstance(e, Forecast)]
    assert len(forecasts) == (len(batches) - 1) * 3 * 2  # every closed hour, market, horizon


def test_wiring_loads_the_promoted_models(tmp_path):
    from gridtui.settings.loader import load_settings
    from gridtui.wiring import build_components, build_forecast_components

    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    components = build_forecast_components(settings)
    names = {c.name for c in components}
    if not names:
        pytest.skip("no shipped forecast models")
    assert names <= {"forecast-dayahead", "forecast-intraday"}
    assert names <= {c.name for c in build_components(settings)}
    off = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "forecast": {"enabled": False}}
    )
    assert build_forecast_components(off) == []
    replay = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "feed": {"kind": "replay"}}
    )
    kinds = {c.name: c.price_kind for c in build_forecast_components(replay)}  # type: ignore[attr-defined]
    if "forecast-intraday" in kinds:
        assert kinds["forecast-intraday"] is PriceKind.DAY_AHEAD


def test_forecast_now_repeats_the_last_published_forecasts_without_publishing(intraday):
    ticks = as_ticks(ticks_within_steps(synthetic_prices(days=12, seed=5), per_step=2))
    component = ForecastComponent(intraday)
    published: list[Forecast] = []
    for tick in ticks:
        published += [e for e in component.on_events([tick], tick.ts) if isinstance(e, Forecast)]
    now = ticks[-1].ts
    count = component.published
    fresh = component.forecast_now(now)
    assert component.published == count  # asked, not published
    last_batch = [f for f in published if f.ts == published[-1].ts]
    assert len(fresh) == len(last_batch) > 0
    key = lambda f: (f.market, f.horizon_steps)  # noqa: E731
    for mine, theirs in zip(sorted(fresh, key=key), sorted(last_batch, key=key), strict=True):
        assert (mine.target_ts, mine.price_eur_mwh, mine.lower_eur_mwh) == (
            theirs.target_ts,
            theirs.price_eur_mwh,
            theirs.lower_eur_mwh,
        )
    with pytest.raises(ValueError, match="no intraday price"):
        ForecastComponent(intraday).forecast_now(now)
