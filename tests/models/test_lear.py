"""LEAR (models.forecast.lear): no look-ahead, local-day shapes across DST, faithful
LassoLarsIC fits, and a known relation recovered."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LassoLarsIC

from models.features.price_grid import grid_from_frame
from models.forecast.dayahead import delivery_index, lear_forecasts
from models.forecast.lear import daily_prices, fit_hours, neighbours_of
from tests.models.forecast_builders import synthetic_prices

# Three coupled zones: LEAR reads 4 × 24 own + 2 × 24 neighbour prices + 7 dummies,
# so it needs about 160 complete days before it forecasts at all.
MARKETS = ("DE", "FR", "NL")
START = datetime(2022, 9, 1, tzinfo=UTC)  # 2023-03-26 (23 h) and 2023-10-29 (25 h) ahead


@pytest.fixture(scope="module")
def frame():
    return synthetic_prices(MARKETS, days=430, start=START, seed=5)


def _local_day(frame: pd.DataFrame) -> pd.Series:
    days: pd.Series = frame["timestamp"].dt.tz_convert("Europe/Brussels").dt.date
    return days


def test_forecasts_ignore_every_price_of_day_d_and_later(frame):
    day = date(2023, 3, 27)  # the day after the 23-hour day
    before = lear_forecasts(frame, ["DE", "FR"], day, day)
    later = _local_day(frame) >= day
    rng = np.random.default_rng(0)
    changed = frame.copy()
    changed.loc[later, "price_eur_mwh"] = rng.normal(500, 300, int(later.sum()))
    for altered in (changed, frame.loc[~later]):
        after = lear_forecasts(altered, ["DE", "FR"], day, day)
        for market in ("DE", "FR"):
            assert np.isfinite(before[market]).all()
            np.testing.assert_array_equal(after[market].to_numpy(), before[market].to_numpy())
    # …while a price of D−1 does move it: the forecast reads D−1.
    d1 = _local_day(frame) == date(2023, 3, 26)
    nudged = frame.copy()
    nudged.loc[d1 & (frame["market"] == "DE"), "price_eur_mwh"] += 40.0
    assert not np.array_equal(
        lear_forecasts(nudged, ["DE"], day, day)["DE"].to_numpy(), before["DE"].to_numpy()
    )


def test_series_cover_every_local_hour_across_dst(frame):
    first, last = date(2023, 3, 25), date(2023, 3, 27)
    out = lear_forecasts(frame, ["NL"], first, last, calibration_days=200)
    series = out["NL"]
    assert series.index.equals(delivery_index(first, last))
    assert str(pd.DatetimeIndex(series.index).tz) == "UTC" and series.dtype == np.float64
    per_day = series.groupby(
        pd.DatetimeIndex(series.index).tz_convert("Europe/Brussels").date
    ).size()
    assert per_day.tolist() == [24, 23, 24]
    assert np.isfinite(series).all()
    autumn = lear_forecasts(frame, ["NL"], date(2023, 10, 29), date(2023, 10, 29))["NL"]
    assert len(autumn) == 25
    local = pd.DatetimeIndex(autumn.index).tz_convert("Europe/Brussels")
    twice = autumn[local.hour == 2]
    assert len(twice) == 2 and twice.iloc[0] == twice.iloc[1]  # one slot, both 02:00 hours


def test_daily_slots_follow_local_hours_on_dst_days():
    # One market whose price is 100 × the local hour (+ 0.5 for the second 02:00).
    spans = [("2023-03-25", "2023-03-28"), ("2023-10-28", "2023-10-31")]
    utc = pd.DatetimeIndex(
        np.concatenate(
            [
                pd.date_range(a, b, freq="h", tz="Europe/Brussels").tz_convert("UTC")
                for a, b in spans
            ]
        )
    )
    hours = utc.tz_convert("Europe/Brussels")
    second = pd.Series(hours.hour == 2).groupby(hours.date).cumsum().to_numpy() == 2
    price = 100.0 * hours.hour + 0.5 * (second & (hours.hour == 2))
    frame = pd.DataFrame({"timestamp": utc, "market": "DE", "price_eur_mwh": price})
    daily = daily_prices(grid_from_frame(frame, ["DE"], 60), "Europe/Brussels")
    spring = daily.prices[daily.row(date(2023, 3, 26)), 0]
    autumn = daily.prices[daily.row(date(2023, 10, 29)), 0]
    assert spring[2] == pytest.approx(200.0)  # no 02:00 that day: mean of 01:00 and 03:00
    assert autumn[2] == pytest.approx(200.25)  # two 02:00 hours, averaged
    np.testing.assert_allclose(np.delete(spring, 2), 100.0 * np.delete(np.arange(24), 2))
    assert np.isnan(daily.prices[daily.row(date(2023, 5, 1)), 0]).all()  # between the stretches


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_shared_work_gives_lassolarsic_own_fits(criterion):
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((300, 40))
    xs[:, 20:] = xs[:, :20] + 0.3 * rng.standard_normal((300, 20))  # collinear, like lags
    ys = xs[:, :3] @ rng.standard_normal((3, 24)) + 0.5 * rng.standard_normal((300, 24))
    coef, intercept = fit_hours(xs, ys, criterion)
    for hour in (0, 11, 23):
        plain = LassoLarsIC(criterion=criterion).fit(xs, ys[:, hour])
        np.testing.assert_allclose(coef[:, hour], plain.coef_, atol=1e-10)
        assert intercept[hour] == pytest.approx(plain.intercept_, abs=1e-10)


def test_recovers_a_known_relation():
    # DE clears at yesterday's FR price of the same hour plus 10 (+ a little noise):
    # LEAR must find that among its 151 inputs and forecast close to the truth.
    rng = np.random.default_rng(7)
    ts = pd.date_range(START, periods=360 * 24, freq="h", tz="UTC")
    hour = ts.tz_convert("Europe/Brussels").hour.to_numpy()
    walk = 80 + np.cumsum(rng.normal(0, 0.8, len(ts)))
    fr = walk + 25 * np.sin((hour - 7) / 24 * 2 * np.pi) + rng.normal(0, 6, len(ts))
    nl = walk + rng.normal(0, 10, len(ts))
    de = np.full(len(ts), np.nan)
    de[24:] = fr[:-24] + 10 + rng.normal(0, 0.5, len(ts) - 24)
    de[:24] = 90.0
    frame = pd.concat(
        [
            pd.DataFrame({"timestamp": ts, "market": m, "price_eur_mwh": p})
            for m, p in (("DE", de), ("FR", fr), ("NL", nl))
        ],
        ignore_index=True,
    )
    assert neighbours_of("DE", MARKETS) == ("FR", "NL")
    first, last = date(2023, 8, 1), date(2023, 8, 7)
    forecast = lear_forecasts(frame, ["DE"], first, last)["DE"]
    index = forecast.index
    truth = pd.Series(fr + 10, index=ts + pd.Timedelta(hours=24)).reindex(index)
    actual = pd.Series(de, index=ts).reindex(index)
    lear_mae = float((forecast - truth).abs().mean())
    spread = float((actual - actual.mean()).abs().mean())
    assert lear_mae < 1.0 < spread / 10  # within 1 EUR/MWh of the rule, prices vary by ≫ 10
