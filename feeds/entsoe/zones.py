"""Which ENTSO-E area a gridtui market is, and what the API's production codes mean.

This module owns the naming tables of the ENTSO-E adapter: market code → EIC
area code (the six gridtui markets and the neighbours a user is likely to add),
the borders between them (for flows and transfer capacities), and the psrType
codes of the generation data. More zones are one config line
(``[entsoe.zones] ES = "10YES-REE------0"``), never code: every function here
takes the user's overrides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

# The six gridtui markets (DESIGN.md). DE is the DE-LU bidding zone.
DEFAULT_ZONES: Final[Mapping[str, str]] = {
    "DE": "10Y1001A1001A82H",
    "FR": "10YFR-RTE------C",
    "NL": "10YNL----------L",
    "BE": "10YBE----------2",
    "AT": "10YAT-APG------L",
    "GB": "10YGB----------A",
}

# Bidding zones a user can add by naming the market alone (``markets = [..., "ES"]``),
# from the API guide's area list.
KNOWN_ZONES: Final[Mapping[str, str]] = {
    **DEFAULT_ZONES,
    "CH": "10YCH-SWISSGRIDZ",
    "CZ": "10YCZ-CEPS-----N",
    "DK1": "10YDK-1--------W",
    "DK2": "10YDK-2--------M",
    "ES": "10YES-REE------0",
    "FI": "10YFI-1--------U",
    "HU": "10YHU-MAVIR----U",
    "IT-NORD": "10Y1001A1001A73I",
    "LU": "10YLU-CEGEDEL-NQ",
    "NO1": "10YNO-1--------2",
    "NO2": "10YNO-2--------T",
    "PL": "10YPL-AREA-----S",
    "PT": "10YPT-REN------W",
    "SE3": "10Y1001A1001A46L",
    "SE4": "10Y1001A1001A47J",
    "SI": "10YSI-ELES-----O",
    "SK": "10YSK-SEPS-----K",
}

# Physical borders between known zones (undirected), for flows (A11) and
# day-ahead transfer capacity (A61). Only borders with an interconnector.
NEIGHBOURS: Final[frozenset[frozenset[str]]] = frozenset(
    frozenset(pair)
    for pair in (
        ("DE", "FR"),
        ("DE", "NL"),
        ("DE", "BE"),
        ("DE", "AT"),
        ("DE", "CH"),
        ("DE", "CZ"),
        ("DE", "DK1"),
        ("DE", "DK2"),
        ("DE", "PL"),
        ("DE", "NO2"),
        ("DE", "SE4"),
        ("FR", "BE"),
        ("FR", "GB"),
        ("FR", "ES"),
        ("FR", "CH"),
        ("FR", "IT-NORD"),
        ("NL", "BE"),
        ("NL", "GB"),
        ("NL", "NO2"),
        ("NL", "DK1"),
        ("BE", "GB"),
        ("AT", "CH"),
        ("AT", "CZ"),
        ("AT", "HU"),
        ("AT", "SI"),
        ("AT", "IT-NORD"),
        ("GB", "NO2"),
        ("GB", "DK1"),
        ("ES", "PT"),
    )
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


def borders(markets: Sequence[str]) -> list[tuple[str, str]]:
    """Both directions of every known border between two of ``markets``."""
    return [(a, b) for a in markets for b in markets if a != b and frozenset((a, b)) in NEIGHBOURS]
