"""The feature pipeline: live (tick by tick) equals batch, no look-ahead, gaps, DST, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.events import Event, Fundamentals, PriceKind, PriceTick
from models.features.dayahead import DayAheadPipeline
from models.features.holidays import easter_sunday, is_holiday
from models.features.intraday import IntradayPipeline
from models.features.pick import capacity_steps
from models.features.pipeline import PipelineConfig
from models.features.price_grid import (
    FeatureError,
    LiveGrid,
    grid_from_frame,
    infer_step_minutes,
    step_of,
)
from models.features.price_window import fill_window
from tests.models.forecast_builders import (
    as_fundamentals,
    as_ticks,
    drop_day,
    synthetic_prices,
    ticks_within_steps,
)

MARKETS = ("DE", "FR", "NL")


def rows_by_origin(block, origin):
    keep = block.origin_step == origin
    order = np.lexsort((block.target_step[keep], block.market[keep]))
    return block.x[keep][order]


def test_intraday_features_computed_tick_by_tick_equal_the_batch_ones():
    hourly = drop_day(synthetic_prices(MARKETS, days=14), "FR", "2023-01-09")
    ticks = ticks_within_steps(hourly, per_step=3)  # a tick series: 3 ticks an hour
    config = PipelineConfig(task="intraday", markets=MARKETS, horizons=(1, 5, 60))
    pipeline = IntradayPipeline(config)
    batch_grid = grid_from_frame(ticks, MARKETS, 60, deliveries=False)
    steps = np.arange(batch_grid.first_step, batch_grid.last_step + 1, dtype=np.int64)
    batch = {h: pipeline.compute(batch_grid, steps, h) for h in config.horizons}

    live = LiveGrid(MARKETS, 60, capacity_steps=capacity_steps(pipeline), deliveries=False)
    open_step, compared = None, 0
    for tick in as_ticks(ticks):
        step = step_of(tick.ts, 60)
        if open_step is not None and step > open_step:  # open_step has just closed
            for horizon in config.horizons:
                got = pipeline.compute(live, np.array([open_step]), horizon).x
                np.testing.assert_array_equal(got, rows_by_origin(batch[horizon], open_step))
                compared += len(got)
        live.add_price(tick)
        open_step = step
    assert compared > 14 * 24 * 3 * 2  # every closed step, every horizon, nearly every market


def _dayahead_events(frame: pd.DataFrame, delay: timedelta = timedelta(0)):
    """(time it becomes known, event), in time order: a day's 15-minute curve at the
    11:00 UTC auction the day before (plus ``delay``), fundamentals as they happen."""
    timed: list[tuple[datetime, Event]] = []
    for tick in as_ticks(frame, PriceKind.DAY_AHEAD, delivery_minutes=15):
        day_start = datetime.combine(tick.ts.date(), datetime.min.time(), tzinfo=UTC)
        timed.append((day_start - timedelta(hours=13) + delay, tick))
    if "load_mw" in frame.columns and not delay:
        timed += [(event.ts, event) for event in as_fundamentals(frame)]
    return sorted(timed, key=lambda item: item[0])


def test_dayahead_features_made_live_at_the_decision_time_equal_the_batch_ones():
    quarters = synthetic_prices(MARKETS, days=20, step_minutes=15, fundamentals=True)
    quarters = drop_day(quarters, "NL", "2023-01-12")
    # One curve is published twice, corrected: the last publication wins, live and batch.
    again = quarters[quarters["timestamp"].dt.date == date(2023, 1, 15)].copy()
    again["price_eur_mwh"] += 7.0
    frame = pd.concat([quarters, again], ignore_index=True)
    frame["resolution_minutes"] = 15
    config = PipelineConfig(task="dayahead", markets=MARKETS, fundamentals=("load_mw", "wind_mw"))
    pipeline = DayAheadPipeline(config)
    batch_grid = grid_from_frame(frame, MARKETS, 60, config.fundamentals)
    days = pipeline.days_between(date(2023, 1, 4), date(2023, 1, 21))
    batch = pipeline.compute(batch_grid, days)

    live = LiveGrid(
        MARKETS, 60, config.fundamentals, capacity_steps=capacity_steps(pipeline), deliveries=True
    )
    events = sorted(
        _dayahead_events(quarters) + _dayahead_events(again, timedelta(hours=2)),
        key=lambda item: item[0],
    )
    decisions = sorted((pipeline.decision_at(d), d) for d in days)
    compared, position = 0, 0
    for when, day in decisions:
        while position < len(events) and events[position][0] <= when:
            event = events[position][1]
            if isinstance(event, PriceTick):
                live.add_price(event)
            elif isinstance(event, Fundamentals):
                live.add_fundamentals(event)
            position += 1
        got = pipeline.compute(live, [day])
        want = rows_by_origin(batch, step_of(when, 60))
        np.testing.assert_array_equal(rows_by_origin(got, step_of(when, 60)), want)
        compared += len(want)
    assert compared >= 17 * 24 * 3 - 24  # every day and market, one market-day short of data


def test_dayahead_features_do_not_look_past_the_decision():
    frame = synthetic_prices(MARKETS, days=20, fundamentals=True)
    config = PipelineConfig(task="dayahead", markets=MARKETS, fundamentals=("wind_mw",))
    pipeline = DayAheadPipeline(config)
    day = date(2023, 1, 18)
    before = pipeline.compute(grid_from_frame(frame, MARKETS, 60, ("wind_mw",)), [day])
    decision = pd.Timestamp(pipeline.decision_at(day))
    future = frame.copy()
    later_price = future["timestamp"] >= pd.Timestamp(
        pipeline.day_bounds(day)[0] * 3600, unit="s", tz="UTC"
    )
    future.loc[later_price, "price_eur_mwh"] *= 5  # D's own prices and beyond
    future.loc[future["timestamp"] >= decision, "wind_mw"] = 0.0  # fundamentals after 10:00
    after = pipeline.compute(grid_from_frame(future, MARKETS, 60, ("wind_mw",)), [day])
    np.testing.assert_array_equal(before.x, after.x)
    assert len(before) == 24 * len(MARKETS)


def test_intraday_features_do_not_look_past_the_closed_step():
    frame = synthetic_prices(MARKETS, days=12)
    pipeline = IntradayPipeline(PipelineConfig(task="intraday", markets=MARKETS))
    grid = grid_from_frame(frame, MARKETS, 60)
    end = grid.first_step + 11 * 24
    before = pipeline.compute(grid, np.array([end]), 60)
    changed = grid.prices.copy()
    changed[end - grid.first_step + 1 :] += 100.0
    shifted = type(grid)(grid.markets, 60, grid.first_step, changed, grid.fundamentals)
    np.testing.assert_array_equal(before.x, pipeline.compute(shifted, np.array([end]), 60).x)


def test_delivery_days_follow_brussels_time_through_dst():
    config = PipelineConfig(task="dayahead", markets=("DE",))
    pipeline = DayAheadPipeline(config)
    for day, hours in ((date(2023, 3, 26), 23), (date(2023, 10, 29), 25), (date(2023, 6, 1), 24)):
        start, end = pipeline.day_bounds(day)
        assert end - start == hours
    # The decision for D is at 10:00 Brussels on D−1: 08:00 UTC in summer, 09:00 in winter.
    assert pipeline.decision_at(date(2023, 6, 2)) == datetime(2023, 6, 1, 8, tzinfo=UTC)
    assert pipeline.decision_at(date(2023, 1, 2)) == datetime(2023, 1, 1, 9, tzinfo=UTC)

    frame = synthetic_prices(("DE",), days=300)
    grid = grid_from_frame(frame, ("DE",), 60)
    short = pipeline.compute(grid, [date(2023, 3, 26)])
    long = pipeline.compute(grid, [date(2023, 10, 29)])
    assert (len(short), len(long)) == (23, 25)


def test_quarter_hour_grid_gives_96_steps_a_day():
    frame = synthetic_prices(("DE", "FR"), days=16, step_minutes=15)
    assert infer_step_minutes(frame) == 15
    pipeline = DayAheadPipeline(
        PipelineConfig(task="dayahead", markets=("DE", "FR"), step_minutes=15)
    )
    block = pipeline.compute(grid_from_frame(frame, ("DE", "FR"), 15), [date(2023, 1, 16)])
    assert len(block) == 2 * 96
    assert pipeline.lookback_steps == 14 * 96


def test_gaps_are_filled_from_the_day_before_then_from_the_other_markets():
    window = np.full((1, 72, 2), np.nan)
    window[0, :, 0] = np.arange(72.0)
    window[0, 30, 0] = np.nan  # one missing step: the value a day earlier
    filled = fill_window(window, steps_per_day=24)
    assert filled[0, 30, 0] == 6.0
    np.testing.assert_array_equal(filled[0, :, 1], filled[0, :, 0])  # a market with no data


def test_a_market_without_recent_data_gets_no_rows():
    frame = synthetic_prices(MARKETS, days=20)
    frame = frame[~((frame["market"] == "NL") & (frame["timestamp"] >= "2023-01-15"))]
    pipeline = DayAheadPipeline(PipelineConfig(task="dayahead", markets=MARKETS))
    block = pipeline.compute(grid_from_frame(frame, MARKETS, 60), [date(2023, 1, 18)])
    assert set(block.market.tolist()) == {0, 1}  # DE and FR, not NL


def test_missing_fundamentals_mean_no_rows_not_nan_features():
    frame = synthetic_prices(MARKETS, days=20, fundamentals=True)
    frame.loc[frame["market"] == "FR", "load_mw"] = np.nan
    pipeline = DayAheadPipeline(
        PipelineConfig(task="dayahead", markets=MARKETS, fundamentals=("load_mw",))
    )
    block = pipeline.compute(grid_from_frame(frame, MARKETS, 60, ("load_mw",)), [date(2023, 1, 18)])
    assert 1 not in set(block.market.tolist()) and len(block) == 48
    assert not np.isnan(block.x).any()


def test_feature_names_are_stable_and_unique():
    for task in ("dayahead", "intraday"):
        config = PipelineConfig(
            task=task, markets=MARKETS, fundamentals=("load_mw", "wind_mw", "solar_mw")
        )
        names = (DayAheadPipeline if task == "dayahead" else IntradayPipeline)(config).names
        assert len(names) == len(set(names))
        assert "region_FR_d1" in names or "region_FR_now" in names
        assert "renewables_share_last" in names and "holiday" in " ".join(names)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"task": "weekly"}, "task must be"),
        ({"markets": ()}, "markets"),
        ({"step_minutes": 20}, "step_minutes"),
        ({"fundamentals": ("gas_mw",)}, "unknown fundamentals"),
        ({"horizons": (0,)}, "horizons"),
        ({"decision_time": "ten"}, "HH:MM"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_bad_pipeline_settings_are_refused(changes, message):
    settings = {"task": "intraday", "markets": ("DE",)} | changes
    with pytest.raises(FeatureError, match=message):
        PipelineConfig(**settings)


def test_holidays_per_country():
    assert easter_sunday(2022) == date(2022, 4, 17) and easter_sunday(2024) == date(2024, 3, 31)
    assert is_holiday("DE", date(2022, 10, 3)) and not is_holiday("FR", date(2022, 10, 3))
    assert is_holiday("FR", date(2022, 7, 14)) and is_holiday("BE", date(2022, 7, 21))
    assert is_holiday("AT", date(2022, 12, 8)) and is_holiday("AT", date(2022, 6, 16))
    assert is_holiday("NL", date(2022, 4, 27)) and is_holiday("NL", date(2025, 4, 26))
    assert is_holiday("DE", date(2022, 4, 15))  # Good Friday
    assert is_holiday("FR", date(2022, 5, 26))  # Ascension
    # England and Wales: substitute days and the 2022 specials.
    assert is_holiday("GB", date(2022, 12, 27)) and is_holiday("GB", date(2022, 9, 19))
    assert is_holiday("GB", date(2021, 12, 28)) and is_holiday("GB", date(2022, 6, 3))
    assert not is_holiday("GB", date(2022, 5, 30))  # the spring holiday moved to 2 June
    assert not is_holiday("ES", date(2022, 1, 1))  # no calendar: no holidays


def test_local_calendar_matches_pandas_time_zones_through_dst():
    from models.features.calendar import _local_calendar

    for step_minutes in (15, 60):
        step_s = step_minutes * 60
        start = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp()) // step_s
        steps = np.arange(start, start + 2 * 366 * 86_400 // step_s, dtype=np.int64)
        hours, weekday, day_number = _local_calendar(steps, step_s, "Europe/Brussels")
        local = pd.DatetimeIndex(pd.to_datetime(steps * step_s, unit="s", utc=True)).tz_convert(
            "Europe/Brussels"
        )
        np.testing.assert_array_equal(hours, local.hour + local.minute / 60)
        np.testing.assert_array_equal(weekday, local.day_of_week)
        days = (local.tz_localize(None).normalize() - pd.Timestamp("1970-01-01")).days
        np.testing.assert_array_equal(day_number, days)
