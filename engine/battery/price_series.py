"""Day-ahead prices on a regular grid, and the epoch-microsecond clock they are kept in.

:class:`PriceSeries` is what a battery backtest runs over
(:func:`engine.battery.dispatch.run_controller`): one market's prices on a regular grid
of ``step_minutes``, with the gaps of the source filled. Battery dispatch counts
time in integer microseconds since the epoch (UTC); :mod:`engine.time_us`
converts (re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Epoch-microsecond time has one home; re-exported for the battery modules
# that import it from here.
from engine.time_us import US_PER_DAY, US_PER_MINUTE, from_us, to_us

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PriceSeries:
    """One market's prices on a regular grid of ``step_minutes``, starting at ``start_us``.

    ``filled`` marks steps that were missing from the source and filled in by
    :meth:`from_points` (the real data lacks a few whole days and the DST hours).
    """

    market: str
    start_us: int
    step_minutes: int
    prices: FloatArray
    filled: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.prices)

    @property
    def step_us(self) -> int:
        return self.step_minutes * US_PER_MINUTE

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0

    @property
    def steps_per_day(self) -> int:
        return (24 * 60) // self.step_minutes

    def times_us(self) -> IntArray:
        return self.start_us + np.arange(len(self.prices), dtype=np.int64) * self.step_us

    def day_numbers(self) -> IntArray:
        """UTC day (days since the epoch) of each step: what the cycle cap counts in."""
        return self.times_us() // US_PER_DAY

    def window(self, start: int, stop: int) -> PriceSeries:
        return PriceSeries(
            market=self.market,
            start_us=self.start_us + start * self.step_us,
            step_minutes=self.step_minutes,
            prices=self.prices[start:stop],
            filled=self.filled[start:stop],
        )

    @classmethod
    def from_points(
        cls,
        market: str,
        times_us: Sequence[int] | IntArray,
        prices: Sequence[float] | FloatArray,
        step_minutes: int = 60,
    ) -> PriceSeries:
        """Put (time, price) points on a regular grid and fill the gaps.

        A missing step takes the price one day earlier (or later, at the very
        start), else the last price before it: a whole missing day becomes a
        copy of its neighbour, which keeps the daily shape every policy
        trades on. Duplicated steps keep their mean.
        """
        times = np.asarray(times_us, dtype=np.int64)
        values = np.asarray(prices, dtype=np.float64)
        if len(times) == 0:
            raise ValueError(f"{market}: no prices")
        step_us = step_minutes * US_PER_MINUTE
        start = int(times.min()) // step_us * step_us
        index = (times - start) // step_us
        n = int(index.max()) + 1
        sums = np.bincount(index, weights=values, minlength=n)
        counts = np.bincount(index, minlength=n)
        grid = np.full(n, np.nan)
        present = counts > 0
        grid[present] = sums[present] / counts[present]
        filled = ~present
        day = (24 * 60) // step_minutes
        for shift in (day, -day):
            gap = np.isnan(grid)
            if not gap.any():
                break
            source = np.arange(n) - shift
            ok = gap & (source >= 0) & (source < n)
            ok[ok] &= ~np.isnan(grid[source[ok]])
            grid[ok] = grid[source[ok]]
        if np.isnan(grid).any():
            last = np.maximum.accumulate(np.where(np.isnan(grid), 0, np.arange(n)))
            grid = grid[last]
        return cls(market, start, step_minutes, grid, filled)


__all__ = [
    "US_PER_DAY",
    "US_PER_MINUTE",
    "FloatArray",
    "IntArray",
    "PriceSeries",
    "from_us",
    "to_us",
]
