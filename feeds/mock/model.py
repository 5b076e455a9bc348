"""The vectorised market model behind the mock feed: weather → load → merit order → coupling.

This module owns the numbers of the simulator. It turns a seed into per-zone load,
wind and solar (MW), pushes the residual load (load − wind − solar) through a convex
merit-order curve scaled by a fuel (gas) price level, adds scarcity spikes, and then
couples the continental zones the way market coupling does: in a coupled step every
zone of a cluster clears at exactly one price; in a congested step prices only
converge part of the way. The load, wind and solar come from
:mod:`feeds.mock.fundamentals`, the coupling from :mod:`feeds.mock.coupling`; the
fuel level and the merit order are here. Callers:

- :class:`feeds.mock.feed.MockFeed` asks :class:`MarketModel` for one UTC day of
  15-minute steps at a time and turns it into events;
- :func:`simulate_hourly_prices` gives an hourly long-format DataFrame shaped like
  ``prices_real_train.parquet``, for ``bench/mock_calibration.py`` and model training.

Calibration (``bench/mock_calibration.py`` prints it against the real 2020–2022
prices): the default :class:`ModelParams` sit near 2021 levels — a fuel level around
95 EUR/MWh with a mean-reverting log random walk (half-life of weeks), not the 2022
crisis (mean 235–275) and not the 2020 Covid lows (mean ~32). Capacities in
:data:`ZONE_PROFILES` are round 2021 figures. Matched: hourly profile, share of
hours in which coupled zones clear at one price (~46 % for all five), negative
hours (~0.4–1.3 %), correlations. Deliberately lower: the standard deviation
(~55 against 2021's ~75–85), because 2021's includes a fourfold gas rally inside one
year that a stationary fuel process does not repeat.

Everything runs on the UTC grid; local time is a fixed offset per zone (DST is
ignored — it shifts the shape by an hour for half the year, which a mock can live
with).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.market.zones import DEFAULT_TABLE, ZoneTable
from engine.time_us import EPOCH
from feeds.mock.coupling import MarketCoupling
from feeds.mock.fundamentals import ZoneFundamentals, season
from feeds.mock.processes import AR1
from feeds.mock.profiles import (
    BORDER_COUPLING_PROB,
    GENERIC_PROFILE,
    ZONE_PROFILES,
    ModelParams,
    ZoneProfile,
    profile_for,
)
from feeds.mock.regions import zone_profile

FloatArray = npt.NDArray[np.float64]

# Day-ahead market limits (SDAC harmonised min/max); GB's own auction is clipped the same.
PRICE_FLOOR_EUR_MWH: Final = -500.0
PRICE_CAP_EUR_MWH: Final = 4000.0

# Re-exported: callers configure the model through these.
__all__ = [
    "BORDER_COUPLING_PROB",
    "GENERIC_PROFILE",
    "ZONE_PROFILES",
    "MarketModel",
    "ModelParams",
    "SimBlock",
    "ZoneProfile",
    "profile_for",
    "simulate_hourly_prices",
]


@dataclass(frozen=True, slots=True)
class SimBlock:
    """A run of consecutive steps for all markets; arrays are (steps, markets)."""

    start: datetime
    step_minutes: int
    markets: tuple[str, ...]
    price_eur_mwh: FloatArray
    load_mw: FloatArray
    wind_mw: FloatArray
    solar_mw: FloatArray
    fuel_eur_mwh: FloatArray  # (steps,)

    @property
    def steps(self) -> int:
        return int(self.price_eur_mwh.shape[0])

    @property
    def residual_load_mw(self) -> FloatArray:
        return self.load_mw - self.wind_mw - self.solar_mw

    def timestamps(self) -> pd.DatetimeIndex:
        """Start of each step, tz-aware UTC."""
        return pd.date_range(
            self.start, periods=self.steps, freq=f"{self.step_minutes}min", tz="UTC"
        )


class MarketModel:
    """A stateful simulator that hands out consecutive blocks of steps.

    Args:
        markets: market codes; a zone of ``zones`` without a hand-made profile gets
            its region's default (:mod:`feeds.mock.regions`), a code in no
            table :data:`GENERIC_PROFILE`.
        seed: the whole realisation follows from it.
        start: first step, tz-aware, aligned to ``step_minutes``.
        step_minutes: 15 for quarter-hours, 60 for hourly series.
        profiles: per-market overrides of :data:`ZONE_PROFILES`.
        params: shared knobs (:class:`ModelParams`).
        zones: the zone table (regions and real borders) with the user's lines.
    """

    def __init__(
        self,
        markets: Sequence[str],
        *,
        seed: int,
        start: datetime,
        step_minutes: int = 15,
        profiles: Mapping[str, ZoneProfile] | None = None,
        params: ModelParams | None = None,
        zones: ZoneTable = DEFAULT_TABLE,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("MarketModel needs a tz-aware start time")
        if not markets:
            raise ValueError("MarketModel needs at least one market")
        if len(set(markets)) != len(markets):
            raise ValueError(f"duplicate markets in {list(markets)}")
        if step_minutes <= 0 or 1440 % step_minutes:
            raise ValueError(f"step_minutes must divide a day, got {step_minutes}")
        start_s = (start - EPOCH).total_seconds()
        if start_s % (step_minutes * 60):
            raise ValueError(f"start {start.isoformat()} is not on the {step_minutes}-min grid")
        self.markets = tuple(markets)
        self.step_minutes = step_minutes
        self.params = params or ModelParams()
        self._cursor_s = int(start_s)
        table = zones
        profiled = [zone_profile(m, profiles, table) for m in self.markets]

        def column(name: str) -> FloatArray:
            return np.array([getattr(z, name) for z in profiled], dtype=np.float64)

        self._level = column("price_level")
        self._res_low = column("residual_low_share")
        self._res_high = column("residual_high_share")

        p = self.params
        step_h = step_minutes / 60.0
        self._step_h = step_h
        # One generator per process: adding a market or chunking differently never
        # reshuffles the draws of another process.
        rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
        self._fundamentals = ZoneFundamentals(profiled, p, rngs[0:3], step_h)
        self._load_mean = self._fundamentals.load_mean
        self._fuel_ar = AR1(rngs[3], tau_h=p.fuel_tau_h, step_h=step_h, loadings=[1.0])
        self._noise_ar = AR1(
            rngs[4], tau_h=p.price_noise_tau_h, step_h=step_h, loadings=[0.0] * len(profiled)
        )
        self._spike_rng = rngs[5]
        self._basis_ar = AR1(
            rngs[6], tau_h=p.uncoupled_basis_tau_h, step_h=step_h, loadings=[0.0] * len(profiled)
        )
        self._coupling = MarketCoupling(
            self.markets,
            profiled,
            p,
            self._load_mean,
            rngs[7],
            rngs[8],
            step_h,
            are_neighbours=table.are_neighbours,
        )

    @property
    def cursor(self) -> datetime:
        """Start of the next block this model will produce."""
        return EPOCH + timedelta(seconds=self._cursor_s)

    def next_days(self, days: int) -> SimBlock:
        """The next ``days`` × (steps per day) steps."""
        return self.next_steps(days * (1440 // self.step_minutes))

    def next_steps(self, steps: int) -> SimBlock:
        """The next ``steps`` steps for every market."""
        if steps <= 0:
            raise ValueError(f"steps must be > 0, got {steps}")
        start = self.cursor
        step_s = self.step_minutes * 60
        mid_h: FloatArray = (
            self._cursor_s + (np.arange(steps, dtype=np.float64) + 0.5) * step_s
        ) / 3600.0
        self._cursor_s += steps * step_s

        load_mw, wind_mw, solar_mw = self._fundamentals.draw(mid_h)
        fuel_eur_mwh = self._fuel(mid_h)
        price = self._isolated_prices(mid_h, load_mw, wind_mw, solar_mw, fuel_eur_mwh)
        price = self._coupling.couple(price, fuel_eur_mwh)
        # Exchanges publish cents; rounding keeps coupled zones bit-identical too.
        price = np.clip(price, PRICE_FLOOR_EUR_MWH, PRICE_CAP_EUR_MWH).round(2)
        return SimBlock(
            start=start,
            step_minutes=self.step_minutes,
            markets=self.markets,
            price_eur_mwh=price,
            load_mw=load_mw,
            wind_mw=wind_mw,
            solar_mw=solar_mw,
            fuel_eur_mwh=fuel_eur_mwh,
        )

    def _fuel(self, mid_h: FloatArray) -> FloatArray:
        p = self.params
        latent = self._fuel_ar.draw(mid_h.shape[0])[:, 0]
        fuel: FloatArray = (
            p.fuel_mean_eur_mwh
            * np.exp(p.fuel_log_sd * latent - 0.5 * p.fuel_log_sd**2)
            * (1.0 + p.fuel_winter_amp * season(mid_h))
        )
        return fuel

    def _isolated_prices(
        self,
        mid_h: FloatArray,
        load_mw: FloatArray,
        wind_mw: FloatArray,
        solar_mw: FloatArray,
        fuel_eur_mwh: FloatArray,
    ) -> FloatArray:
        """Each zone's price if it had no interconnectors: its merit order at its residual load."""
        p = self.params
        steps = mid_h.shape[0]
        residual_share = (load_mw - wind_mw - solar_mw) / self._load_mean
        utilisation = (residual_share - self._res_low) / (self._res_high - self._res_low)
        # Uncoupled zones buy gas on their own hub: a slowly drifting basis.
        basis = np.where(
            self._coupling.coupled_mask,
            1.0,
            np.exp(p.uncoupled_basis_log_sd * self._basis_ar.draw(steps)),
        )
        level = fuel_eur_mwh[:, None] * self._level * basis
        above = np.clip(utilisation, 0.0, None)
        inside = p.curve_floor_share * -np.expm1(-above / p.curve_knee) + p.curve_slope * (
            above**p.curve_exponent
        )
        beyond = np.clip(utilisation - 1.0, 0.0, None)
        scarcity = np.expm1(p.scarcity_convexity * p.scarcity_slope * beyond) / p.scarcity_convexity
        price = level * (inside + scarcity)
        # Below the must-run point renewables bid their subsidies away: the slope is
        # in EUR/MWh, not a share of the fuel level.
        price += p.negative_slope_eur_mwh * np.clip(utilisation, None, 0.0)
        price += p.price_noise_share * level * self._noise_ar.draw(steps)

        # Spikes come when the system is tight (high utilisation), and are rare.
        tight = np.clip((utilisation - 0.7) / 0.4, 0.0, 1.0)
        chance = p.spike_prob_per_h * self._step_h * tight
        # One draw per step for both "whether" and "how big" keeps the sequence
        # independent of how the caller chunks the steps.
        uniforms = self._spike_rng.random((*price.shape, 2))
        hits = uniforms[..., 0] < chance
        size = -p.spike_mean_share * np.log1p(-uniforms[..., 1])  # exponential
        price += np.where(hits, level * size, 0.0)
        out: FloatArray = price
        return out


def simulate_hourly_prices(
    markets: Sequence[str],
    start: datetime,
    days: int,
    seed: int,
    *,
    with_fundamentals: bool = False,
    profiles: Mapping[str, ZoneProfile] | None = None,
    params: ModelParams | None = None,
) -> pd.DataFrame:
    """``days`` of hourly day-ahead prices in the long format of the real parquet.

    Args:
        markets: market codes (unknown ones get the generic profile).
        start: first hour, tz-aware, on the hour (UTC grid).
        days: number of 24-hour UTC days.
        seed: same seed and start, same frame.
        with_fundamentals: add ``load_mw``, ``wind_mw`` and ``solar_mw`` columns.

    Returns:
        Columns ``timestamp`` (UTC), ``market`` (category), ``price_eur_mwh``
        (and the fundamentals when asked), sorted by market then timestamp.
    """
    model = MarketModel(
        markets, seed=seed, start=start, step_minutes=60, profiles=profiles, params=params
    )
    block = model.next_days(days)
    timestamps = block.timestamps()
    n_markets = len(block.markets)
    columns: dict[str, object] = {
        "timestamp": np.tile(timestamps.to_numpy(), n_markets),
        "market": pd.Categorical(
            np.repeat(np.array(block.markets), block.steps), categories=list(block.markets)
        ),
        "price_eur_mwh": block.price_eur_mwh.T.reshape(-1),
    }
    if with_fundamentals:
        columns["load_mw"] = block.load_mw.T.reshape(-1)
        columns["wind_mw"] = block.wind_mw.T.reshape(-1)
        columns["solar_mw"] = block.solar_mw.T.reshape(-1)
    frame = pd.DataFrame(columns)
    frame["timestamp"] = pd.DatetimeIndex(frame["timestamp"]).tz_convert("UTC")
    return frame
