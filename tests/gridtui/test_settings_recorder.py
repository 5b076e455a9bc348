"""``[recorder]``: retention settings, their checks, and the engine running the job from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.clock import SimClock
from gridtui.settings.loader import SettingsError, load_settings
from gridtui.wiring import build_runtime

START = datetime(2025, 1, 6, tzinfo=UTC)


def test_the_engine_runs_the_job_by_default_and_raw_days_0_turns_it_off(tmp_path):
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    runtime = build_runtime(settings, clock=SimClock(START))
    assert runtime.retention is not None
    assert runtime.retention.config == settings.recorder
    assert (settings.recorder.raw_days, settings.recorder.every_s) == (30.0, 3_600.0)

    off = load_settings(
        environ={"GRIDTUI_RECORDER_RAW_DAYS": "0"}, overrides={"data_dir": str(tmp_path)}
    )
    assert build_runtime(off, clock=SimClock(START)).retention is None


def test_recorder_settings_from_the_file_and_the_environment(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[recorder]\nraw_days = 7\nevery_s = 900\naggregate = "hourly"\n')
    settings = load_settings(config, environ={"GRIDTUI_RECORDER_RAW_DAYS": "2.5"})
    assert (settings.recorder.raw_days, settings.recorder.every_s) == (2.5, 900.0)


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        (
            "GRIDTUI_RECORDER_RAW_DAYS",
            "-1",
            "recorder.raw_days = -1 is not allowed; expected a number >= 0",
        ),
        ("GRIDTUI_RECORDER_RAW_DAYS", "forever", "recorder.raw_days = forever is not allowed"),
        (
            "GRIDTUI_RECORDER_EVERY_S",
            "5",
            "recorder.every_s = 5 is not allowed; expected a number >= 60 and <= 86400",
        ),
        (
            "GRIDTUI_RECORDER_AGGREGATE",
            "daily",
            "recorder.aggregate = daily is not allowed; expected hourly",
        ),
    ],
)
def test_bad_recorder_settings_name_the_variable_the_value_and_what_is_accepted(
    tmp_path, variable, raw, expected
):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={variable: raw}, overrides={"data_dir": str(tmp_path)})
    assert str(caught.value).startswith(f"{variable}: {expected}")


def test_an_unknown_recorder_field_is_named_with_its_file(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[recorder]\nraw_dayz = 3\n")
    with pytest.raises(
        SettingsError, match=r"config.toml: \[recorder\]: .*unknown field `raw_dayz`"
    ):
        load_settings(config, environ={})
