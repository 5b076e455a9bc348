import pytest

from gridtui.settings.loader import SettingsError, load_settings


def test_defaults_just_run(tmp_path):
    settings = load_settings(environ={"GRIDTUI_CONFIG": ""}, overrides={"data_dir": str(tmp_path)})
    assert settings.markets == ("DE", "FR", "NL", "BE", "AT", "GB")
    assert settings.store.url == "sqlite"
    assert settings.sqlite_path() == tmp_path / "gridtui.db"
    assert settings.bus.url == "memory"


def test_toml_then_env_then_flags(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        'markets = ["DE", "FR", "NL"]\n'
        "[store]\nurl = 'sqlite:/tmp/a.db'\nbatch_size = 100\n"
        "[spreads]\nmin_net_spread_eur_mwh = 7.5\n"
    )
    env = {
        "GRIDTUI_STORE_BATCH_SIZE": "200",
        "GRIDTUI_SPREADS_MIN_NET_SPREAD_EUR_MWH": "9",
        "GRIDTUI_BUS_URL": "redis://127.0.0.1:6379/0",
        "UNRELATED": "x",
    }
    settings = load_settings(config, environ=env, overrides={"store": {"batch_size": 300}})
    assert settings.markets == ("DE", "FR", "NL")
    assert settings.spreads.markets == ("DE", "FR", "NL")
    assert settings.validation.markets == ("DE", "FR", "NL")
    assert settings.store.url == "sqlite:/tmp/a.db"
    assert str(settings.sqlite_path()) == "/tmp/a.db"
    assert settings.store.batch_size == 300
    assert settings.spreads.min_net_spread_eur_mwh == 9.0
    assert settings.bus.url == "redis://127.0.0.1:6379/0"


def test_env_market_list(tmp_path):
    settings = load_settings(
        environ={"GRIDTUI_MARKETS": "DE,AT"}, overrides={"data_dir": str(tmp_path)}
    )
    assert settings.markets == ("DE", "AT")


def test_env_lists_of_one_and_of_none(tmp_path):
    # A lone value for a list setting is a list of one, in any section; an empty
    # value empties the list.
    settings = load_settings(
        environ={
            "GRIDTUI_MARKETS": "DE",
            "GRIDTUI_STRATEGIES_AUTOSTART": "arbitrage",
            "GRIDTUI_FORECAST_TASKS": "",
        },
        overrides={"data_dir": str(tmp_path)},
    )
    assert settings.markets == ("DE",)
    assert settings.strategies.autostart == ("arbitrage",)
    assert settings.forecast.tasks == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[store]\nbatch_size = 'many'\n", "batch_size"),
        ("[store]\nnope = 1\n", "nope"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_bad_config_names_the_field(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(config, environ={})


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_url_passwords_are_never_shown(tmp_path, capsys):
    # `gridtui config` and GET /api/v1/settings print to_toml_dict: a password
    # inside a URL is shown as ***, the rest of the URL stays readable.
    import argparse

    from gridtui.commands import config
    from gridtui.settings.loader import redact_url, to_toml_dict, url_passwords

    env = {
        "GRIDTUI_STORE_URL": "postgresql://grid:pg-pw%40x@db:5432/gridtui",
        "GRIDTUI_BUS_URL": "redis://:r3dis@127.0.0.1:6379/0",
        "GRIDTUI_ALERTS_REDIS_URL": "rediss://alerts:al3rt@r:6380/1",
    }
    settings = load_settings(environ=env, overrides={"data_dir": str(tmp_path)})
    shown = to_toml_dict(settings)
    assert shown["store"]["url"] == "postgresql://grid:***@db:5432/gridtui"
    assert shown["bus"]["url"] == "redis://:***@127.0.0.1:6379/0"
    assert shown["alerts"]["redis_url"] == "rediss://alerts:***@r:6380/1"
    assert settings.store.url.endswith("pg-pw%40x@db:5432/gridtui")  # the settings keep it
    assert set(url_passwords(settings)) == {"pg-pw%40x", "r3dis", "al3rt"}
    config.run(argparse.Namespace(), settings)
    printed = capsys.readouterr().out
    assert "grid:***@db" in printed
    assert not any(pw in printed for pw in ("pg-pw", "r3dis", "al3rt"))
    # Text without a URL password is left alone.
    for plain in ("sqlite", "redis://127.0.0.1:6379/0", "postgresql://grid@db/x", "a:b@c"):
        assert redact_url(plain) == plain
    assert redact_url("failed: redis://u:p@h:1/0 and http://x:y@z/") == (
        "failed: redis://u:***@h:1/0 and http://x:***@z/"
    )


@pytest.mark.parametrize(
    ("variable", "raw", "allowed"),
    [
        ("GRIDTUI_STORE_BATCH_SIZE", "0", ">= 1"),
        ("GRIDTUI_STORE_MAX_BUFFERED", "-1", ">= 1"),
        ("GRIDTUI_STORE_MAX_AGE_S", "nan", "> 0"),
        ("GRIDTUI_FEED_TICK_INTERVAL_S", "-1", ">= 0"),
        ("GRIDTUI_FEED_TICK_INTERVAL_S", "inf", "<="),
        ("GRIDTUI_FEED_SPEED", "-2", ">= 0"),
        ("GRIDTUI_ENTSOE_POLL_INTERVAL_S", "0", "> 0"),
        ("GRIDTUI_ENTSOE_REQUESTS_PER_MINUTE", "0", ">= 1"),
        ("GRIDTUI_ENTSOE_TIMEOUT_S", "-5", "> 0"),
        ("GRIDTUI_ENTSOE_MAX_ATTEMPTS", "0", ">= 1"),
        ("GRIDTUI_BUS_MAXLEN", "0", ">= 1"),
        ("GRIDTUI_API_PORT", "70000", "<= 65535"),
        ("GRIDTUI_API_RATE_LIMIT_PER_S", "0", "> 0"),
        ("GRIDTUI_API_HEADER_TIMEOUT_S", "nan", "> 0"),
        ("GRIDTUI_API_MAX_RUNNING_BACKTESTS", "0", ">= 1"),
        ("GRIDTUI_ALERTS_WEBHOOK_ATTEMPTS", "0", ">= 1"),
        ("GRIDTUI_UI_REFRESH_HZ", "0", "> 0"),
        ("GRIDTUI_STRATEGIES_STATUS_INTERVAL_S", "-1", "> 0"),
    ],
)
def test_out_of_range_settings_name_the_variable_value_and_range(tmp_path, variable, raw, allowed):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: raw}, overrides={"data_dir": str(tmp_path)})
    message = str(caught.value)
    assert variable in message
    assert raw in message
    assert allowed in message


def test_max_buffered_below_batch_size_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="max_buffered"):
        load_settings(
            environ={"GRIDTUI_STORE_BATCH_SIZE": "100", "GRIDTUI_STORE_MAX_BUFFERED": "10"},
            overrides={"data_dir": str(tmp_path)},
        )


def test_empty_market_list_is_refused(tmp_path):
    with pytest.raises(SettingsError, match=r"GRIDTUI_MARKETS.*at least one market"):
        load_settings(environ={"GRIDTUI_MARKETS": ""}, overrides={"data_dir": str(tmp_path)})


def test_a_flag_is_named_as_the_source(tmp_path):
    with pytest.raises(SettingsError, match=r"feed\.tick_interval_s = nan"):
        load_settings(
            environ={}, overrides={"data_dir": str(tmp_path), "feed": {"tick_interval_s": "nan"}}
        )


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    file = tmp_path / "not-a-dir"
    file.write_text("x")
    with pytest.raises(SettingsError, match=r"data_dir.*is a file"):
        load_settings(environ={"GRIDTUI_DATA_DIR": str(file)})


def test_spill_dir_that_is_a_file_is_refused(tmp_path):
    file = tmp_path / "spill"
    file.write_text("x")
    with pytest.raises(SettingsError, match=r"GRIDTUI_STORE_SPILL_DIR.*is a file"):
        load_settings(
            environ={"GRIDTUI_STORE_SPILL_DIR": str(file)}, overrides={"data_dir": str(tmp_path)}
        )


def test_unknown_log_level_is_refused_by_name(tmp_path):
    with pytest.raises(SettingsError, match=r"GRIDTUI_LOG_LEVEL: log.level = LOUD.*DEBUG"):
        load_settings(environ={"GRIDTUI_LOG_LEVEL": "LOUD"}, overrides={"data_dir": str(tmp_path)})
    assert load_settings(environ={"GRIDTUI_LOG_LEVEL": "debug"}).log.level == "debug"


def test_data_dir_under_a_file_is_refused(tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(SettingsError, match=r"data_dir.*is a file"):
        load_settings(environ={"GRIDTUI_DATA_DIR": str(file / "sub" / "dir")})
