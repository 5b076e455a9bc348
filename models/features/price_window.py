"""Gap filling and normalisation of price windows ``[decisions, lookback steps, markets]``.

Both pipelines fill a window's gaps and compute its level and scale here, inside
the window and only there, so the fill cannot differ between training and live;
the rules and the transform are described in :mod:`models.features.pipeline`.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from models.features.price_grid import FloatArray

_MAD_TO_SIGMA: Final = 1.4826
_FILL_DAYS: Final = 7


def _ffill(values: FloatArray) -> FloatArray:
    """Forward-fill NaN along axis 1 of ``[n, L, M]``."""
    length = values.shape[1]
    positions = np.arange(length, dtype=np.int64)[None, :, None]
    index = np.where(np.isnan(values), 0, positions)
    np.maximum.accumulate(index, axis=1, out=index)
    return np.take_along_axis(values, index, axis=1)


def _bfill(values: FloatArray) -> FloatArray:
    return _ffill(values[:, ::-1])[:, ::-1]


def fill_window(prices: FloatArray, steps_per_day: int) -> FloatArray:
    """Fill the gaps of ``[n, L, M]`` price windows (see :mod:`models.features.pipeline`)."""
    filled = prices.copy()
    length = filled.shape[1]
    for days_back in range(1, _FILL_DAYS + 1):
        shift = days_back * steps_per_day
        missing = np.isnan(filled)
        if shift >= length or not missing.any():
            break
        earlier = np.full_like(filled, np.nan)
        earlier[:, shift:] = filled[:, :-shift]
        filled = np.where(missing, earlier, filled)
    if np.isnan(filled).any():
        filled = _bfill(_ffill(filled))
    missing = np.isnan(filled)
    if missing.any():  # a market without any data in the window: the others' mean
        known = ~missing
        total = np.where(known, filled, 0.0).sum(axis=2)
        count = known.sum(axis=2)
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        filled = np.where(missing, mean[:, :, None], filled)
    return filled


def _norm_stats(filled: FloatArray, steps_per_day: int) -> tuple[FloatArray, FloatArray]:
    """Level (mean of the last day) and scale (robust spread of the last week): ``[n, M]``."""
    day = filled[:, -steps_per_day:, :]
    week = filled[:, -7 * steps_per_day :, :]
    level = day.mean(axis=1)
    median = np.median(week, axis=1)
    mad = np.median(np.abs(week - median[:, None, :]), axis=1)
    # A floor keeps flat stretches (a week at one price) from exploding the transform.
    scale = np.maximum(_MAD_TO_SIGMA * mad, 1.0 + 0.05 * np.abs(level))
    return level, scale


def to_normalised(values: FloatArray, level: FloatArray, scale: FloatArray) -> FloatArray:
    return np.arcsinh((values - level) / scale)


def to_price(values: FloatArray, level: FloatArray, scale: FloatArray) -> FloatArray:
    return level + scale * np.sinh(values)
