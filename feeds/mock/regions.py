"""Default simulator profiles for zones nobody profiled by hand, one per region.

:data:`feeds.mock.profiles.ZONE_PROFILES` holds the six calibrated zones. Any
other zone of :mod:`engine.market.zones` (CH, PL, the Nordic and Italian zones,
ES, …) gets :func:`default_profile`: its region's template below, with the
zone's own UTC offset. The templates are round orders of magnitude for 2021, not
a calibration: what they get right is the character of each region.

| region | level | band (low–high) | wind / solar share of load | cluster |
| --- | --- | --- | --- | --- |
| CWE (CH, LU) | 0.88 | 0.40–1.30 (hydro, nuclear) | 0.05 / 0.08 | none (CH is outside SDAC) |
| CEE | 0.95 | 0.30–1.20 (coal) | 0.12 / 0.12 | core |
| SEE | 0.82 | 0.30–1.15 | 0.12 / 0.15 | see |
| Nordic | 0.70 | 0.55–1.60 (reservoir hydro flattens prices) | 0.30 / 0.02 | nordic |
| DK1, DK2 | 0.95 | 0.10–1.15 (thermal and wind) | 0.80 / 0.10 | core |
| Baltic | 0.74 | 0.20–1.10 (imports) | 0.15 / 0.05 | nordic |
| Italy | 0.75 | 0.25–1.10 (gas sets the price) | 0.08 / 0.20 | italy |
| Iberia | 0.79 | 0.20–1.20 | 0.40 / 0.30 | iberia |
| GB/IE (IE) | 1.15 | 0.15–1.10 (wind) | 0.55 / 0.03 | none (SEM is not coupled to GB) |

"level" is the multiplier on the shared fuel level. With the band (the merit
order's residual-load shares: a narrower, lower band runs the curve hotter) it
sets where a region's mean lands against DE's; the levels were set so that a
simulated year lands near 2021's rough ratios: Nordic ~0.6x DE, CH ~1.05x,
CEE ~1.15x, SEE ~1.25x, Italy ~1.3x, Iberia ~1x, Baltic ~0.95x. A wider band
means flatter prices (lower volatility); the shares are installed capacity
over mean load. A zone of a cluster is market-coupled with the other
zones of that cluster, and its borders merge in congested hours only where
:meth:`engine.market.zones.ZoneTable.are_neighbours` says there is an
interconnector (:mod:`feeds.mock.coupling`). CEE joins the continental
``core`` cluster of DE, FR, NL, BE, AT (the Core capacity calculation region).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from engine.market.zones import DEFAULT_TABLE, BiddingZone, ZoneTable
from feeds.mock.profiles import GENERIC_PROFILE, ZONE_PROFILES, ZoneProfile, profile_for


@dataclass(frozen=True, slots=True)
class RegionTemplate:
    """What one region's default profile is made of (see the module table)."""

    price_level: float
    residual_low_share: float
    residual_high_share: float
    wind_share: float
    solar_share: float
    latitude_deg: float
    longitude_deg: float
    cluster: str | None
    load_winter_amp: float = 0.10
    wind_cf_logit: float = -1.3
    weather_coupling: float = 0.6


# A default zone's mean load: mid-sized, so that it moves a coupled cluster's
# price without dominating the hand-profiled big zones (DE 57 GW, FR 54 GW).
DEFAULT_LOAD_MW: Final = 8_000.0

REGION_TEMPLATES: Final[Mapping[str, RegionTemplate]] = {
    "CWE": RegionTemplate(0.88, 0.40, 1.30, 0.05, 0.08, 47.0, 8.0, None),
    "CEE": RegionTemplate(0.95, 0.30, 1.20, 0.12, 0.12, 49.5, 18.0, "core"),
    "SEE": RegionTemplate(0.82, 0.30, 1.15, 0.12, 0.15, 43.0, 22.0, "see"),
    "Nordic": RegionTemplate(
        0.70, 0.55, 1.60, 0.30, 0.02, 61.0, 15.0, "nordic", load_winter_amp=0.25
    ),
    "Baltic": RegionTemplate(0.74, 0.20, 1.10, 0.15, 0.05, 57.0, 24.0, "nordic"),
    "Italy": RegionTemplate(0.75, 0.25, 1.10, 0.08, 0.20, 42.0, 12.5, "italy"),
    "Iberia": RegionTemplate(
        0.79, 0.20, 1.20, 0.40, 0.30, 40.0, -4.0, "iberia", wind_cf_logit=-1.2
    ),
    "GB/IE": RegionTemplate(
        1.15, 0.15, 1.10, 0.55, 0.03, 53.3, -7.5, None, wind_cf_logit=-1.0, weather_coupling=0.5
    ),
}


# Denmark is Nordic by market (Nord Pool, the Nordic CCR) but thermal and wind by
# mix, and its prices follow DE's far more than Norway's hydro: priced like CWE,
# windier, and coupled with the continental core.
ZONE_TEMPLATES: Final[Mapping[str, RegionTemplate]] = {
    code: RegionTemplate(0.95, 0.10, 1.15, 0.80, 0.10, 55.8, 10.5, "core", wind_cf_logit=-1.1)
    for code in ("DK1", "DK2")
}


def default_profile(zone: BiddingZone) -> ZoneProfile:
    """The region's template for ``zone``, on the zone's standard-time UTC offset."""
    template = ZONE_TEMPLATES.get(zone.code) or REGION_TEMPLATES.get(
        zone.region, REGION_TEMPLATES["CWE"]
    )
    # Standard time (January): the model ignores DST, like it does for the six.
    offset = datetime(2021, 1, 15, 12, tzinfo=UTC).astimezone(ZoneInfo(zone.time_zone)).utcoffset()
    utc_offset_h = 1.0 if offset is None else offset.total_seconds() / 3600.0
    return ZoneProfile(
        load_mean_mw=DEFAULT_LOAD_MW,
        load_winter_amp=template.load_winter_amp,
        wind_capacity_mw=template.wind_share * DEFAULT_LOAD_MW,
        wind_cf_logit=template.wind_cf_logit,
        solar_capacity_mw=template.solar_share * DEFAULT_LOAD_MW,
        latitude_deg=template.latitude_deg,
        longitude_deg=template.longitude_deg,
        utc_offset_h=utc_offset_h,
        price_level=template.price_level,
        residual_low_share=template.residual_low_share,
        residual_high_share=template.residual_high_share,
        cluster=template.cluster,
        weather_coupling=template.weather_coupling,
    )


def zone_profile(
    market: str,
    overrides: Mapping[str, ZoneProfile] | None = None,
    table: ZoneTable = DEFAULT_TABLE,
) -> ZoneProfile:
    """The profile of ``market``: an override, a hand-made one, its region's default,
    or (a code in no zone table) :data:`~feeds.mock.profiles.GENERIC_PROFILE`."""
    if (overrides is not None and market in overrides) or market in ZONE_PROFILES:
        return profile_for(market, overrides)
    if market in table:
        return default_profile(table.zone(market))
    return GENERIC_PROFILE
