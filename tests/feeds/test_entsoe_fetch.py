"""``gridtui fetch entsoe``: backfill to parquet or a store, resumable, against the fake API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from engine.events import PriceKind
from engine.store.sqlite import SqliteStore
from feeds.entsoe.backfill import Job, ParquetSink, StoreSink, backfill, plan
from feeds.entsoe.client import ClientConfig, EntsoeClient
from feeds.price_file import load_prices
from gridtui.cli import main
from tests.feeds.entsoe_server import FakeEntsoe, Reply

ZONES = {"DE": "10Y1001A1001A82H", "FR": "10YFR-RTE------C", "BE": "10YBE----------2"}
START = date(2024, 3, 1)
END = date(2024, 3, 11)
TODAY = date(2030, 1, 1)  # every day of the range is over


def client_for(api: FakeEntsoe) -> EntsoeClient:
    config = ClientConfig(
        url=api.url, timeout_s=1.0, max_attempts=2, backoff_initial_s=0.01, backoff_max_s=0.02
    )
    return EntsoeClient(api.token, config)


async def run(api, sink, *, datasets=("prices",), markets=("DE", "FR"), start=START, end=END, **kw):
    async with client_for(api) as client:
        await sink.open()
        try:
            return await backfill(
                client,
                sink,
                datasets=datasets,
                markets=markets,
                border_pairs=kw.pop("border_pairs", [("DE", "FR")]),
                zones=ZONES,
                start=start,
                end=end,
                chunk_days=kw.pop("chunk_days", 4),
                concurrency=kw.pop("concurrency", 4),
                today=kw.pop("today", TODAY),
            )
        finally:
            await sink.close()


def test_plan_skips_done_days_and_cuts_runs_into_chunks():
    done = {date(2024, 3, 3), date(2024, 3, 4)}
    jobs, skipped = plan("prices", "DE", START, END, done, chunk_days=3, today=TODAY)
    assert skipped == 2
    assert [(j.start.day, j.end.day) for j in jobs] == [(1, 3), (5, 8), (8, 11)]
    # Days from today on are never done: their data is still arriving.
    jobs, skipped = plan("prices", "DE", START, END, done, chunk_days=31, today=date(2024, 3, 4))
    assert skipped == 1 and [(j.start.day, j.end.day) for j in jobs] == [(1, 3), (4, 11)]


async def test_prices_to_parquet_then_a_second_run_fetches_nothing(tmp_path):
    out = tmp_path / "prices.parquet"
    async with FakeEntsoe() as api:
        report = await run(api, ParquetSink(out))
        assert report.chunks == 6 and report.fetched == 6 and report.failed == 0
        assert report.rows == {"prices": 2 * 10 * 24}
        first_requests = len(api.requests)
        again = await run(api, ParquetSink(out))
        assert len(api.requests) == first_requests
        assert again.chunks == 0 and again.skipped_days == 2 * 10
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["timestamp", "market", "price_eur_mwh", "resolution_minutes"]
    assert len(frame) == 480 and not frame.duplicated(["market", "timestamp"]).any()
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["timestamp"].min() == pd.Timestamp("2024-03-01T00:00Z")
    assert frame["timestamp"].max() == pd.Timestamp("2024-03-10T23:00Z")
    assert not (tmp_path / "prices.parquet.parts").exists()
    # What fetch writes, the replay plays.
    assert len(load_prices(out)) == 480


async def test_extending_the_range_fetches_only_the_new_days(tmp_path):
    out = tmp_path / "prices.parquet"
    async with FakeEntsoe() as api:
        await run(api, ParquetSink(out), markets=("DE",))
        api.requests.clear()
        report = await run(api, ParquetSink(out), markets=("DE",), end=date(2024, 3, 13))
    assert report.fetched == 1 and report.skipped_days == 10
    assert [(r["periodStart"], r["periodEnd"]) for r in api.requests] == [
        ("202403110000", "202403130000")
    ]
    assert len(pd.read_parquet(out)) == 12 * 24


async def test_a_failed_chunk_is_reported_and_the_next_run_fetches_only_it(tmp_path):
    out = tmp_path / "prices.parquet"
    async with FakeEntsoe() as api:
        api.script.extend([Reply(status=503)] * 2)  # the first chunk gives up
        report = await run(api, ParquetSink(out), markets=("DE",), chunk_days=5, concurrency=1)
        assert report.failed == 1 and report.fetched == 1
        assert "prices DE 2024-03-01..2024-03-06" in report.failures[0]
        assert len(pd.read_parquet(out)) == 5 * 24
        api.requests.clear()
        retry = await run(api, ParquetSink(out), markets=("DE",), chunk_days=5)
    assert retry.fetched == 1 and retry.failed == 0
    assert [r["periodStart"] for r in api.requests] == ["202403010000"]
    assert len(pd.read_parquet(out)) == 10 * 24


async def test_parts_left_by_a_crash_count_as_done(tmp_path):
    out = tmp_path / "prices.parquet"
    sink = ParquetSink(out)
    await sink.open()
    job = Job("prices", "DE", START, START + timedelta(days=2))
    async with FakeEntsoe() as api, client_for(api) as client:
        ticks = await client.day_ahead_prices("DE", ZONES["DE"], *job.span)
        await sink.write(job, ticks)
        # No close(): the process died here. The next run resumes from the part.
        report = await run(api, ParquetSink(out), markets=("DE",), end=START + timedelta(days=4))
    assert report.skipped_days == 2 and report.fetched == 1
    assert len(pd.read_parquet(out)) == 4 * 24


async def test_other_datasets_go_beside_the_price_file(tmp_path):
    out = tmp_path / "history.parquet"
    async with FakeEntsoe() as api:
        report = await run(
            api,
            ParquetSink(out),
            datasets=("generation", "load", "load_forecast", "flows", "capacity"),
            markets=("DE",),
            end=START + timedelta(days=2),
        )
    assert report.failed == 0
    generation = pd.read_parquet(tmp_path / "history.generation.parquet")
    assert set(generation["production_type"]) == {
        "gas",
        "solar",
        "wind_onshore",
        "hydro_pumped_storage",
    }
    assert generation["consumption"].sum() == 2 * 96  # pumped storage pumping
    load = pd.read_parquet(tmp_path / "history.load.parquet")
    assert list(load.columns) == ["timestamp", "market", "value_mw", "resolution_minutes"]
    assert len(load) == 2 * 96
    assert len(pd.read_parquet(tmp_path / "history.load_forecast.parquet")) == 2 * 96
    flows = pd.read_parquet(tmp_path / "history.flows.parquet")
    assert set(zip(flows["from_market"], flows["to_market"], strict=True)) == {("DE", "FR")}
    assert len(pd.read_parquet(tmp_path / "history.capacity.parquet")) == 48
    assert not out.exists()  # no prices were asked for


async def test_prices_into_a_store_are_resumable(tmp_path):
    database = tmp_path / "fetch.db"
    async with FakeEntsoe() as api:
        report = await run(api, StoreSink(SqliteStore(database)))
        assert report.rows == {"prices": 480}
        api.requests.clear()
        again = await run(api, StoreSink(SqliteStore(database)))
    assert again.chunks == 0 and api.requests == []
    store = SqliteStore(database)
    await store.open()
    history = await store.price_history("FR", kind=PriceKind.DAY_AHEAD, limit=10_000)
    await store.close()
    assert len(history) == 240 and history[0].ts == datetime(2024, 3, 1, tzinfo=UTC)
    assert history[0].source == "entsoe" and history[0].delivery_minutes == 60


def test_the_command_line(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    monkeypatch.setenv("GRIDTUI_CONFIG", str(config))
    out = tmp_path / "cli.parquet"
    with FakeEntsoe().in_thread() as api:
        monkeypatch.setenv("GRIDTUI_ENTSOE_URL", api.url)
        monkeypatch.setenv("GRIDTUI_ENTSOE_TOKEN", api.token)
        args = ["fetch", "entsoe", "--from", "2024-03-01", "--to", "2024-03-03"]
        assert main([*args, "--markets", "DE,BE", "--out", str(out), "--no-progress"]) == 0
        assert len(pd.read_parquet(out)) == 2 * 2 * 24
        assert "wrote" in capsys.readouterr().err

        monkeypatch.setenv("GRIDTUI_ENTSOE_TOKEN", "wrong")
        status = main([*args, "--markets", "FR", "--out", str(out), "--no-progress"])
        assert status == 2
        error = capsys.readouterr().err
        assert "rejected the API token" in error and "wrong" not in error.replace("wrong-", "")

        monkeypatch.delenv("GRIDTUI_ENTSOE_TOKEN")
        assert main([*args, "--out", str(out)]) == 2
        assert "GRIDTUI_ENTSOE_TOKEN" in capsys.readouterr().err

        monkeypatch.setenv("GRIDTUI_ENTSOE_TOKEN", api.token)
        assert main([*args, "--markets", "XX", "--out", str(out)]) == 2
        assert "[entsoe.zones] XX" in capsys.readouterr().err
