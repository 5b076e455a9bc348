"""LEAR: the field's standard day-ahead benchmark (Lago, Marcjasz, De Schutter & Weron 2021).

"Forecasting day-ahead electricity prices: a review of state-of-the-art algorithms,
best practices and an open-access benchmark" (Applied Energy 293) fixes one
linear model that every new day-ahead forecaster should be compared with: for
each delivery hour h of day D, a LASSO regression of the price at h on

- the market's own prices of days D−1, D−2, D−3 and D−7 (all 24 hours each),
- the coupled zones' prices of D−1 (all 24 hours each; here the other
  continental zones of DE, FR, NL, BE, AT that the data holds),
- seven day-of-week dummies of D,

with inputs and target variance-stabilised column by column (median / MAD, then
asinh: the paper's "invariant" transform) on the calibration window, the penalty
chosen by an information criterion (``LassoLarsIC``, AIC by default, as in the
paper), and the forecast mapped back with sinh. It is recalibrated every day: to
forecast D it fits on the ``calibration_days`` most recent days before D.

Information set (the project's governing rule): the forecast for D is made on
D−1 before gate closure. It reads day-ahead prices of delivery days up to D−1
only — those of D−1 are published on D−2 at ~12:45, long before D−1 10:00 — and
calibrates on rows whose target day is at most D−1. Nothing from day D or later
is read, so changing those prices leaves the forecast for D unchanged to the bit
(``tests/models/test_lear.py``).

Local hours: delivery days are local days (Europe/Brussels). A price belongs to
the slot ``floor(local hour)`` of its local day, the ``local_hour`` the feature
pipeline (:mod:`models.features.dayahead`) gives the model: on the 25-hour day
the two 02:00 hours share slot 2 (averaged as inputs; both get the slot's
forecast), on the 23-hour day slot 2 has no hour of its own — as an input it
takes the mean of slots 1 and 3, its forecast is not used.

Missing data: a calibration day is used only when its target and every input are
present; the day to forecast gets a forecast only when its own market has at
least half of D−1 (the feature pipeline's rule), its other missing inputs taking
the latest earlier value of the same slot (past only).

Speed: the 24 hours of a day share one design matrix, so its Gram matrix and the
OLS noise variance that ``LassoLarsIC`` would estimate once per hour are
computed once per day for all 24 (the same figures LassoLarsIC computes itself;
``test_lear`` checks the coefficients against a plain ``LassoLarsIC`` fit).
One recalibration (24 fits on 728 days × 199 inputs) takes ~0.75 s of CPU,
almost all of it in LARS itself; a year of five markets took 824 s on two
joblib workers (``bench/forecast_eval.py``). Markets and blocks of days run in
parallel with joblib. Callers: :mod:`models.forecast.dayahead`
(``lear_forecasts``) and ``bench/forecast_eval.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
from joblib import Parallel, delayed
from sklearn.linear_model import LassoLarsIC
from threadpoolctl import threadpool_limits

from models.features.calendar import _local_calendar
from models.features.price_grid import FloatArray, PriceGrid
from models.features.price_window import _ffill

CONTINENTAL: Final = ("DE", "FR", "NL", "BE", "AT")
OWN_LAG_DAYS: Final = (1, 2, 3, 7)
SLOTS: Final = 24
_MAD_TO_SIGMA: Final = 1.4826
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class DailyPrices:
    """Prices by local day and local hour slot: ``prices[day, market, slot]`` (NaN: unknown).

    ``first_day`` is the local day of row 0; rows are consecutive days.
    """

    markets: tuple[str, ...]
    first_day: date
    prices: FloatArray

    def row(self, day: date) -> int:
        return (day - self.first_day).days


def daily_prices(grid: PriceGrid, timezone: str, last_day: date | None = None) -> DailyPrices:
    """An hourly grid as ``[local day, market, 24 slots]`` (see the module docstring on DST).

    ``last_day``: extend the rows (NaN) up to this day, so a day past the data
    still has a row to forecast.
    """
    steps = np.arange(grid.first_step, grid.last_step + 1, dtype=np.int64)
    hours, _, day_number = _local_calendar(steps, grid.step_minutes * 60, timezone)
    slot = np.floor(hours).astype(np.int64)
    first = int(day_number.min())
    last = int(day_number.max())
    if last_day is not None:
        last = max(last, last_day.toordinal() - _EPOCH_ORDINAL)
    n_days, n_markets = last - first + 1, len(grid.markets)
    total = np.zeros((n_days, SLOTS, n_markets))
    count = np.zeros((n_days, SLOTS, n_markets))
    known = np.isfinite(grid.prices)
    cells = (day_number - first, slot)
    np.add.at(total, cells, np.where(known, grid.prices, 0.0))
    np.add.at(count, cells, known.astype(np.float64))
    prices = np.where(count > 0, total / np.maximum(count, 1.0), np.nan).transpose(0, 2, 1)
    # The 23-hour day has no 02:00: a slot without an hour of its own (but with both
    # neighbours) takes their mean, as the upstream files' filler row stood in for it.
    hours_in_slot = np.zeros((n_days, SLOTS))
    np.add.at(hours_in_slot, cells, 1.0)
    gap = hours_in_slot[:, 1:-1] == 0
    between = 0.5 * (prices[:, :, :-2] + prices[:, :, 2:])
    inner = prices[:, :, 1:-1]
    prices[:, :, 1:-1] = np.where(gap[:, None, :], between, inner)
    return DailyPrices(
        markets=tuple(grid.markets),
        first_day=date.fromordinal(_EPOCH_ORDINAL + first),
        prices=prices,
    )


def neighbours_of(market: str, available: Sequence[str]) -> tuple[str, ...]:
    """The coupled zones whose D−1 prices LEAR reads for ``market``."""
    return tuple(z for z in CONTINENTAL if z != market and z in available)


def _lagged(prices: FloatArray, days: int) -> FloatArray:
    """``prices`` shifted ``days`` rows down (row t holds row t − days); NaN at the top."""
    out = np.full_like(prices, np.nan)
    out[days:] = prices[:-days]
    return out


@dataclass(frozen=True, slots=True)
class Design:
    """LEAR's rows for one market, one per local day (row t: target day t).

    ``x`` raw inputs (NaN where unknown: such rows are not calibrated on),
    ``x_filled`` the same with gaps filled from earlier days only (to forecast
    from), ``y`` the 24 target prices, ``enough_d1`` whether the own market has
    at least half of day t−1, ``n_prices`` the leading price columns (the rest
    are the day-of-week dummies, which are not transformed).
    """

    x: FloatArray
    x_filled: FloatArray
    y: FloatArray
    enough_d1: npt.NDArray[np.bool_]
    n_prices: int


def design(daily: DailyPrices, market: str, neighbours: Sequence[str]) -> Design:
    """Precompute LEAR's design matrix for ``market`` over every day of ``daily``."""
    index = {m: i for i, m in enumerate(daily.markets)}
    raw = daily.prices
    # Past-only fill along days: a missing slot takes the latest earlier value of that slot.
    n_days, n_markets, _ = raw.shape
    filled = _ffill(raw.reshape(1, n_days, n_markets * SLOTS)).reshape(raw.shape)
    own = index[market]

    def inputs(source: FloatArray) -> FloatArray:
        columns = [_lagged(source[:, own, :], k) for k in OWN_LAG_DAYS]
        columns += [_lagged(source[:, index[z], :], 1) for z in neighbours]
        return np.concatenate(columns, axis=1)

    weekday = np.array(
        [(daily.first_day + timedelta(days=t)).weekday() for t in range(n_days)], dtype=np.int64
    )
    dummies = np.eye(7)[weekday]
    x = np.concatenate([inputs(raw), dummies], axis=1)
    x_filled = np.concatenate([inputs(filled), dummies], axis=1)
    observed_d1 = np.isfinite(_lagged(raw[:, own, :], 1)).sum(axis=1)
    return Design(
        x=x,
        x_filled=x_filled,
        y=raw[:, own, :].copy(),
        enough_d1=observed_d1 * 2 >= SLOTS,
        n_prices=x.shape[1] - 7,
    )


def _median_mad(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    median = np.median(values, axis=0)
    mad = _MAD_TO_SIGMA * np.median(np.abs(values - median), axis=0)
    # A constant column (MAD 0) is only centred: dividing by 0 would blow it up.
    return median, np.where(mad > 0, mad, 1.0)


def fit_hours(xs: FloatArray, ys: FloatArray, criterion: str) -> tuple[FloatArray, FloatArray]:
    """The 24 LASSOs of one recalibration, in the transformed space.

    The same fits as ``LassoLarsIC(criterion).fit(xs, ys[:, h])`` for each hour h
    (``test_lear`` checks it), with the work they share done once: centring, the
    Gram matrix and the OLS noise variance (n − p − 1 degrees of freedom), the
    latter for all 24 targets in one least-squares solve.

    Returns:
        coefficients ``[features, 24]`` and intercepts ``[24]``.
    """
    x_mean, y_mean = xs.mean(axis=0), ys.mean(axis=0)
    xc, yc = xs - x_mean, ys - y_mean
    gram = xc.T @ xc
    n_rows, n_features = xc.shape
    beta = np.linalg.lstsq(xc, yc, rcond=None)[0]
    noise = ((yc - xc @ beta) ** 2).sum(axis=0) / (n_rows - n_features - 1)
    noise = np.maximum(noise, 1e-12)  # an exact fit would make the criterion log(0)
    coef = np.empty((n_features, ys.shape[1]))
    for hour in range(ys.shape[1]):
        model = LassoLarsIC(
            criterion=criterion,
            fit_intercept=False,
            precompute=gram,
            noise_variance=float(noise[hour]),
            max_iter=2500,
        )
        coef[:, hour] = model.fit(xc, yc[:, hour]).coef_
    return coef, y_mean - x_mean @ coef


def fit_predict_day(
    x_cal: FloatArray, y_cal: FloatArray, x_new: FloatArray, n_prices: int, criterion: str
) -> FloatArray:
    """One recalibration: fit the 24 hourly LASSOs on ``x_cal``/``y_cal``, forecast ``x_new``.

    Args:
        x_cal: ``[days, features]`` complete calibration inputs; the first
            ``n_prices`` columns are prices (transformed), the rest dummies.
        y_cal: ``[days, 24]`` their target prices.
        x_new: ``[features]`` the inputs of the day to forecast.
        criterion: ``"aic"`` or ``"bic"``.

    Returns:
        The 24 forecast prices in EUR/MWh.
    """
    x_med, x_mad = _median_mad(x_cal[:, :n_prices])
    xs = x_cal.copy()
    xs[:, :n_prices] = np.arcsinh((x_cal[:, :n_prices] - x_med) / x_mad)
    xn = x_new.copy()
    xn[:n_prices] = np.arcsinh((x_new[:n_prices] - x_med) / x_mad)
    y_med, y_mad = _median_mad(y_cal)
    coef, intercept = fit_hours(xs, np.arcsinh((y_cal - y_med) / y_mad), criterion)
    return np.asarray(y_med + y_mad * np.sinh(xn @ coef + intercept), dtype=np.float64)


def _forecast_rows(
    d: Design, rows: Sequence[int], calibration_days: int, criterion: str
) -> FloatArray:
    """Forecasts ``[len(rows), 24]`` of the days at ``rows`` (NaN: no forecast)."""
    complete = np.asarray(np.isfinite(d.x).all(axis=1) & np.isfinite(d.y).all(axis=1))
    # Fewer complete days than features leave the OLS noise estimate undefined.
    min_rows = d.x.shape[1] + 10
    out = np.full((len(rows), SLOTS), np.nan)
    # One BLAS thread: the matrices are small, and threads fighting over two cores
    # made each day four times slower (2.9 s instead of 0.75 s for 24 fits, measured).
    with threadpool_limits(limits=1):
        for i, t in enumerate(rows):
            if not d.enough_d1[t] or not np.isfinite(d.x_filled[t]).all():
                continue
            start = max(t - calibration_days, 0)
            usable = start + np.flatnonzero(complete[start:t])  # target days ≤ D−1 only
            if len(usable) >= min_rows:
                out[i] = fit_predict_day(
                    d.x[usable], d.y[usable], d.x_filled[t], d.n_prices, criterion
                )
    return out


def lear_daily(
    daily: DailyPrices,
    markets: Sequence[str],
    first_day: date,
    last_day: date,
    *,
    calibration_days: int = 728,
    criterion: str = "aic",
    n_jobs: int = 1,
    chunk_days: int = 61,
) -> dict[str, FloatArray]:
    """LEAR forecasts ``[days, 24 slots]`` per market for the local days first_day..last_day.

    Work is split into (market, block of ``chunk_days`` days) tasks for joblib;
    each day is fitted from scratch, so the split cannot change a result.
    """
    if criterion not in ("aic", "bic"):
        raise ValueError(f"criterion must be 'aic' or 'bic', got {criterion!r}")
    if calibration_days < 1:
        raise ValueError("calibration_days must be ≥ 1")
    n_days = (last_day - first_day).days + 1
    targets = [daily.row(first_day) + i for i in range(n_days)]
    inside = [t for t in targets if 0 <= t < len(daily.prices)]
    designs = {m: design(daily, m, neighbours_of(m, daily.markets)) for m in markets}
    tasks = [
        (m, inside[i : i + chunk_days]) for m in markets for i in range(0, len(inside), chunk_days)
    ]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_forecast_rows)(designs[m], rows, calibration_days, criterion) for m, rows in tasks
    )
    out = {m: np.full((n_days, SLOTS), np.nan) for m in markets}
    offset = daily.row(first_day)
    for (m, rows), values in zip(tasks, results, strict=True):
        out[m][np.asarray(rows, dtype=np.int64) - offset] = values
    return out
