"""The bidding-zone table: EIC codes, regions, real borders, and config lines on top."""

from __future__ import annotations

import pytest

from engine.market.zones import (
    DEFAULT_MARKETS,
    REGIONS,
    ZONES,
    UnknownZoneError,
    ZoneOverride,
    ZoneTable,
)
from engine.spreads.transmission import parse_direction


def test_the_table_covers_the_european_bidding_zones_with_unique_eic_codes():
    assert len(ZONES) >= 40
    for code in ("CH", "PL", "CZ", "DK1", "DK2", "NO1", "NO5", "SE4", "FI", "ES", "PT"):
        assert code in ZONES
    assert {code for code in ZONES if code.startswith("IT-")} == {
        "IT-NORD", "IT-CNOR", "IT-CSUD", "IT-SUD", "IT-CALA", "IT-SICI", "IT-SARD",
    }  # fmt: skip
    eics = [zone.eic for zone in ZONES.values()]
    assert len(set(eics)) == len(eics)
    assert all(len(eic) == 16 for eic in eics)
    assert all(zone.region in REGIONS for zone in ZONES.values())
    # The project's own codes for its six markets: DE is the DE-LU zone.
    assert ZONES["DE"].eic == "10Y1001A1001A82H"
    assert all(code in ZONES for code in DEFAULT_MARKETS)


def test_borders_are_symmetric_and_only_between_known_zones():
    for zone in ZONES.values():
        for other in zone.neighbours:
            assert other in ZONES
            assert zone.code in ZONES[other].neighbours
    table = ZoneTable()
    assert table.are_neighbours("DE", "SE4")  # the Baltic Cable, no land border
    assert table.are_neighbours("CH", "IT-NORD")
    assert not table.are_neighbours("FR", "NL")  # touch nowhere, no cable
    assert not table.are_neighbours("ES", "IT-SARD")
    assert table.borders(["ES", "PT", "FR"]) == [
        ("ES", "PT"),
        ("ES", "FR"),
        ("PT", "ES"),
        ("FR", "ES"),
    ]


def test_one_line_adds_a_zone_with_its_region_and_borders():
    table = ZoneTable(
        {"XK": ZoneOverride(eic="10Y1001C--00100H", region="SEE", neighbours=("RS",))}
    )
    assert table.eic_codes(["DE", "XK"]) == {"DE": "10Y1001A1001A82H", "XK": "10Y1001C--00100H"}
    assert table.region("XK") == "SEE"
    assert table.are_neighbours("RS", "XK")
    assert "XK" in table.zone("RS").neighbours
    # The built-in table is left as it was.
    assert "XK" not in ZoneTable()


def test_an_override_changes_one_field_and_keeps_the_others():
    table = ZoneTable({"CH": ZoneOverride(region="CEE", neighbours=("DE",))})
    ch = table.zone("CH")
    assert (ch.eic, ch.region, ch.neighbours) == ("10YCH-SWISSGRIDZ", "CEE", ("DE",))
    assert not table.are_neighbours("CH", "FR")
    assert "CH" not in table.zone("FR").neighbours


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"XX": ZoneOverride(region="CWE")}, ["zones.XX", 'eic = "10Y...']),
        ({"CH": ZoneOverride(region="Alps")}, ["zones.CH.region = 'Alps'", "Nordic"]),
        ({"CH": ZoneOverride(time_zone="Mars/Olympus")}, ["zones.CH.time_zone", "Mars/Olympus"]),
        ({"CH": ZoneOverride(neighbours=("ZZ",))}, ["zones.CH.neighbours names ZZ", "DE"]),
    ],
)
def test_bad_lines_name_the_setting_the_value_and_what_is_accepted(overrides, words):
    with pytest.raises(ValueError, match=r"zones\.") as caught:
        ZoneTable(overrides)
    for word in words:
        assert word in str(caught.value)


def test_an_unknown_market_names_the_config_line_that_adds_it():
    with pytest.raises(UnknownZoneError, match=r'\[zones.QQ\] eic = "10Y'):
        ZoneTable().eic_codes(["DE", "QQ"])


def test_border_keys_cut_between_two_zones_even_with_hyphens_in_their_codes():
    assert parse_direction("IT-NORD-FR") == ("IT-NORD", "FR")
    assert parse_direction("IT-CSUD-IT-SARD") == ("IT-CSUD", "IT-SARD")
    assert parse_direction("DE-XX") == ("DE", "XX")  # a configured zone outside the table
    with pytest.raises(ValueError, match="FROM-TO"):
        parse_direction("A-B-C")
