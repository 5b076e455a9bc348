"""The bidding zones gridtui knows: EIC code, name, region, time zone and real borders.

This module owns the one table of European bidding zones (:data:`ZONES`, the
ENTSO-E Transparency Platform's bidding-zone area codes) and
:class:`ZoneTable`, that table with the user's ``[zones.<CODE>]`` lines applied
(a new zone, or a changed EIC code, region or border list). Everything that
needs to know about a zone asks a :class:`ZoneTable`: the ENTSO-E feed for EIC
codes, the simulator for a default profile and its coupling neighbours, the
spread engine and the arbitrage strategy for which pairs are real borders, and
the TUI for the region a market is grouped under.

Codes: the project's own for the six default markets (``DE`` is the DE-LU zone);
otherwise ENTSO-E's short names with a hyphen (``IT-NORD``, ``DK1``, ``NO2``).
Neighbours are the borders with an interconnector between two bidding zones
(AC lines or HVDC cables in service in 2025), not the map's land borders: CH
and IT-NORD touch, DE and SE4 do not but share the Baltic Cable. Borders with
zones outside the table (Balkans outside the EU, UK–Norway's NSL counts as GB–NO2)
are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REGIONS: Final = ("CWE", "CEE", "Nordic", "Baltic", "Italy", "Iberia", "SEE", "GB/IE")
"""The regions a zone belongs to, in the order the TUI groups them."""


@dataclass(frozen=True, slots=True)
class BiddingZone:
    """One bidding zone. ``neighbours`` are the zones it has an interconnector with."""

    code: str
    eic: str
    name: str
    region: str
    time_zone: str
    neighbours: tuple[str, ...] = ()


def _zone(code: str, eic: str, name: str, region: str, time_zone: str) -> BiddingZone:
    return BiddingZone(code=code, eic=eic, name=name, region=region, time_zone=time_zone)


# EIC codes: the ENTSO-E Transparency Platform's area list (BZN entries).
_TABLE: Final = (
    _zone("DE", "10Y1001A1001A82H", "Germany-Luxembourg", "CWE", "Europe/Berlin"),
    _zone("FR", "10YFR-RTE------C", "France", "CWE", "Europe/Paris"),
    _zone("NL", "10YNL----------L", "Netherlands", "CWE", "Europe/Amsterdam"),
    _zone("BE", "10YBE----------2", "Belgium", "CWE", "Europe/Brussels"),
    _zone("AT", "10YAT-APG------L", "Austria", "CWE", "Europe/Vienna"),
    _zone("GB", "10YGB----------A", "Great Britain", "GB/IE", "Europe/London"),
    # Luxembourg's control area: LU prices are DE-LU's; kept for ENTSO-E load data.
    _zone("LU", "10YLU-CEGEDEL-NQ", "Luxembourg (CREOS)", "CWE", "Europe/Luxembourg"),
    _zone("CH", "10YCH-SWISSGRIDZ", "Switzerland", "CWE", "Europe/Zurich"),
    _zone("CZ", "10YCZ-CEPS-----N", "Czechia", "CEE", "Europe/Prague"),
    _zone("PL", "10YPL-AREA-----S", "Poland", "CEE", "Europe/Warsaw"),
    _zone("SK", "10YSK-SEPS-----K", "Slovakia", "CEE", "Europe/Bratislava"),
    _zone("HU", "10YHU-MAVIR----U", "Hungary", "CEE", "Europe/Budapest"),
    _zone("SI", "10YSI-ELES-----O", "Slovenia", "CEE", "Europe/Ljubljana"),
    _zone("HR", "10YHR-HEP------M", "Croatia", "SEE", "Europe/Zagreb"),
    _zone("RO", "10YRO-TEL------P", "Romania", "SEE", "Europe/Bucharest"),
    _zone("BG", "10YCA-BULGARIA-R", "Bulgaria", "SEE", "Europe/Sofia"),
    _zone("GR", "10YGR-HTSO-----Y", "Greece", "SEE", "Europe/Athens"),
    _zone("RS", "10YCS-SERBIATSOV", "Serbia", "SEE", "Europe/Belgrade"),
    _zone("DK1", "10YDK-1--------W", "Denmark West", "Nordic", "Europe/Copenhagen"),
    _zone("DK2", "10YDK-2--------M", "Denmark East", "Nordic", "Europe/Copenhagen"),
    _zone("NO1", "10YNO-1--------2", "Norway Oslo", "Nordic", "Europe/Oslo"),
    _zone("NO2", "10YNO-2--------T", "Norway Kristiansand", "Nordic", "Europe/Oslo"),
    _zone("NO3", "10YNO-3--------J", "Norway Trondheim", "Nordic", "Europe/Oslo"),
    _zone("NO4", "10YNO-4--------9", "Norway Tromsø", "Nordic", "Europe/Oslo"),
    _zone("NO5", "10Y1001A1001A48H", "Norway Bergen", "Nordic", "Europe/Oslo"),
    _zone("SE1", "10Y1001A1001A44P", "Sweden Luleå", "Nordic", "Europe/Stockholm"),
    _zone("SE2", "10Y1001A1001A45N", "Sweden Sundsvall", "Nordic", "Europe/Stockholm"),
    _zone("SE3", "10Y1001A1001A46L", "Sweden Stockholm", "Nordic", "Europe/Stockholm"),
    _zone("SE4", "10Y1001A1001A47J", "Sweden Malmö", "Nordic", "Europe/Stockholm"),
    _zone("FI", "10YFI-1--------U", "Finland", "Nordic", "Europe/Helsinki"),
    _zone("EE", "10Y1001A1001A39I", "Estonia", "Baltic", "Europe/Tallinn"),
    _zone("LV", "10YLV-1001A00074", "Latvia", "Baltic", "Europe/Riga"),
    _zone("LT", "10YLT-1001A0008Q", "Lithuania", "Baltic", "Europe/Vilnius"),
    _zone("IT-NORD", "10Y1001A1001A73I", "Italy North", "Italy", "Europe/Rome"),
    _zone("IT-CNOR", "10Y1001A1001A70O", "Italy Centre-North", "Italy", "Europe/Rome"),
    _zone("IT-CSUD", "10Y1001A1001A71M", "Italy Centre-South", "Italy", "Europe/Rome"),
    _zone("IT-SUD", "10Y1001A1001A788", "Italy South", "Italy", "Europe/Rome"),
    _zone("IT-CALA", "10Y1001C--00096J", "Italy Calabria", "Italy", "Europe/Rome"),
    _zone("IT-SICI", "10Y1001A1001A75E", "Italy Sicily", "Italy", "Europe/Rome"),
    _zone("IT-SARD", "10Y1001A1001A74G", "Italy Sardinia", "Italy", "Europe/Rome"),
    _zone("ES", "10YES-REE------0", "Spain", "Iberia", "Europe/Madrid"),
    _zone("PT", "10YPT-REN------W", "Portugal", "Iberia", "Europe/Lisbon"),
    _zone("IE", "10Y1001A1001A59C", "Ireland (SEM)", "GB/IE", "Europe/Dublin"),
)

# Interconnected borders (undirected). Notes on the less obvious ones: DE–SE4
# Baltic Cable, DE–NO2 NordLink, NL–NO2 NorNed, NL–DK1 COBRAcable, GB–NO2 North
# Sea Link, GB–DK1 Viking Link, GB–IE the East-West and Moyle links, PL–SE4
# SwePol, LT–SE4 NordBalt, LT–PL LitPol, EE–FI Estlink, GR–IT-SUD GRITA,
# IT-SARD–IT-CNOR SACOI, IT-SARD–IT-CSUD SAPEI, HU–SI since 2022, DE–LU
# because LU is a control area inside the DE-LU zone.
_BORDERS: Final = (
    ("DE", "FR"), ("DE", "NL"), ("DE", "BE"), ("DE", "AT"), ("DE", "CH"), ("DE", "CZ"),
    ("DE", "DK1"), ("DE", "DK2"), ("DE", "PL"), ("DE", "NO2"), ("DE", "SE4"), ("DE", "LU"),
    ("FR", "BE"), ("FR", "GB"), ("FR", "ES"), ("FR", "CH"), ("FR", "IT-NORD"),
    ("NL", "BE"), ("NL", "GB"), ("NL", "NO2"), ("NL", "DK1"), ("BE", "GB"), ("BE", "LU"),
    ("AT", "CH"), ("AT", "CZ"), ("AT", "HU"), ("AT", "SI"), ("AT", "IT-NORD"),
    ("CH", "IT-NORD"),
    ("GB", "NO2"), ("GB", "DK1"), ("GB", "IE"),
    ("CZ", "PL"), ("CZ", "SK"), ("PL", "SK"), ("PL", "LT"), ("PL", "SE4"),
    ("SK", "HU"), ("HU", "RO"), ("HU", "RS"), ("HU", "HR"), ("HU", "SI"),
    ("SI", "HR"), ("SI", "IT-NORD"), ("HR", "RS"),
    ("RO", "BG"), ("RO", "RS"), ("BG", "RS"), ("BG", "GR"), ("GR", "IT-SUD"),
    ("DK1", "DK2"), ("DK1", "NO2"), ("DK1", "SE3"), ("DK2", "SE4"),
    ("NO1", "NO2"), ("NO1", "NO3"), ("NO1", "NO5"), ("NO1", "SE3"), ("NO2", "NO5"),
    ("NO3", "NO4"), ("NO3", "NO5"), ("NO3", "SE2"), ("NO4", "SE1"), ("NO4", "SE2"),
    ("NO4", "FI"), ("SE1", "SE2"), ("SE1", "FI"), ("SE2", "SE3"), ("SE3", "SE4"),
    ("SE3", "FI"), ("SE4", "LT"),
    ("FI", "EE"), ("EE", "LV"), ("LV", "LT"),
    ("IT-NORD", "IT-CNOR"), ("IT-CNOR", "IT-CSUD"), ("IT-CNOR", "IT-SARD"),
    ("IT-CSUD", "IT-SARD"), ("IT-CSUD", "IT-SUD"), ("IT-SUD", "IT-CALA"),
    ("IT-CALA", "IT-SICI"),
    ("ES", "PT"),
)  # fmt: skip


def _with_borders(
    zones: Iterable[BiddingZone], borders: Iterable[tuple[str, str]]
) -> dict[str, BiddingZone]:
    adjacent: dict[str, list[str]] = {}
    for a, b in borders:
        adjacent.setdefault(a, []).append(b)
        adjacent.setdefault(b, []).append(a)
    return {
        zone.code: replace(zone, neighbours=tuple(adjacent.get(zone.code, ()))) for zone in zones
    }


ZONES: Final[Mapping[str, BiddingZone]] = _with_borders(_TABLE, _BORDERS)
"""Every zone gridtui knows without configuration, by code."""

DEFAULT_MARKETS: Final = ("DE", "FR", "NL", "BE", "AT", "GB")


class UnknownZoneError(ValueError):
    """A market is in no zone table; the message says which config line adds it."""


@dataclass(frozen=True, slots=True)
class ZoneOverride:
    """One ``[zones.<CODE>]`` line: any field left None keeps the table's value.

    A zone that is not in :data:`ZONES` needs ``eic``; its region defaults to
    ``CWE``, its time zone to ``Europe/Brussels`` and its borders to none.
    ``neighbours`` replaces the zone's border list and adds the reverse borders.
    """

    eic: str | None = None
    name: str | None = None
    region: str | None = None
    time_zone: str | None = None
    neighbours: tuple[str, ...] | None = None


class ZoneTable:
    """:data:`ZONES` with the user's overrides applied; answers every zone question.

    Raises:
        ValueError: an override for a zone not in the table has no EIC code, or
            names an unknown region; the message names ``zones.<CODE>``.
    """

    def __init__(self, overrides: Mapping[str, ZoneOverride] | None = None) -> None:
        zones = dict(ZONES)
        borders = {
            frozenset((zone.code, other)) for zone in zones.values() for other in zone.neighbours
        }
        for code, override in (overrides or {}).items():
            base = zones.get(code)
            if base is None and not override.eic:
                raise ValueError(
                    f"zones.{code}: {code} is not a known bidding zone, so it needs its "
                    f'ENTSO-E EIC code: [zones.{code}] eic = "10Y..."'
                )
            region = override.region or (base.region if base else "CWE")
            if region not in REGIONS:
                raise ValueError(
                    f"zones.{code}.region = {region!r} is not a region; "
                    f"accepted: {', '.join(REGIONS)}"
                )
            zones[code] = BiddingZone(
                code=code,
                eic=override.eic or (base.eic if base else ""),
                name=override.name or (base.name if base else code),
                region=region,
                time_zone=override.time_zone or (base.time_zone if base else "Europe/Brussels"),
            )
            _check_time_zone(code, zones[code].time_zone)
            if override.neighbours is not None:
                borders = {border for border in borders if code not in border}
                borders |= {
                    frozenset((code, other)) for other in override.neighbours if other != code
                }
        for code, override in (overrides or {}).items():
            strangers = [other for other in override.neighbours or () if other not in zones]
            if strangers:
                raise ValueError(
                    f"zones.{code}.neighbours names {', '.join(strangers)}, not a known zone; "
                    f"accepted: {', '.join(sorted(zones))}"
                )
        pairs = [tuple(sorted(border)) for border in borders if len(border) == 2]
        self._zones = _with_borders(zones.values(), [(a, b) for a, b in pairs])
        self._borders = frozenset(frozenset(pair) for pair in pairs)

    def __contains__(self, code: object) -> bool:
        return code in self._zones

    def codes(self) -> list[str]:
        return list(self._zones)

    def zone(self, code: str) -> BiddingZone:
        """The zone ``code``.

        Raises:
            UnknownZoneError: ``code`` is in no table.
        """
        found = self._zones.get(code)
        if found is None:
            raise UnknownZoneError(self.unknown_message([code]))
        return found

    def unknown_message(self, codes: Sequence[str]) -> str:
        example = codes[0] if codes else "XX"
        return (
            f"unknown bidding zone(s) {', '.join(codes)}; known: {', '.join(sorted(self._zones))}. "
            f'Add one with its ENTSO-E EIC code: [zones.{example}] eic = "10Y..."'
        )

    def eic_codes(self, markets: Sequence[str]) -> dict[str, str]:
        """Market → EIC code, in the order given.

        Raises:
            UnknownZoneError: a market is in no table.
        """
        missing = [market for market in markets if market not in self._zones]
        if missing:
            raise UnknownZoneError(self.unknown_message(missing))
        return {market: self._zones[market].eic for market in markets}

    def region(self, code: str) -> str | None:
        """The region of ``code``, None for a code in no table."""
        found = self._zones.get(code)
        return None if found is None else found.region

    def are_neighbours(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` share an interconnector."""
        return frozenset((a, b)) in self._borders

    def borders(self, markets: Sequence[str]) -> list[tuple[str, str]]:
        """Both directions of every real border between two of ``markets``, in their order."""
        return [(a, b) for a in markets for b in markets if a != b and self.are_neighbours(a, b)]


def _check_time_zone(code: str, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"zones.{code}.time_zone = {name!r}: not an IANA time zone (e.g. Europe/Zurich)"
        ) from None


DEFAULT_TABLE: Final = ZoneTable()
