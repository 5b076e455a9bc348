"""The mock market's fundamentals: per-zone load, wind and solar (MW) from the weather.

:class:`ZoneFundamentals` turns the zone profiles and three weather processes
(load noise, wind, cloud) into load, wind and solar output per step;
:func:`season` is the shared seasonal cycle. :mod:`feeds.mock.model` pushes what
comes out through the merit order. Local time is a fixed offset per zone (DST is
ignored, see :mod:`feeds.mock.model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from feeds.mock.processes import AR1, WEEKDAY_FACTOR, FloatArray, daily_load_shape, sigmoid
from feeds.mock.profiles import ModelParams, ZoneProfile

DAYS_PER_YEAR: Final = 365.2425


def season(mid_h: FloatArray) -> FloatArray:
    """cos of the season: +1 in mid-January, −1 in mid-July."""
    day_of_year = np.mod(mid_h / 24.0, DAYS_PER_YEAR)
    cycle: FloatArray = np.cos(2.0 * np.pi * (day_of_year - 15.0) / DAYS_PER_YEAR)
    return cycle


class ZoneFundamentals:
    """Load, wind and solar of every zone, one block of steps at a time.

    Args:
        zones: one profile per market, in the model's market order.
        params: shared knobs (:class:`ModelParams`).
        rngs: the generators of the load, wind and cloud processes, in that order.
        step_h: step length in hours.
    """

    def __init__(
        self,
        zones: Sequence[ZoneProfile],
        params: ModelParams,
        rngs: Sequence[np.random.Generator],
        step_h: float,
    ) -> None:
        def column(name: str) -> FloatArray:
            return np.array([getattr(z, name) for z in zones], dtype=np.float64)

        self.params = params
        self.load_mean = column("load_mean_mw")
        self._load_winter = column("load_winter_amp")
        self._wind_cap = column("wind_capacity_mw")
        self._wind_logit = column("wind_cf_logit")
        self._solar_cap = column("solar_capacity_mw")
        self._lat_rad = np.radians(column("latitude_deg"))
        self._lon_deg = column("longitude_deg")
        self._offset_h = column("utc_offset_h")
        loadings = [z.weather_coupling for z in zones]
        p = params
        load_rng, wind_rng, cloud_rng = rngs
        self._load_ar = AR1(load_rng, tau_h=p.load_tau_h, step_h=step_h, loadings=loadings)
        self._wind_ar = AR1(wind_rng, tau_h=p.wind_tau_h, step_h=step_h, loadings=loadings)
        self._cloud_ar = AR1(cloud_rng, tau_h=p.cloud_tau_h, step_h=step_h, loadings=loadings)

    def draw(self, mid_h: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Load, wind and solar (MW), each (steps, markets), at the step midpoints ``mid_h``."""
        p = self.params
        steps = mid_h.shape[0]
        local_h = mid_h[:, None] + self._offset_h[None, :]
        hour_of_day = np.mod(local_h, 24.0)
        # 1970-01-01 was a Thursday; shift so Monday is 0.
        weekday = (np.floor(local_h / 24.0).astype(np.int64) + 3) % 7
        cycle = season(mid_h)[:, None]

        load_shape = daily_load_shape(hour_of_day)
        # Weekends: a lower level and a flatter day (offices and industry are idle).
        weekday_factor = WEEKDAY_FACTOR[weekday]
        load_mw = (
            self.load_mean
            * (1.0 + self._load_winter * cycle)
            * (1.0 + (load_shape - 1.0) * np.where(weekday >= 5, 0.6, 1.0))
            * weekday_factor
            * (1.0 + p.load_noise_sd * self._load_ar.draw(steps))
        )

        wind_logit = (
            self._wind_logit
            + p.wind_winter_amp * cycle
            + p.wind_latent_sd * self._wind_ar.draw(steps)
        )
        wind_mw = self._wind_cap * sigmoid(wind_logit)

        day_of_year = np.mod(mid_h / 24.0, DAYS_PER_YEAR)[:, None]
        declination = np.radians(23.44) * np.sin(2.0 * np.pi * (day_of_year - 80.0) / DAYS_PER_YEAR)
        solar_hour = np.mod(mid_h[:, None] + self._lon_deg / 15.0, 24.0)
        hour_angle = np.radians(15.0 * (solar_hour - 12.0))
        sin_elevation = np.sin(self._lat_rad) * np.sin(declination) + np.cos(
            self._lat_rad
        ) * np.cos(declination) * np.cos(hour_angle)
        # Output follows the sun's elevation (a little sharper: longer air path at
        # dawn); clouds keep 20–100 % of it; 0.8 is the fleet's peak AC/DC ratio.
        clear_sky = np.clip(sin_elevation, 0.0, None) ** 1.2
        clearness = 0.2 + 0.8 * sigmoid(0.6 + 1.4 * self._cloud_ar.draw(steps))
        solar_mw = self._solar_cap * 0.8 * clear_sky * clearness
        return load_mw, wind_mw, solar_mw
