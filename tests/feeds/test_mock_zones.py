"""The simulator for any bidding zone: region default profiles, coupling on real borders."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

import numpy as np
import pytest

from engine.market.zones import ZONES, ZoneOverride, ZoneTable
from feeds.mock.model import MarketModel
from feeds.mock.profiles import GENERIC_PROFILE, ZONE_PROFILES
from feeds.mock.regions import REGION_TEMPLATES, default_profile, zone_profile

START = datetime(2021, 1, 1, tzinfo=UTC)


def test_every_zone_without_a_hand_made_profile_gets_its_regions_default():
    for code, zone in ZONES.items():
        profile = zone_profile(code)
        if code in ZONE_PROFILES:
            assert profile is ZONE_PROFILES[code]
        else:
            assert profile == default_profile(zone)
            assert profile is not GENERIC_PROFILE
    assert zone_profile("ES").cluster == REGION_TEMPLATES["Iberia"].cluster
    assert zone_profile("FI").utc_offset_h == 2.0  # Europe/Helsinki, standard time
    assert zone_profile("PT").utc_offset_h == 0.0
    assert zone_profile("CH").cluster is None  # not in SDAC
    assert zone_profile("XX") is GENERIC_PROFILE  # in no table


def test_regions_keep_their_character_over_a_simulated_year():
    markets = ("DE", "NO2", "SE3", "IT-NORD", "ES", "PL")
    prices = MarketModel(markets, seed=11, start=START, step_minutes=60).next_days(365)
    mean = dict(zip(markets, prices.price_eur_mwh.mean(axis=0), strict=True))
    # Nordic hydro is cheap, Italy's gas-heavy mix dear (module table of feeds.mock.regions).
    assert mean["NO2"] < 0.8 * mean["DE"]
    assert mean["SE3"] < 0.8 * mean["DE"]
    assert mean["IT-NORD"] > 1.1 * mean["DE"]
    assert 0.8 * mean["DE"] < mean["ES"] < 1.25 * mean["DE"]


def test_default_zones_couple_only_across_real_borders():
    """In congested hours two zones clear at one price when their border happens to
    be unconstrained: only for neighbours. Other pairs meet only by chance (same cents)."""
    table = ZoneTable()
    markets = tuple(code for code in ZONES if code.startswith("IT-"))
    price = MarketModel(markets, seed=5, start=START, step_minutes=60).next_days(120).price_eur_mwh
    fully = (price == price[:, :1]).all(axis=1)
    congested = price[~fully]
    assert fully.mean() > 0.05 and len(congested) > 500
    merged: dict[bool, list[int]] = {True: [], False: []}
    for i, j in combinations(range(len(markets)), 2):
        equal_steps = int((congested[:, i] == congested[:, j]).sum())
        merged[table.are_neighbours(markets[i], markets[j])].append(equal_steps)
    per_border = np.mean(merged[True])
    per_other_pair = np.mean(merged[False])
    assert min(merged[True]) >= 5
    assert per_other_pair < 0.1 * per_border


def test_a_zone_added_by_a_config_line_is_simulated_and_coupled_to_its_neighbours():
    table = ZoneTable(
        {"XK": ZoneOverride(eic="10Y1001C--00100H", region="SEE", neighbours=("RS",))}
    )
    markets = ("RS", "XK", "BG")
    block = MarketModel(markets, seed=2, start=START, step_minutes=60, zones=table).next_days(90)
    price = block.price_eur_mwh
    assert np.isfinite(price).all()
    rs_xk = np.mean(price[:, 0] == price[:, 1])
    assert rs_xk > 0.05  # coupled: the SEE cluster, across the RS-XK border
    assert np.asarray(np.corrcoef(price.T))[0, 1] > 0.8


@pytest.mark.parametrize("count", [40])
def test_forty_zones_simulate(count):
    markets = tuple(code for code in ZONES if code != "LU")[:count]
    block = MarketModel(markets, seed=1, start=START).next_days(2)
    assert block.price_eur_mwh.shape == (192, count)
    assert np.isfinite(block.price_eur_mwh).all()
