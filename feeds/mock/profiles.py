"""The simulator's parameters: one profile per bidding zone, and the shared knobs.

:data:`ZONE_PROFILES` holds round 2021 figures per zone (size, renewables, supply
curve, coupling cluster); :class:`ModelParams` the merit-order, fuel, weather
and coupling constants shared by all zones. :mod:`feeds.mock.model` runs them;
a new zone is one entry here or one ``profiles`` override in the feed config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ZoneProfile:
    """What makes one bidding zone's prices: its size, renewables and supply curve.

    ``residual_low_share`` / ``residual_high_share`` place the merit order: residual
    load (as a share of mean load) at which cheap must-run generation alone covers
    demand (price near the bottom of the curve, below it prices go negative) and at
    which the last gas plants run (price at the fuel level, above it scarcity).
    """

    load_mean_mw: float
    load_winter_amp: float  # seasonal swing of load, fraction of mean (electric heating)
    wind_capacity_mw: float
    wind_cf_logit: float  # mean of the latent wind capacity factor, logit scale
    solar_capacity_mw: float
    latitude_deg: float
    longitude_deg: float
    utc_offset_h: float
    price_level: float  # multiplier on the fuel level: local fuel basis, carbon, imports
    residual_low_share: float
    residual_high_share: float
    cluster: str | None = None  # zones of one cluster are market-coupled
    weather_coupling: float = 0.8  # loading on the shared weather factor (0..1)


# Round 2021 figures. AT's and FR's flexible hydro and nuclear flatten their curves,
# which shows up as a wider low/high band.
ZONE_PROFILES: Final[Mapping[str, ZoneProfile]] = {
    "DE": ZoneProfile(
        load_mean_mw=57_000,
        load_winter_amp=0.08,
        wind_capacity_mw=63_000,
        wind_cf_logit=-1.45,
        solar_capacity_mw=54_000,
        latitude_deg=51.0,
        longitude_deg=10.0,
        utc_offset_h=1.0,
        price_level=1.0,
        residual_low_share=0.08,
        residual_high_share=1.15,
        cluster="core",
    ),
    "FR": ZoneProfile(
        load_mean_mw=54_000,
        load_winter_amp=0.22,
        wind_capacity_mw=18_500,
        wind_cf_logit=-1.35,
        solar_capacity_mw=12_000,
        latitude_deg=46.5,
        longitude_deg=2.5,
        utc_offset_h=1.0,
        price_level=1.05,
        residual_low_share=0.48,
        residual_high_share=1.35,
        cluster="core",
    ),
    "NL": ZoneProfile(
        load_mean_mw=13_500,
        load_winter_amp=0.08,
        wind_capacity_mw=8_000,
        wind_cf_logit=-1.05,
        solar_capacity_mw=12_000,
        latitude_deg=52.2,
        longitude_deg=5.3,
        utc_offset_h=1.0,
        price_level=1.02,
        residual_low_share=0.30,
        residual_high_share=1.15,
        cluster="core",
    ),
    "BE": ZoneProfile(
        load_mean_mw=9_500,
        load_winter_amp=0.10,
        wind_capacity_mw=4_700,
        wind_cf_logit=-1.15,
        solar_capacity_mw=6_000,
        latitude_deg=50.6,
        longitude_deg=4.5,
        utc_offset_h=1.0,
        price_level=1.03,
        residual_low_share=0.39,
        residual_high_share=1.20,
        cluster="core",
    ),
    "AT": ZoneProfile(
        load_mean_mw=7_400,
        load_winter_amp=0.12,
        wind_capacity_mw=3_300,
        wind_cf_logit=-1.25,
        solar_capacity_mw=2_500,
        latitude_deg=47.5,
        longitude_deg=14.5,
        utc_offset_h=1.0,
        price_level=1.04,
        residual_low_share=0.45,
        residual_high_share=1.30,
        cluster="core",
    ),
    "GB": ZoneProfile(
        load_mean_mw=30_000,
        load_winter_amp=0.15,
        wind_capacity_mw=25_000,
        wind_cf_logit=-1.05,
        solar_capacity_mw=13_500,
        latitude_deg=53.0,
        longitude_deg=-1.5,
        utc_offset_h=0.0,
        price_level=1.12,
        residual_low_share=0.15,
        residual_high_share=1.15,
        cluster=None,  # left the EU internal energy market: its own auction since 2021
        weather_coupling=0.55,
    ),
}

# A zone nobody profiled: mid-sized, central European, not coupled (a config line
# with a real profile can join it to a cluster).
GENERIC_PROFILE: Final = ZoneProfile(
    load_mean_mw=10_000,
    load_winter_amp=0.10,
    wind_capacity_mw=3_000,
    wind_cf_logit=-1.3,
    solar_capacity_mw=3_000,
    latitude_deg=49.0,
    longitude_deg=12.0,
    utc_offset_h=1.0,
    price_level=1.05,
    residual_low_share=0.2,
    residual_high_share=1.15,
    weather_coupling=0.6,
)

# Borders that still clear at one price when the whole cluster does not (DE-NL and
# DE-AT most often in the real data); other pairs of a cluster use the default.
BORDER_COUPLING_PROB: Final[Mapping[frozenset[str], float]] = {
    frozenset(("DE", "NL")): 0.10,
    frozenset(("DE", "AT")): 0.08,
    frozenset(("NL", "BE")): 0.08,
    frozenset(("BE", "FR")): 0.06,
}


def profile_for(market: str, overrides: Mapping[str, ZoneProfile] | None = None) -> ZoneProfile:
    """The profile of ``market``: an override, a built-in one, or the generic one."""
    if overrides is not None and market in overrides:
        return overrides[market]
    return ZONE_PROFILES.get(market, GENERIC_PROFILE)


@dataclass(frozen=True, slots=True)
class ModelParams:
    """Knobs shared by all zones. Time constants in hours, prices in EUR/MWh."""

    # Fuel-driven price level (gas and carbon): the mid-merit plant's marginal cost,
    # which is about where mean prices land. Long-run level, 2021-like.
    fuel_mean_eur_mwh: float = 95.0
    fuel_tau_h: float = 24.0 * 40  # mean reversion of the fuel level (≈ 4-week half-life)
    fuel_log_sd: float = 0.38  # stationary spread of log fuel level
    fuel_winter_amp: float = 0.08  # gas is dearer in winter
    # The merit order as a function of utilisation u (0 at the must-run point, 1 at
    # the last gas plant): price/fuel = floor·(1 − e^(−u/knee)) + slope·u^exponent.
    # The floor comes quickly (lignite, coal, nuclear), gas plants make it convex.
    curve_floor_share: float = 0.43
    curve_knee: float = 0.1
    curve_slope: float = 1.9
    curve_exponent: float = 2.0
    negative_slope_eur_mwh: float = 220.0  # how fast prices fall below the must-run point
    # Above the last gas plant: (e^(convexity·slope·(u−1)) − 1)/convexity, peakers and
    # demand response, steeper the further out.
    scarcity_slope: float = 0.9
    scarcity_convexity: float = 4.0
    load_noise_sd: float = 0.03  # weather-driven load deviation, fraction
    load_tau_h: float = 36.0
    wind_tau_h: float = 30.0
    wind_latent_sd: float = 1.15
    wind_winter_amp: float = 0.45  # logit shift: windier winters
    cloud_tau_h: float = 14.0
    price_noise_share: float = 0.07  # zone-specific price noise, share of fuel level
    price_noise_tau_h: float = 4.0
    spike_prob_per_h: float = 0.016  # chance of a spike per zone-hour at full tightness
    spike_mean_share: float = 1.2  # mean spike size, share of fuel level
    coupling_tau_h: float = 10.0  # persistence of cross-border capacity conditions
    coupling_log_threshold: float = -0.6  # log relative price dispersion that still couples
    coupling_log_sd: float = 0.9
    congested_convergence: float = 0.35  # how far congested prices move to the coupled price
    border_coupling_default: float = 0.02
    uncoupled_basis_log_sd: float = 0.12  # own gas hub (NBP vs TTF): a drifting basis
    uncoupled_basis_tau_h: float = 24.0 * 10
