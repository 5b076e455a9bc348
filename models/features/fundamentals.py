"""Fundamentals features: load, wind and solar as known before a decision, per market."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.features.price_grid import FloatArray, IntArray
from models.features.price_window import _ffill


def _fundamental_features(
    fund: FloatArray, names: Sequence[str], cut: IntArray, steps_per_day: int
) -> tuple[list[str], FloatArray]:
    """Last value and mean of the day before ``cut`` (exclusive), per market: ``[n, M, F]``.

    Raises:
        FeatureError: a fundamental has no value at all in that day.
    """
    n, length, n_markets, _ = fund.shape
    positions = np.arange(length)[None, :]
    known = (positions < cut[:, None]) & (positions >= cut[:, None] - steps_per_day)
    masked = np.where(known[:, :, None, None], fund, np.nan)
    valid = np.isfinite(masked)
    count = valid.sum(axis=1)  # [n, M, K]
    mean = np.where(valid, masked, 0.0).sum(axis=1) / np.maximum(count, 1)
    last = _ffill(masked.reshape(n, length, -1)).reshape(masked.shape)
    last_index = np.clip(cut - 1, 0, length - 1)
    last_value = last[np.arange(n), last_index]  # [n, M, K]
    names_out: list[str] = []
    columns: list[FloatArray] = []
    for k, name in enumerate(names):
        stem = name.removesuffix("_mw")
        names_out += [f"{stem}_last_mw", f"{stem}_mean24_mw"]
        columns += [last_value[:, :, k], np.where(count[:, :, k] > 0, mean[:, :, k], np.nan)]
    if {"load_mw", "wind_mw", "solar_mw"} <= set(names):
        load, wind, solar = (list(names).index(c) for c in ("load_mw", "wind_mw", "solar_mw"))
        for label, source in (("last", last_value), ("mean24", mean)):
            share = (source[:, :, wind] + source[:, :, solar]) / np.maximum(source[:, :, load], 1.0)
            names_out.append(f"renewables_share_{label}")
            columns.append(share)
    stacked = np.stack(columns, axis=2) if columns else np.zeros((n, n_markets, 0))
    return names_out, stacked
