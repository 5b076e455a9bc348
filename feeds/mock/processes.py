"""Building blocks of the simulated market: AR(1) processes, daily shapes, tick noise.

:mod:`feeds.mock.model` composes them into load, wind and solar per zone;
:mod:`feeds.mock.feed` draws its intraday ticks from :class:`IntradayNoise`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

FloatArray = npt.NDArray[np.float64]

# Intraday deviations are drawn this many rounds at a time.
NOISE_CHUNK_ROUNDS: Final = 4096


class AR1:
    """Stationary AR(1) processes (one column each), optionally sharing a common factor.

    Each process owns its random generator, so the output does not depend on how the
    caller chunks the steps: 96 steps twice equals 192 steps once, bit for bit.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        *,
        tau_h: float,
        step_h: float,
        loadings: Sequence[float],
    ) -> None:
        self._rng = rng
        self._phi = math.exp(-step_h / tau_h)
        self._gain = math.sqrt(1.0 - self._phi**2)
        # Column 0 is the shared factor; column i+1 the own noise of process i.
        width = len(loadings)
        mix = np.zeros((width + 1, width))
        for i, loading in enumerate(loadings):
            mix[0, i] = loading
            mix[i + 1, i] = math.sqrt(max(0.0, 1.0 - loading**2))
        self._mix = mix
        self._state: FloatArray = rng.standard_normal(width + 1) @ mix

    def draw(self, steps: int) -> FloatArray:
        """The next ``steps`` values, unit variance, shape (steps, processes)."""
        shocks = self._rng.standard_normal((steps, self._mix.shape[0])) @ self._mix
        values, _ = lfilter(
            [self._gain],
            [1.0, -self._phi],
            shocks,
            axis=0,
            zi=(self._phi * self._state)[None, :],
        )
        out: FloatArray = np.asarray(values, dtype=np.float64)
        self._state = out[-1].copy()
        return out


# Working-day load by local hour (share of the daily mean): night trough, morning
# ramp, midday plateau, evening peak. Shaped after German and French load curves.
LOAD_BY_LOCAL_HOUR: Final = np.array(
    [0.80, 0.77, 0.75, 0.75, 0.78, 0.85, 0.97, 1.07, 1.11, 1.11, 1.10, 1.09,
     1.07, 1.05, 1.04, 1.04, 1.07, 1.12, 1.15, 1.12, 1.06, 0.99, 0.92, 0.85]
)  # fmt: skip
# The anchors are load; prices also see pumped hydro and storage shaving the peaks,
# which a damped load shape stands in for.
LOAD_SHAPE_DAMPING: Final = 0.75
LOAD_BY_LOCAL_HOUR_NORMED: Final = 1.0 + LOAD_SHAPE_DAMPING * (
    LOAD_BY_LOCAL_HOUR / LOAD_BY_LOCAL_HOUR.mean() - 1.0
)


def daily_load_shape(local_hour: FloatArray) -> FloatArray:
    """Load over a working day, mean 1, interpolated between the hourly anchors."""
    # Anchors sit at the middle of each hour; interpolate on the 24-hour circle.
    shape: FloatArray = np.interp(
        local_hour, np.arange(24) + 0.5, LOAD_BY_LOCAL_HOUR_NORMED, period=24.0
    )
    return shape


# Weekend demand: industry and offices are idle. Monday is 0.
WEEKDAY_RAW: Final = np.array([0.99, 1.0, 1.0, 1.0, 0.98, 0.90, 0.84])
WEEKDAY_FACTOR: Final = WEEKDAY_RAW / WEEKDAY_RAW.mean()


def sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 1.0 / (1.0 + np.exp(-x))
    return out


class IntradayNoise:
    """Unit-variance OU deviations per market, pre-generated in chunks of rounds.

    The intraday ticks of :class:`feeds.mock.feed.MockFeed` ride on them.

    Chunking keeps numpy's per-call cost off the per-tick path; the sequence does
    not depend on how many rounds each call takes.
    """

    def __init__(self, rng: np.random.Generator, markets: int, step_s: float, tau_s: float) -> None:
        self._rng = rng
        self._phi = math.exp(-step_s / tau_s)
        self._gain = math.sqrt(1.0 - self._phi**2)
        self._state: FloatArray = rng.standard_normal(markets)
        self._z: FloatArray = np.empty((0, markets))
        self._volume: FloatArray = np.empty((0, markets))

    def take(self, rounds: int) -> tuple[FloatArray, FloatArray]:
        """Deviations and trade volumes (MWh) for the next ``rounds`` rounds."""
        while self._z.shape[0] < rounds:
            shocks = self._rng.standard_normal((NOISE_CHUNK_ROUNDS, self._state.shape[0]))
            values, _ = lfilter(
                [self._gain], [1.0, -self._phi], shocks, axis=0, zi=(self._phi * self._state)[None]
            )
            z: FloatArray = np.asarray(values, dtype=np.float64)
            self._state = z[-1].copy()
            # Intraday trades are small clips: log-normal around 5 MWh, in steps of
            # 0.1 MWh and never zero.
            volume = np.round(self._rng.lognormal(np.log(5.0), 0.8, shocks.shape), 1) + 0.1
            self._z = np.concatenate([self._z, z])
            self._volume = np.concatenate([self._volume, volume])
        z_out, self._z = self._z[:rounds], self._z[rounds:]
        volume_out, self._volume = self._volume[:rounds], self._volume[rounds:]
        return z_out, volume_out
