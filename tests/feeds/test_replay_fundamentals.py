"""Fundamentals fetched from ENTSO-E reach a replay: fetch's files, played beside the prices.

The real-document test fetches real ENTSO-E XML through ``gridtui fetch``'s own
path (client, parse, convert, ParquetSink) from the local fake API, which
answers with the files under ../shared/data/entsoe (skipped when absent). The
fixtures are of several zones and days (DE-LU prices of 2021-01-01, DK1 load of
2023-12-28, NL load forecast of 2020-11-19, LU generation of 2024-05-21), so
every document's instants are moved, as text, onto the LU generation's days;
the values are the documents' own and are checked against their raw points.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from engine.clock import SimClock
from engine.events import Event, Fundamentals, PriceTick
from engine.ports import FeedError
from feeds.entsoe.backfill import Job, ParquetSink, backfill, to_frame
from feeds.entsoe.convert import GenerationRow, ValueRow
from feeds.entsoe.parse import parse
from feeds.entsoe.zones import SOLAR_TYPES, WIND_TYPES
from feeds.price_file import peek_start
from feeds.replay import ReplayConfig, ReplayFeed
from feeds.replay_fundamentals import check_files, load_fundamentals
from gridtui.cli import main
from tests.feeds.entsoe_server import FakeEntsoe, Reply
from tests.feeds.test_entsoe_fetch import client_for

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "entsoe"
A44 = FIXTURES / "A44_DE-LU_2021-01-01_seq1-PT60M_seq2-PT15M_A03.xml"
A65 = FIXTURES / "A65-A16_DK1_actual-load_2023-12-28_PT60M.xml"
A65_FORECAST = FIXTURES / "A65-A01_NL_load-forecast_2020-11-19_PT15M.xml"
A75 = FIXTURES / "A75-A16_LU_generation-per-type_2024-05-21_PT15M.xml"
needs_real = pytest.mark.skipif(
    not all(p.is_file() for p in (A44, A65, A65_FORECAST, A75)),
    reason="../shared/data/entsoe A44/A65/A75 files are absent",
)

GENERATION_START = datetime(2024, 5, 21, 10, tzinfo=UTC)  # the LU document's first instant
PRICES_START = datetime(2024, 5, 21, tzinfo=UTC)
HOUR = timedelta(hours=1)
_INSTANT = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d)(:\d\d)?Z")


def moved(xml: bytes, first: datetime) -> bytes:
    """The document with every instant moved so that its first Period starts at ``first``."""
    start = re.search(rb"<Period>\s*<timeInterval>\s*<start>([^<]+)</start>", xml)
    assert start is not None
    delta = first - datetime.strptime(start.group(1).decode(), "%Y-%m-%dT%H:%MZ").replace(
        tzinfo=UTC
    )

    def shift(match: re.Match[bytes]) -> bytes:
        when = datetime.strptime(match.group(1).decode(), "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
        seconds = match.group(2) or b""
        return (when + delta).strftime("%Y-%m-%dT%H:%M").encode() + seconds + b"Z"

    return _INSTANT.sub(shift, xml)


async def fetch_real_history(out: Path) -> dict[str, Path]:
    """``gridtui fetch entsoe --markets DE --datasets …`` against the real documents."""
    answers = {
        "prices": moved(A44.read_bytes(), PRICES_START - HOUR),  # its first hour is D-1 23:00Z
        "generation": A75.read_bytes(),
        "load": moved(A65.read_bytes(), GENERATION_START),
        "load_forecast": moved(A65_FORECAST.read_bytes(), GENERATION_START),
    }
    async with FakeEntsoe() as api:
        for dataset, body in answers.items():  # one at a time: each request gets its document
            api.script.append(Reply(body=body))
            sink = ParquetSink(out)
            async with client_for(api) as client:
                await sink.open()
                try:
                    report = await backfill(
                        client,
                        sink,
                        datasets=[dataset],
                        markets=["DE"],
                        border_pairs=[],
                        zones={"DE": "10Y1001A1001A82H"},
                        start=date(2024, 5, 20),
                        end=date(2024, 5, 25),
                        chunk_days=5,
                        today=date(2030, 1, 1),
                    )
                finally:
                    await sink.close()
            assert report.failed == 0 and report.rows[dataset] > 0, report
    return {d: ParquetSink(out).path_for(d) for d in answers}


def raw_points(path: Path, types: frozenset[str] | None = None) -> dict[datetime, float]:
    """Hourly means straight from a document's points (of ``types``, summed, for A75)."""
    sums: dict[datetime, float] = {}
    counts: dict[datetime, int] = {}
    for series in parse(path.read_bytes()).series:
        if types is not None and (series.psr_type not in types or series.in_domain is None):
            continue
        for period in series.periods:
            per_hour = 60 // period.resolution_minutes
            for ts, value in period.points():
                hour = ts.replace(minute=0)
                sums[hour] = sums.get(hour, 0.0) + value / per_hour
                counts[hour] = counts.get(hour, 0) + 1
    return sums


async def play(feed: ReplayFeed, clock: SimClock) -> list[tuple[datetime, list[Event]]]:
    """Every batch with the clock's time when it was handed over."""
    return [(clock.now(), list(batch)) async for batch in feed.stream(clock)]


@needs_real
async def test_fetched_real_load_and_generation_replay_beside_the_prices(tmp_path):
    files = await fetch_real_history(tmp_path / "history.parquet")
    assert all(path.is_file() for path in files.values())
    fundamentals = tuple(str(files[d]) for d in ("load", "generation", "load_forecast"))
    config = ReplayConfig(path=str(files["prices"]), markets=("DE",), fundamentals=fundamentals)
    clock = SimClock(peek_start(files["prices"]), speed=1e9)  # paced, but no waiting
    feed = ReplayFeed(config)
    batches = await play(feed, clock)

    known = [(now, e) for now, batch in batches for e in batch if isinstance(e, Fundamentals)]
    prices = [(now, e) for now, batch in batches for e in batch if isinstance(e, PriceTick)]
    assert feed.fundamentals_sent == feed.fundamentals_total == len(known) >= 24
    assert feed.fundamentals_rejected == 0
    assert prices and all(now == tick.ts for now, tick in prices)
    # Hourly (load is PT60M): each interval goes out when it is over plus the hour
    # ENTSO-E takes to publish it, stamped with the interval's start.
    assert all(now == event.ts + 2 * HOUR for now, event in known)
    assert [e.ts for _, e in known] == sorted({e.ts for _, e in known})
    assert known[0][1].ts == GENERATION_START
    # Merged by time: at an instant where both are due, the prices of that hour
    # are in the same batch as the interval that became known then.
    both = [
        batch for now, batch in batches if {type(e) for e in batch} == {Fundamentals, PriceTick}
    ]
    assert both


@needs_real
async def test_the_replayed_values_are_the_documents_own(tmp_path):
    files = await fetch_real_history(tmp_path / "history.parquet")
    moved_load = tmp_path / "load.xml"
    moved_load.write_bytes(moved(A65.read_bytes(), GENERATION_START))
    moved_forecast = tmp_path / "forecast.xml"
    moved_forecast.write_bytes(moved(A65_FORECAST.read_bytes(), GENERATION_START))
    load, forecast = raw_points(moved_load), raw_points(moved_forecast)
    wind, solar = raw_points(A75, WIND_TYPES), raw_points(A75, SOLAR_TYPES)

    history = load_fundamentals(
        [files["load"], files["generation"], files["load_forecast"]], ["DE"]
    )
    assert len(history) >= 24
    for event in history.events:
        assert event.market == "DE" and event.source == "replay"
        assert event.load_mw == pytest.approx(load[event.ts])
        assert event.wind_mw == pytest.approx(wind.get(event.ts, 0.0))
        assert event.solar_mw == pytest.approx(solar.get(event.ts, 0.0))
        if event.ts in forecast:
            assert event.load_forecast_mw == pytest.approx(forecast[event.ts])
    assert any(e.load_forecast_mw is not None for e in history.events)
    assert any(e.solar_mw > 0 for e in history.events) and any(
        e.wind_mw > 0 for e in history.events
    )


# -- fetch's files from rows made here: pacing and bad input, with or without ../shared ---

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def write_history(tmp_path: Path, *, market: str = "DE", hours: int = 10) -> dict[str, Path]:
    """Prices and fundamentals as fetch writes them (its own frames), hourly from T0."""
    out = tmp_path / "history.parquet"
    sink = ParquetSink(out)
    stamps = [T0 + h * HOUR for h in range(hours)]
    prices = [
        PriceTick(ts=ts, market=market, price_eur_mwh=50.0 + i) for i, ts in enumerate(stamps)
    ]
    load = [ValueRow(ts, 60, 40_000.0 + 100 * i) for i, ts in enumerate(stamps[:6])]
    generation = [
        GenerationRow(ts, 60, psr, value + i, False)
        for i, ts in enumerate(stamps[:6])
        for psr, value in (("B19", 9_000.0), ("B16", 3_000.0), ("B04", 20_000.0))
    ]
    for dataset, rows in (("prices", prices), ("load", load), ("generation", generation)):
        to_frame(Job(dataset, market, T0.date(), T0.date()), rows).to_parquet(
            sink.path_for(dataset)
        )
    return {d: sink.path_for(d) for d in ("prices", "load", "generation")}


async def test_as_fast_as_possible_each_interval_goes_out_once_it_is_known(tmp_path):
    files = write_history(tmp_path)
    config = ReplayConfig(
        path=str(files["prices"]),
        batch_size=3,
        fundamentals=(str(files["load"]), str(files["generation"])),
    )
    clock = SimClock(peek_start(files["prices"]))
    batches = await play(ReplayFeed(config), clock)
    stream = [(now, e) for now, batch in batches for e in batch]
    known = [(i, now, e) for i, (now, e) in enumerate(stream) if isinstance(e, Fundamentals)]
    assert [e.ts for _, _, e in known] == [T0 + h * HOUR for h in range(6)]
    for i, now, event in known:
        release = event.ts + 2 * HOUR  # the hour's end plus the hour ENTSO-E takes
        assert now >= release
        assert all(e.ts < release for _, e in stream[:i] if isinstance(e, PriceTick))
        assert all(e.ts >= release for _, e in stream[i:] if isinstance(e, PriceTick))
    # Hour 5 is known at 07:00; the file's prices go on until 09:00.
    assert (known[0][2].load_mw, known[0][2].wind_mw, known[0][2].solar_mw) == (
        40_000,
        9_000,
        3_000,
    )
    assert sum(isinstance(e, PriceTick) for _, e in stream) == 10


@pytest.mark.parametrize("speed", [math.inf, 1e9])
async def test_known_after_the_last_price_still_goes_out_at_its_release(tmp_path, speed):
    files = write_history(tmp_path, hours=6)  # prices end at 05:00; hours 4, 5 known at 06, 07
    config = ReplayConfig(
        path=str(files["prices"]), fundamentals=(str(files["load"]), str(files["generation"]))
    )
    clock = SimClock(peek_start(files["prices"]), speed=speed)
    batches = await play(ReplayFeed(config), clock)
    after = [(now, batch) for now, batch in batches if now > T0 + 5 * HOUR]
    assert all(isinstance(e, Fundamentals) for _, batch in after for e in batch)
    if math.isinf(speed):  # as fast as possible: one batch, the clock at the newest release
        assert [(now, [e.ts.hour for e in b]) for now, b in after] == [(T0 + 7 * HOUR, [4, 5])]
    else:  # paced: each at its own instant
        assert [(now, [e.ts.hour for e in b]) for now, b in after] == [
            (T0 + 6 * HOUR, [4]),
            (T0 + 7 * HOUR, [5]),
        ]


def test_bad_rows_are_left_out_counted_and_logged(tmp_path, caplog):
    files = write_history(tmp_path)
    load = pd.read_parquet(files["load"])
    load.loc[1, "value_mw"] = math.nan
    load.loc[2, "resolution_minutes"] = 7
    load["timestamp"] = load["timestamp"].map(pd.Timestamp.isoformat)  # text, as a CSV round trip
    load.loc[3, "timestamp"] = "not a time"
    load.to_parquet(files["load"])
    history = load_fundamentals([files["load"], files["generation"]], ["DE"])
    assert history.rejected_rows == 3
    assert [e.ts for e in history.events] == [T0, T0 + 4 * HOUR, T0 + 5 * HOUR]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "3 bad row(s)" in warning and "value_mw is not a finite number: 1" in warning
    assert "time does not parse: 1" in warning and "resolution_minutes" in warning


def test_a_file_without_a_column_names_it_and_what_is_needed(tmp_path):
    files = write_history(tmp_path)
    pd.read_parquet(files["load"]).rename(columns={"value_mw": "load_mw"}).to_parquet(files["load"])
    with pytest.raises(FeedError) as error:
        check_files([files["load"], files["generation"]], ["DE"])
    said = str(error.value)
    assert str(files["load"]) in said and "lacks column(s) value_mw" in said
    assert "timestamp, market, value_mw, resolution_minutes" in said


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("wrong market", "holds market(s) LU, none of the replayed markets DE, FR"),
        ("misnamed", "its name does not say what it holds"),
        ("load only", "need both actual load and generation"),
    ],
)
def test_unusable_fundamentals_say_why(tmp_path, which, expected):
    files = write_history(tmp_path, market="LU" if which == "wrong market" else "DE")
    paths = [files["load"], files["generation"]]
    if which == "misnamed":
        paths[0] = files["load"].rename(tmp_path / "load.parquet")
    if which == "load only":
        paths = paths[:1]
    with pytest.raises(FeedError, match=re.escape(expected)):
        check_files(paths, ["DE", "FR"])
    with pytest.raises(FeedError, match=re.escape(expected)):
        load_fundamentals(paths, ["DE", "FR"])


def test_the_cli_says_which_file_lacks_what_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDTUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GRIDTUI_CONFIG", raising=False)
    files = write_history(tmp_path)
    pd.read_parquet(files["generation"]).drop(columns="psr_type").to_parquet(files["generation"])
    status = main(
        [
            "daemon",
            "--replay",
            str(files["prices"]),
            "--fundamentals",
            f"{files['load']},{files['generation']}",
            "--no-api",
            "--duration",
            "1",
            "--markets",
            "DE",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert status == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert "--fundamentals" in err and "lacks column(s) psr_type" in err
    assert str(files["generation"]) in err
