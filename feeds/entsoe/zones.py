"""Which ENTSO-E area a gridtui market is, and what the API's production codes mean.

This module is the ENTSO-E adapter's view of :mod:`engine.market.zones` (the one
zone table: EIC codes and real borders) plus the psrType codes of the generation
data. More zones are one config line (``[zones.XX] eic = "10Y..."`` or the older
``[entsoe.zones] XX = "10Y..."``), never code: every function here takes the
user's overrides or a :class:`~engine.market.zones.ZoneTable` built from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from engine.market.zones import DEFAULT_MARKETS, ZONES, ZoneTable

# The six gridtui markets (DESIGN.md). DE is the DE-LU bidding zone.
DEFAULT_ZONES: Final[Mapping[str, str]] = {market: ZONES[market].eic for market in DEFAULT_MARKETS}

# Every bidding zone a user can add by naming the market alone (``markets = [..., "ES"]``):
# the one table in :mod:`engine.market.zones`.
KNOWN_ZONES: Final[Mapping[str, str]] = {code: zone.eic for code, zone in ZONES.items()}

# Physical borders between known zones (undirected), for flows (A11) and
# day-ahead transfer capacity (A61). Only borders with an interconnector.
NEIGHBOURS: Final[frozenset[frozenset[str]]] = frozenset(
    frozenset((zone.code, other)) for zone in ZONES.values() for other in zone.neighbours
)

# psrType codes of "actual generation per production type" (A75).
PRODUCTION_TYPES: Final[Mapping[str, str]] = {
    "B01": "biomass",
    "B02": "lignite",
    "B03": "coal_gas",
    "B04": "gas",
    "B05": "hard_coal",
    "B06": "oil",
    "B07": "oil_shale",
    "B08": "peat",
    "B09": "geothermal",
    "B10": "hydro_pumped_storage",
    "B11": "hydro_run_of_river",
    "B12": "hydro_reservoir",
    "B13": "marine",
    "B14": "nuclear",
    "B15": "other_renewable",
    "B16": "solar",
    "B17": "waste",
    "B18": "wind_offshore",
    "B19": "wind_onshore",
    "B20": "other",
    "B25": "energy_storage",
}
WIND_TYPES: Final = frozenset({"B18", "B19"})
SOLAR_TYPES: Final = frozenset({"B16"})


class UnknownZoneError(ValueError):
    """A market has no EIC code; the message says which config line adds it."""


def zone_table(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Market → EIC for every zone gridtui knows, the user's overrides applied."""
    return {**KNOWN_ZONES, **(overrides or {})}


def eic_codes(markets: Sequence[str], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The EIC code of each market, in the order given.

    Raises:
        UnknownZoneError: a market is neither known nor configured.
    """
    table = zone_table(overrides)
    missing = [market for market in markets if market not in table]
    if missing:
        example = missing[0]
        raise UnknownZoneError(
            f"no ENTSO-E area code for market(s) {', '.join(missing)}: add one config line per "
            f'market, e.g. [entsoe.zones] {example} = "10Y..." (EIC codes: the API guide\'s '
            "area list)"
        )
    return {market: table[market] for market in markets}


def borders(markets: Sequence[str], table: ZoneTable | None = None) -> list[tuple[str, str]]:
    """Both directions of every known border between two of ``markets``."""
    if table is not None:
        return table.borders(markets)
    return [(a, b) for a in markets for b in markets if a != b and frozenset((a, b)) in NEIGHBOURS]
