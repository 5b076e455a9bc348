"""ENTSO-E settings and wiring: token from the environment, never printed; zones by config."""

from __future__ import annotations

import sqlite3

import pytest

from feeds.entsoe.live import EntsoeFeed
from feeds.entsoe.zones import borders, eic_codes
from gridtui.cli import main
from gridtui.settings.loader import SettingsError, load_settings, to_toml_dict
from gridtui.wiring import build_clock, build_entsoe_client, build_feed, entsoe_zones
from tests.feeds.entsoe_server import FakeEntsoe


def test_token_comes_from_the_environment_and_is_masked_in_config_output(tmp_path):
    settings = load_settings(
        environ={"GRIDTUI_ENTSOE_TOKEN": "0123abcd-aaaa-bbbb-cccc-0123456789ab"},
        overrides={"data_dir": str(tmp_path)},
    )
    assert settings.entsoe.token == "0123abcd-aaaa-bbbb-cccc-0123456789ab"
    assert to_toml_dict(settings)["entsoe"]["token"] == "***"
    assert "0123abcd" not in repr(build_entsoe_client(settings))


def test_one_config_line_adds_a_zone(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        'markets = ["DE", "FR", "XY"]\n'
        '[feed]\nkind = "entsoe"\n'
        '[entsoe]\ntoken = "t"\n'
        '[entsoe.zones]\nXY = "10Y-XY-------1"\n'
    )
    settings = load_settings(config, environ={})
    assert entsoe_zones(settings, settings.markets)["XY"] == "10Y-XY-------1"
    feed = build_feed(settings)
    assert isinstance(feed, EntsoeFeed) and list(feed.config.zones) == ["DE", "FR", "XY"]
    assert type(build_clock(settings)).__name__ == "LiveClock"


def test_the_entsoe_feed_needs_a_token_and_known_zones(tmp_path):
    settings = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "feed": {"kind": "entsoe"}}
    )
    with pytest.raises(SettingsError, match="GRIDTUI_ENTSOE_TOKEN"):
        build_feed(settings)
    # A zone without an EIC code is refused where settings are parsed, naming the fix.
    with pytest.raises(SettingsError, match=r"\[entsoe.zones\] QQ"):
        load_settings(environ={}, overrides={"data_dir": str(tmp_path), "markets": ["QQ"]})
    known = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "markets": ["QQ"],
            "entsoe": {"zones": {"QQ": "10YQQ"}},
        },
    )
    assert entsoe_zones(known, known.markets) == {"QQ": "10YQQ"}


def test_zone_tables():
    assert eic_codes(["DE", "ES"]) == {"DE": "10Y1001A1001A82H", "ES": "10YES-REE------0"}
    assert eic_codes(["DE"], {"DE": "10Y1001A1001A63L"}) == {"DE": "10Y1001A1001A63L"}
    assert set(borders(["DE", "FR", "AT", "GB"])) == {
        ("DE", "FR"),
        ("FR", "DE"),
        ("DE", "AT"),
        ("AT", "DE"),
        ("FR", "GB"),
        ("GB", "FR"),
    }


def test_daemon_on_the_live_feed_stores_prices_and_stops_cleanly_on_a_bad_token(
    tmp_path, monkeypatch, capsys
):
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    monkeypatch.setenv("GRIDTUI_CONFIG", str(config))
    database = tmp_path / "live.db"
    with FakeEntsoe().in_thread() as api:
        monkeypatch.setenv("GRIDTUI_ENTSOE_URL", api.url)
        monkeypatch.setenv("GRIDTUI_ENTSOE_TOKEN", api.token)
        args = ["daemon", "--feed", "entsoe", "--store", f"sqlite:{database}", "--markets", "DE,FR"]
        assert main([*args, "--duration", "1"]) == 0
        assert len(api.of_type("A44")) == 2

        monkeypatch.setenv("GRIDTUI_ENTSOE_TOKEN", "bad-token")
        capsys.readouterr()
        assert main([*args, "--duration", "5"]) == 1
        log = capsys.readouterr().err  # the daemon logs to stderr
        assert "feed failed: ENTSO-E rejected the API token" in log
        assert "bad-token" not in log

    with sqlite3.connect(database) as conn:
        (count,) = conn.execute("SELECT count(*) FROM prices WHERE kind = 'day_ahead'").fetchone()
    assert count == 2 * 72  # yesterday, today and tomorrow (UTC days) for two markets
