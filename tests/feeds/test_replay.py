"""ReplayFeed: file formats, pacing on the SimClock, and a full daemon replay into SQLite."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from engine.clock import LiveClock, SimClock
from engine.events import PriceKind, PriceTick
from engine.ports import FeedError
from feeds.price_file import load_prices, peek_start
from feeds.replay import ReplayConfig, ReplayFeed
from gridtui.cli import main
from gridtui.settings.loader import SettingsError, load_settings
from gridtui.wiring import build_clock, build_feed

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REAL_PRICES = DATA / "prices_real_train.parquet"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def long_frame(hours: int = 5, markets=("DE", "FR")) -> pd.DataFrame:
    rows = [
        {"timestamp": T0 + timedelta(hours=h), "market": m, "price_eur_mwh": 10.0 * h + i}
        for i, m in enumerate(markets)
        for h in range(hours)
    ]
    # Sorted by market then time, like the shared file: the replay must reorder.
    return pd.DataFrame(rows)


async def collect(feed: ReplayFeed, clock: SimClock) -> list[list[PriceTick]]:
    batches = []
    async for batch in feed.stream(clock):
        ticks = [e for e in batch if isinstance(e, PriceTick)]
        # The clock already stands at the newest tick of the batch when it is handed over.
        assert max(t.ts for t in ticks) <= clock.now()
        batches.append(ticks)
    return batches


async def test_long_parquet_plays_in_time_order_as_day_ahead_ticks(tmp_path):
    path = tmp_path / "long.parquet"
    long_frame().to_parquet(path)
    clock = SimClock(peek_start(path))
    batches = await collect(ReplayFeed(ReplayConfig(path=str(path), batch_size=3)), clock)
    ticks = [t for b in batches for t in b]
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert [(t.ts.hour, t.market) for t in ticks[:4]] == [
        (0, "DE"),
        (0, "FR"),
        (1, "DE"),
        (1, "FR"),
    ]
    assert all(t.kind is PriceKind.DAY_AHEAD and t.delivery_minutes == 60 for t in ticks)
    assert all(t.source == "replay" for t in ticks)
    assert clock.now() == T0 + timedelta(hours=4)


async def test_wide_csv_with_gaps_naive_times_and_a_market_filter(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(
        "time,DE,FR,NL\n"
        "2024-01-01 00:00:00,50.5,60.0,\n"
        "2024-01-01 01:00:00,51.5,,70.0\n"
        "2024-01-01 02:00:00,52.5,62.0,72.0\n"
    )
    clock = SimClock(peek_start(path))
    assert clock.now() == T0
    feed = ReplayFeed(ReplayConfig(path=str(path), markets=("DE", "FR")))
    ticks = [t for b in await collect(feed, clock) for t in b]
    assert [(t.ts.hour, t.market, t.price_eur_mwh) for t in ticks] == [
        (0, "DE", 50.5),
        (0, "FR", 60.0),
        (1, "DE", 51.5),
        (2, "DE", 52.5),
        (2, "FR", 62.0),
    ]


def test_offsets_in_csv_times_are_converted_to_utc_and_resolution_is_read(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "Timestamp,Zone,Price,resolution_minutes\n"
        "2025-10-01T00:00:00+02:00,ES,80.0,15\n"
        "2025-09-30T23:00:00+02:00,ES,70.0,60\n"
    )
    history = load_prices(path)
    assert history.markets == ["ES", "ES"]
    assert history.prices == [70.0, 80.0]
    assert history.minutes == [60, 15]
    first = datetime(2025, 9, 30, 21, 0, tzinfo=UTC)
    assert history.ts_us[0] == int((first - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6)


async def test_a_finite_speed_releases_each_instant_when_the_clock_reaches_it(tmp_path):
    path = tmp_path / "long.parquet"
    long_frame(hours=3).to_parquet(path)
    clock = SimClock(T0 - timedelta(days=30), speed=36_000.0)  # ten hours a second
    started = time.monotonic()
    batches = await collect(ReplayFeed(ReplayConfig(path=str(path))), clock)
    elapsed = time.monotonic() - started
    assert [len(b) for b in batches] == [2, 2, 2]
    assert 0.18 <= elapsed < 2.0  # two hours of history at 10 h/s; the 30 days before are skipped


async def test_a_replay_refuses_a_live_clock(tmp_path):
    path = tmp_path / "long.parquet"
    long_frame().to_parquet(path)
    with pytest.raises(FeedError, match="simulated clock"):
        async for _ in ReplayFeed(ReplayConfig(path=str(path))).stream(LiveClock()):
            pass


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.parquet", None, "does not exist"),
        ("prices.json", "{}", "parquet or .csv"),
        ("notime.csv", "market,price\nDE,1\n", "no time column"),
        ("noprice.csv", "timestamp,market,volume_text\n2024-01-01,DE,x\n", "price column"),
    ],
)
def test_unusable_files_say_why(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(FeedError, match=message):
        load_prices(path)


def test_wiring_builds_a_sim_clock_at_the_first_timestamp_and_the_replay_feed(tmp_path):
    path = tmp_path / "long.parquet"
    long_frame().to_parquet(path)
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "feed": {"kind": "replay", "path": str(path), "speed": 60},
        },
    )
    clock = build_clock(settings)
    assert isinstance(clock, SimClock) and clock.now() == T0 and clock.speed == 60
    assert build_feed(settings).name == "replay"
    fastest = load_settings(
        environ={},
        overrides={"data_dir": str(tmp_path), "feed": {"kind": "replay", "path": str(path)}},
    )
    assert build_clock(fastest).speed == float("inf")  # type: ignore[attr-defined]
    no_file = load_settings(
        environ={}, overrides={"data_dir": str(tmp_path), "feed": {"kind": "replay"}}
    )
    with pytest.raises(SettingsError, match="--replay FILE"):
        build_clock(no_file)


@pytest.mark.skipif(not REAL_PRICES.exists(), reason="../shared/data is absent")
def test_daemon_replay_of_the_real_prices_stores_exactly_the_files_rows(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    monkeypatch.setenv("GRIDTUI_CONFIG", str(config))
    database = tmp_path / "replay.db"
    status = main(
        [
            "daemon",
            "--replay",
            str(REAL_PRICES),
            "--store",
            f"sqlite:{database}",
            "--log-level",
            "WARNING",
        ]
    )
    assert status == 0

    expected = pd.read_parquet(REAL_PRICES)
    with sqlite3.connect(database) as conn:
        stored = pd.read_sql(
            "SELECT market, kind, ts, price_eur_mwh, delivery_minutes, source FROM prices", conn
        )
    assert len(stored) == len(expected) == 147_871
    assert set(stored["kind"]) == {"day_ahead"} and set(stored["delivery_minutes"]) == {60}
    assert set(stored["source"]) == {"replay"}
    stored["timestamp"] = pd.to_datetime(stored["ts"], unit="us", utc=True)
    merged = expected.assign(market=expected["market"].astype(str)).merge(
        stored, on=["market", "timestamp"], how="outer", indicator=True, suffixes=("", "_stored")
    )
    assert set(merged["_merge"]) == {"both"}
    assert (merged["price_eur_mwh"] == merged["price_eur_mwh_stored"]).all()
