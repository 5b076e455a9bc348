"""Every bad input gets one clear line and exit code 2, never a traceback (issue 14)."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridtui.cli import main

ROOT = Path(__file__).resolve().parents[2]


def gridtui(args, tmp_path, **env):
    """Run the CLI as a subprocess: the exit code and whether a traceback leaked."""
    environ = {**os.environ, "GRIDTUI_DATA_DIR": str(tmp_path / "data"), **env}
    environ.pop("GRIDTUI_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "gridtui.cli", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "args", "names"),
    [
        ({"GRIDTUI_STORE_BATCH_SIZE": "0"}, ["config"], ["GRIDTUI_STORE_BATCH_SIZE", "0", ">= 1"]),
        ({"GRIDTUI_STORE_MAX_BUFFERED": "-1"}, ["config"], ["GRIDTUI_STORE_MAX_BUFFERED", "-1"]),
        (
            {"GRIDTUI_FEED_TICK_INTERVAL_S": "-1"},
            ["daemon", "--no-api", "--duration", "1"],
            ["GRIDTUI_FEED_TICK_INTERVAL_S", "-1", ">= 0"],
        ),
        ({}, ["daemon", "--tick-interval", "nan"], ["--tick-interval", "nan", ">= 0"]),
        ({"GRIDTUI_MARKETS": ""}, ["config"], ["GRIDTUI_MARKETS", "at least one market"]),
        (
            {"GRIDTUI_UI_MARKET_TIMEZONE": "Mars/Olympus"},
            ["config"],
            ["GRIDTUI_UI_MARKET_TIMEZONE", "Mars/Olympus", "Europe/Brussels"],
        ),
    ],
)
def test_bad_setting_is_one_line_and_exit_2(tmp_path, env, args, names):
    done = gridtui(args, tmp_path, **env)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for name in names:
        assert name in done.stderr


def test_data_dir_that_is_a_file(tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    done = gridtui(["daemon", "--no-api", "--duration", "1"], tmp_path, GRIDTUI_DATA_DIR=str(file))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert str(file) in done.stderr and "is a file" in done.stderr


def _bad_files(tmp_path):
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(os.urandom(3000))
    semi = tmp_path / "semi.csv"
    semi.write_text(
        "timestamp;market;price\n2021-01-01T00:00:00Z;DE;50\n2021-01-01T01:00:00Z;DE;51\n"
    )
    return [
        (empty, "not a parquet file (0 bytes)"),
        (garbage, "not a parquet file"),
        (semi, "';'-separated"),
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["backtest", "--data"],
        ["eval", "battery", "--data"],
        ["train", "forecast", "--data"],
    ],
)
def test_bad_price_file_in_process(tmp_path, capsys, monkeypatch, command):
    monkeypatch.setenv("GRIDTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    for path, words in _bad_files(tmp_path):
        assert main([*command, str(path)]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and words in err, err


def test_bad_price_file_for_daemon_replay(tmp_path):
    for path, words in _bad_files(tmp_path):
        done = gridtui(
            ["daemon", "--replay", str(path), "--no-api", "--duration", "1"],
            tmp_path,
            GRIDTUI_STORE_URL=f"sqlite:{tmp_path / 'r.db'}",
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert str(path) in done.stderr and words in done.stderr, done.stderr


def test_corrupt_sqlite_stops_with_advice(tmp_path):
    db = tmp_path / "broken.db"
    store_url = f"sqlite:{db}"
    made = gridtui(["daemon", "--no-api", "--duration", "2"], tmp_path, GRIDTUI_STORE_URL=store_url)
    assert made.returncode == 0, made.stderr
    raw = bytearray(db.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    assert len(raw) > 3 * page
    # Every page but the first (the schema) overwritten: the tables' pages are garbage.
    raw[page:] = os.urandom(len(raw) - page)
    db.write_bytes(bytes(raw))
    done = gridtui(
        ["daemon", "--no-api", "--duration", "20", "--tick-interval", "0.01"],
        tmp_path,
        GRIDTUI_STORE_URL=store_url,
    )
    assert done.returncode != 0, done.stderr
    assert str(db) in done.stderr
    assert ".recover" in done.stderr


def test_not_a_database_stops_with_advice(tmp_path):
    db = tmp_path / "junk.db"
    db.write_bytes(os.urandom(8192))
    done = gridtui(
        ["daemon", "--no-api", "--duration", "1"], tmp_path, GRIDTUI_STORE_URL=f"sqlite:{db}"
    )
    assert done.returncode != 0
    assert str(db) in done.stderr and ".recover" in done.stderr
    assert "Traceback" not in done.stderr


def test_repeated_tracebacks_are_logged_once_with_a_count():
    from gridtui.logs import RepeatFilter

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("test.repeats")
    logger.propagate = False
    handler = Keep()
    handler.addFilter(RepeatFilter(window_s=60))
    logger.addHandler(handler)
    try:
        for _ in range(5):
            try:
                raise ValueError("training failed: no data")
            except ValueError:
                logger.exception("job failed")
        try:
            raise KeyError("other")
        except KeyError:
            logger.exception("job failed")
    finally:
        logger.removeHandler(handler)
    with_trace = [r for r in records if r.exc_info]
    assert len(with_trace) == 2  # the first ValueError and the KeyError
    assert any("repeated 4 times" in r.getMessage() for r in records)


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf"])
def test_bad_duration_flag(capsys, value):
    with pytest.raises(SystemExit) as stopped:
        main(["daemon", "--duration", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--duration" in err and value in err and "> 0" in err


@pytest.mark.parametrize(
    ("args", "flag", "value"),
    [
        (
            ["backtest", "--data", "mock", "--from", "0001-01-01", "--to", "0001-01-03"],
            "--from",
            "0001-01-01",
        ),
        (
            ["backtest", "--data", "mock", "--from", "2024-01-01", "--to", "9999-12-31"],
            "--to",
            "9999-12-31",
        ),
        (["eval", "forecast", "--from", "0001-01-01"], "--from", "0001-01-01"),
        (["fetch", "--from", "9999-01-01"], "--from", "9999-01-01"),
    ],
)
def test_days_out_of_range_are_refused_up_front(tmp_path, args, flag, value):
    # Year 1 used to run into an OverflowError deep in the simulator (a traceback).
    done = gridtui(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert flag in last and value in last and "1990-01-01" in last and "2100-01-01" in last
