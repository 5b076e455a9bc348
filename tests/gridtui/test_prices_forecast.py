"""The Prices pane's forecasts: how far ahead, warming up, the band and tomorrow's curve; Δ 1h.

Model-level tests fold events into a real DashboardModel; Pilot tests run the
real app on a ScriptedClient and read the cells and the chart the user sees.
The warm-up's "needed" number comes from the shipped intraday model, and a
test checks it against when that model really publishes its first forecast.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.events import Event, Forecast, Fundamentals, PriceTick
from gridtui.client.protocol import ForecasterInfo, forecasters_of
from gridtui.settings.loader import Settings
from gridtui.tui.app import GridApp
from gridtui.tui.folds.prices import ForecasterNeeds
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.views import ChartSeries
from gridtui.tui.widgets.formatting import Palette
from gridtui.tui.widgets.price_chart import PriceChart, render_chart
from gridtui.tui.widgets.price_table import PriceTable
from tests.stubs.scripted_client import ScriptedClient, settle

T0 = datetime(2025, 11, 5, 13, 50, tzinfo=UTC)
HOURLY = ForecasterNeeds("id-model", "intraday", 3600, 1)
DAY_AHEAD = ForecasterNeeds("da-model", "dayahead", 3600, 0)


def tick(market: str, price: float, minutes: float) -> PriceTick:
    return PriceTick(ts=T0 + timedelta(minutes=minutes), market=market, price_eur_mwh=price)


def forecast(minutes_ahead: float, *, model: str = "id-model", at: float = 0) -> Forecast:
    issued = T0 + timedelta(minutes=at)
    return Forecast(
        ts=issued,
        market="DE",
        target_ts=issued + timedelta(minutes=minutes_ahead),
        horizon_steps=1,
        price_eur_mwh=90.0,
        lower_eur_mwh=80.0,
        upper_eur_mwh=104.0,
        model_id=model,
    )


def view(model: DashboardModel, market: str = "DE"):
    return next(m for m in model.snapshot().markets if m.market == market)


# -- Δ 1h --------------------------------------------------------------------------------


def test_change_1h_is_unknown_until_an_hour_of_history() -> None:
    model = DashboardModel(["DE"])
    model.apply([tick("DE", 80.0, 0), tick("DE", 95.0, 30)])
    assert view(model).change_1h_eur_mwh is None  # was 15.0 against the first tick
    model.apply([tick("DE", 99.0, 61)])
    assert view(model).change_1h_eur_mwh == pytest.approx(19.0)


async def test_change_column_shows_a_dash_before_an_hour() -> None:
    client = ScriptedClient([tick("DE", 80.0, 0), tick("DE", 95.0, 30)], markets=("DE",))
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.dashboard.query_one(PriceTable)
        assert table.cell_text("DE", "change").strip() == "—"
        client.push([tick("DE", 99.0, 61)])
        await settle(pilot)
        assert table.cell_text("DE", "change").strip() == "▲ 19.00"


# -- the forecast's horizon ----------------------------------------------------------------


def test_forecast_says_how_far_ahead_it_is() -> None:
    model = DashboardModel(["DE"], forecasters=[HOURLY])
    model.apply([tick("DE", 80.0, 0), forecast(45)])
    shown = view(model)
    assert shown.forecast_eur_mwh == 90.0
    assert shown.forecast_in_s == 45 * 60
    model.apply([tick("DE", 81.0, 15)])  # fifteen minutes later it is thirty minutes ahead
    assert view(model).forecast_in_s == 30 * 60


def test_the_forecast_of_the_hour_in_progress_stays_shown() -> None:
    """Targets are period starts: the hourly model's forecast of 14:00 is for 14:00-15:00."""
    model = DashboardModel(["DE"], forecasters=[HOURLY])
    model.apply([tick("DE", 80.0, 0), forecast(10), forecast(250)])  # 14:00 and 18:00
    model.apply([tick("DE", 81.0, 30)])  # 14:20: the 14:00 hour is in progress
    shown = view(model)
    assert shown.forecast_in_s == -20 * 60  # not the 18:00 one, 3h40 ahead
    model.apply([tick("DE", 82.0, 71)])  # 15:01: that hour is over
    assert view(model).forecast_in_s == pytest.approx((250 - 71) * 60)


# -- warming up ---------------------------------------------------------------------------


def test_warming_up_counts_closed_steps_until_the_first_forecast() -> None:
    model = DashboardModel(["DE", "FR"], forecasters=[HOURLY])
    model.apply([tick("DE", 80.0, 0), tick("FR", 70.0, 0), tick("DE", 81.0, 5)])
    assert view(model).forecast_warmup == (0, 1)
    assert model.snapshot().charts["DE"].warmup == (
        "forecast warming up: 0 of 1 hours closed, first due 14:00"  # T0 is 13:50
    )
    model.apply([tick("DE", 82.0, 10), forecast(60, at=10)])  # 14:00: the hour closed
    assert view(model).forecast_warmup is None
    assert model.snapshot().charts["DE"].warmup == ""
    assert view(model, "FR").forecast_warmup == (0, 1)  # FR has not closed an hour yet


def test_no_warmup_hint_without_a_forecaster() -> None:
    model = DashboardModel(["DE"])
    model.apply([tick("DE", 80.0, 0)])
    assert view(model).forecast_warmup is None


async def test_table_and_chart_say_warming_up() -> None:
    client = ScriptedClient(
        [tick("DE", 80.0, 0), tick("DE", 81.0, 5)],
        markets=("DE",),
        forecasters=(ForecasterInfo(model_id="m", task="intraday", step_s=3600, warmup_steps=1),),
    )
    app = GridApp(client)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.dashboard.query_one(PriceTable)
        assert table.cell_text("DE", "forecast").strip() == "warm-up"
        assert table.cell_text("DE", "ahead").strip() == "0/1h"
        chart = app.dashboard.query_one(PriceChart)
        assert "forecast warming up: 0 of 1 hours closed, first due 14:00" in chart.render().plain
        client.push(
            [
                tick("DE", 82.0, 10),
                Forecast(
                    ts=T0 + timedelta(minutes=10),
                    market="DE",
                    target_ts=T0 + timedelta(minutes=70),
                    horizon_steps=1,
                    price_eur_mwh=88.5,
                    model_id="m",
                ),
            ]
        )
        await settle(pilot)
        assert table.cell_text("DE", "forecast").strip() == "88.50"
        assert table.cell_text("DE", "ahead").strip() == "+1h"
        assert "warming up" not in chart.render().plain


def test_the_shipped_intraday_model_forecasts_after_its_warmup_steps(tmp_path: Path) -> None:
    """The "needed" the pane shows is when the real model publishes its first forecast."""
    from gridtui.wiring import build_forecast_components

    settings = Settings(data_dir=str(tmp_path))
    components = [c for c in build_forecast_components(settings) if c.name == "forecast-intraday"]
    if not components:
        pytest.skip("no intraday forecast model is promoted")
    component = components[0]
    (info,) = [f for f in forecasters_of(components)]
    assert info.task == "intraday" and info.step_s == 3600
    markets = settings.markets
    closed, first_at = 0.0, None
    for minute in range(0, 3 * 60, 5):
        now = T0 + timedelta(minutes=minute)
        batch: list[Event] = [
            PriceTick(ts=now, market=m, price_eur_mwh=80.0 + minute % 7) for m in markets
        ]
        batch += [
            Fundamentals(ts=now, market=m, load_mw=50_000, wind_mw=9_000, solar_mw=4_000)
            for m in markets
        ]
        if component.on_events(batch, now):
            first_at = now
            break
        closed = (now.timestamp() // info.step_s) - (T0.timestamp() // info.step_s)
    assert first_at is not None
    # The first tick of a new hour closes the one before: that is the forecast's moment.
    assert closed + 1 == info.warmup_steps
    assert first_at.timestamp() // info.step_s - T0.timestamp() // info.step_s == 1


# -- the band and tomorrow's day-ahead curve ----------------------------------------------


def test_chart_draws_the_band_between_its_edges() -> None:
    now_s = T0.timestamp()
    series = ChartSeries(
        market="DE",
        start_s=now_s - 3600,
        now_s=now_s,
        end_s=now_s + 3600,
        intraday=((now_s - 600, 90.0),),
        forecast=((now_s + 1800, 90.0, 60.0, 120.0),),
    )
    lines = render_chart(series, 60, 14, Palette()).plain.splitlines()[1:-1]
    (col,) = {line.index("•") for line in lines if "•" in line}
    column = [line[col] if len(line) > col else " " for line in lines]
    # Filled from the upper to the lower edge (not just two dots).
    assert column.count("░") >= 6, column


def test_tomorrows_day_ahead_forecast_extends_the_chart() -> None:
    model = DashboardModel(["DE"], forecasters=[HOURLY, DAY_AHEAD])
    tomorrow = T0.replace(hour=23, minute=0)
    day_ahead = [
        Forecast(
            ts=T0,
            market="DE",
            target_ts=tomorrow + timedelta(hours=h),
            horizon_steps=h + 10,
            price_eur_mwh=70.0 + h,
            lower_eur_mwh=60.0 + h,
            upper_eur_mwh=85.0 + h,
            model_id="da-model",
        )
        for h in range(24)
    ]
    model.apply([tick("DE", 80.0, 0), *day_ahead])
    chart = model.snapshot().charts["DE"]
    assert len(chart.day_ahead_forecast) == 24 and chart.forecast == ()
    assert chart.end_s == (tomorrow + timedelta(hours=24)).timestamp()
    drawn = render_chart(chart, 120, 20, Palette()).plain
    assert "∙" in drawn and "tomorrow" in drawn and "░" in drawn
    # A day-ahead forecast is not the intraday one: the warm-up goes on.
    assert view(model).forecast_warmup == (0, 1)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "—"), (-60, "now"), (0, "+0m"), (45 * 60, "+45m"), (3600, "+1h"), (9000, "+2h30")],
)
def test_how_far_ahead_reads(seconds: float | None, shown: str) -> None:
    from gridtui.tui.widgets.formatting import ahead

    assert ahead(seconds) == shown
