"""A forecast's price band: normalised predictions to EUR/MWh, and its adaptive calibration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from models.features.pipeline import FeatureBlock
from models.features.price_grid import FloatArray, IntArray
from models.features.price_window import to_price


@dataclass(frozen=True, slots=True)
class PriceBand:
    """Predictions in EUR/MWh for the rows of a :class:`FeatureBlock`."""

    block: FeatureBlock
    point: FloatArray
    lower: FloatArray
    upper: FloatArray


def band_to_prices(
    block: FeatureBlock,
    point: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    offset: float | FloatArray,
) -> PriceBand:
    """Normalised point and quantile predictions → EUR/MWh.

    ``offset`` (one value, or one per row) widens — or, negative, narrows — the
    band in the normalised space, by what calibration found (:class:`AdaptiveBand`);
    the band is then put around the point so that lower ≤ point ≤ upper holds.
    """
    low = np.minimum(np.minimum(lower, point) - offset, point)
    high = np.maximum(np.maximum(upper, point) + offset, point)
    return PriceBand(
        block=block,
        point=to_price(point, block.level, block.scale),
        lower=to_price(low, block.level, block.scale),
        upper=to_price(high, block.level, block.scale),
    )


class AdaptiveBand:
    """Keeps a forecast band honest while the market changes: adaptive conformal inference.

    The band's offset (normalised space, one per market) starts where the
    validation split put it and then moves after each known outcome: up by
    ``rate × (1 − miss_target)`` when a price fell outside the band that was
    issued for it, down by ``rate × miss_target`` when it fell inside (Gibbs &
    Candès 2021). In the long run the band covers its nominal share whatever
    the regime — a band calibrated on calm years would otherwise cover far too
    little in a crisis, and too much after it. Only outcomes known at decision
    time are used, the same way live (:class:`ForecastComponent`) and in
    evaluation (:mod:`models.forecast.evaluation`).
    """

    bounds: Final = (-1.0, 3.0)

    def __init__(self, n_markets: int, start: float, rate: float, miss_target: float) -> None:
        self.offset = np.full(n_markets, start, dtype=np.float64)
        self.rate = rate
        self.miss_target = miss_target

    def offsets(self, market: IntArray) -> FloatArray:
        return self.offset[market]

    def update(self, market: IntArray, missed: npt.NDArray[np.bool_]) -> None:
        """Record outcomes: ``missed[i]`` is whether market ``market[i]``'s price left its band."""
        if self.rate and len(market):
            np.add.at(
                self.offset, market, self.rate * (missed.astype(np.float64) - self.miss_target)
            )
            np.clip(self.offset, *self.bounds, out=self.offset)
