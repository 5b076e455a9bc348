"""Markets are checked against the zone table where settings are parsed (issue 15, item 9).

One list of known zones (``feeds.entsoe.zones`` plus ``[entsoe.zones]``), case
normalised, from every source: flag, ``GRIDTUI_MARKETS``, TOML and the API.
"""

from __future__ import annotations

import json

import pytest

from feeds.entsoe.zones import KNOWN_ZONES
from feeds.mock.profiles import GENERIC_PROFILE, ZONE_PROFILES, profile_for
from gridtui.settings.loader import SettingsError, load_settings
from tests.gridtui.test_bad_input import gridtui


def test_lowercase_markets_are_normalised(tmp_path):
    settings = load_settings(
        environ={"GRIDTUI_MARKETS": "de,fr"}, overrides={"data_dir": str(tmp_path)}
    )
    assert settings.markets == ("DE", "FR")
    assert settings.spreads.markets == ("DE", "FR")
    assert settings.validation.markets == ("DE", "FR")


def test_unknown_market_from_env_names_it_the_known_ones_and_the_fix(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"GRIDTUI_MARKETS": "DE,XX"}, overrides={"data_dir": str(tmp_path)})
    message = str(caught.value)
    assert message.startswith("GRIDTUI_MARKETS: markets = DE,XX")
    assert "unknown market XX" in message
    assert ", ".join(sorted(KNOWN_ZONES)) in message
    assert '[entsoe.zones] XX = "10Y' in message


def test_unknown_market_from_toml_names_the_file(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('markets = ["DE", "Mars"]\n')
    with pytest.raises(
        SettingsError, match=r"config\.toml: markets = DE,MARS.*unknown market MARS"
    ):
        load_settings(config, environ={}, overrides={"data_dir": str(tmp_path)})


def test_a_zone_added_with_its_eic_code_is_accepted(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('markets = ["DE", "xx"]\n[entsoe.zones]\nxx = "10YXX-EXAMPLE--0"\n')
    settings = load_settings(config, environ={}, overrides={"data_dir": str(tmp_path)})
    assert settings.markets == ("DE", "XX")
    assert settings.entsoe.zones == {"XX": "10YXX-EXAMPLE--0"}
    # The simulator has no calibration for it: the documented default profile.
    assert "XX" not in ZONE_PROFILES
    assert profile_for("XX") is GENERIC_PROFILE


def test_duplicate_markets_are_refused(tmp_path):
    with pytest.raises(
        SettingsError, match=r"GRIDTUI_MARKETS: markets = DE,DE: DE is listed twice"
    ):
        load_settings(environ={"GRIDTUI_MARKETS": "DE,de"}, overrides={"data_dir": str(tmp_path)})


def test_cli_flag_unknown_market_is_one_line_exit_2(tmp_path):
    done = gridtui(["daemon", "--no-api", "--duration", "1", "--markets", "DE,XX"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--markets: markets = DE,XX" in done.stderr
    assert "unknown market XX" in done.stderr
    assert "known zones: AT, BE," in done.stderr
    assert "[entsoe.zones] XX" in done.stderr


def test_cli_flag_lowercase_markets_run_uppercase(tmp_path):
    done = gridtui(["config", "--markets", "de,fr"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["markets"] == ["DE", "FR"]
