"""``[zones.<CODE>]``: bidding zones added to or changed in the built-in table.

:data:`engine.market.zones.ZONES` knows the ENTSO-E bidding zones; one config
line adds another or changes one (``[zones.XK] eic = "10Y1001C--00100H"``,
``region = "SEE"``, ``neighbours = ["RS"]``). The older ``[entsoe.zones] XX =
"10Y..."`` still works and sets only the EIC code. :func:`zone_table` is the one
place the two are merged; ``gridtui.wiring`` hands the result to the feeds, the
spread engine and the strategies.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, cast

import msgspec

from engine.market.zones import ZoneOverride, ZoneTable
from engine.spreads.transmission import TransmissionConfig

if TYPE_CHECKING:
    from engine.spreads.config import SpreadConfig
    from gridtui.settings.components import StrategiesSettings
    from gridtui.settings.data import EntsoeSettings


class ZoneSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``[zones.<CODE>]`` table. Fields left out keep the built-in value.

    Attributes:
        eic: the ENTSO-E EIC area code (required for a zone gridtui does not know).
        name: a display name.
        region: one of CWE, CEE, Nordic, Baltic, Italy, Iberia, SEE, GB/IE: the
            simulator's default profile and the TUI's grouping.
        time_zone: an IANA time zone, e.g. ``Europe/Zurich``.
        neighbours: the zones it has an interconnector with (replaces the
            built-in list; the reverse borders follow). Spreads are watched on
            every pair, but rights and arbitrage trade only on these borders.
    """

    eic: str | None = None
    name: str | None = None
    region: str | None = None
    time_zone: str | None = None
    neighbours: tuple[str, ...] | None = None


class ZonedSettings(Protocol):
    """What of the settings the zone functions read (``gridtui.settings.loader.Settings``;
    a protocol, so the loader can call them without an import circle)."""

    @property
    def markets(self) -> tuple[str, ...]: ...
    @property
    def entsoe(self) -> EntsoeSettings: ...
    @property
    def zones(self) -> dict[str, ZoneSettings]: ...
    @property
    def spreads(self) -> SpreadConfig: ...
    @property
    def strategies(self) -> StrategiesSettings: ...


S = TypeVar("S", bound=ZonedSettings)


def zone_table(settings: ZonedSettings) -> ZoneTable:
    """The built-in zones with ``[entsoe.zones]`` and then ``[zones.<CODE>]`` applied.

    Raises:
        ValueError: a new zone without an EIC code, an unknown region, time
            zone or neighbour; the message names ``zones.<CODE>``.
    """
    overrides = {code: ZoneOverride(eic=eic) for code, eic in settings.entsoe.zones.items()}
    for code, zone in settings.zones.items():
        earlier = overrides.get(code)
        overrides[code] = ZoneOverride(
            eic=zone.eic or (earlier.eic if earlier else None),
            name=zone.name,
            region=zone.region,
            time_zone=zone.time_zone,
            neighbours=zone.neighbours,
        )
    return ZoneTable(overrides)


def regions_of(settings: ZonedSettings) -> dict[str, str]:
    """Market → region for the configured markets (a code in no table has none)."""
    table = zone_table(settings)
    return {m: region for m in settings.markets if (region := table.region(m)) is not None}


# The two places a set of interconnectors is configured (the spread engine's rights
# column and the arbitrage strategy), as paths into the raw settings.
BORDER_SETTINGS: Final = (
    ("spreads", "transmission", "borders"),
    ("strategies", "arbitrage", "transmission", "borders"),
)


def with_zone_borders(settings: S, given: Collection[tuple[str, ...]]) -> S:
    """``settings`` whose interconnector lists also hold the real borders of every
    configured zone, for each list of :data:`BORDER_SETTINGS` not in ``given``.

    The built-in list covers the six default markets; a zone added to ``markets``
    (CH) brings its borders with the other configured markets (DE-CH, FR-CH, AT-CH)
    so rights are priced and arbitrage trades there, and only there.
    """
    table = zone_table(settings)

    def extend(transmission: TransmissionConfig, markets: Sequence[str]) -> TransmissionConfig:
        position = {market: index for index, market in enumerate(markets)}
        missing = [
            f"{a}-{b}"
            for a, b in table.borders(markets)
            if position[a] < position[b] and not transmission.has_border(a, b)
        ]
        if not missing:
            return transmission
        return msgspec.structs.replace(transmission, borders=(*transmission.borders, *missing))

    spreads = settings.spreads
    if BORDER_SETTINGS[0] not in given and spreads.transmission is not None:
        spreads = msgspec.structs.replace(
            spreads, transmission=extend(spreads.transmission, spreads.markets)
        )
    strategies = settings.strategies
    if BORDER_SETTINGS[1] not in given:
        arbitrage = strategies.arbitrage
        strategies = msgspec.structs.replace(
            strategies,
            arbitrage=msgspec.structs.replace(
                arbitrage, transmission=extend(arbitrage.transmission, settings.markets)
            ),
        )
    # The settings are a msgspec Struct; the protocol only says which fields are read.
    changed: Any = msgspec.structs.replace(
        cast(Any, settings), spreads=spreads, strategies=strategies
    )
    return cast(S, changed)
