"""Fundamentals for a replay: the load and generation files ``gridtui fetch`` writes, as events.

``gridtui fetch entsoe --datasets prices,load,generation,load_forecast --out FILE.parquet``
writes the prices to ``FILE.parquet`` and each other dataset beside it
(:class:`feeds.entsoe.backfill.ParquetSink`): ``FILE.load.parquet`` (actual total
load, A65 A16), ``FILE.generation.parquet`` (actual generation per production
type, A75) and ``FILE.load_forecast.parquet`` (the day-ahead load forecast, A65
A01). :class:`feeds.replay.ReplayFeed` plays them beside the prices
(``ReplayConfig.fundamentals``); this module reads them back.

Load and the wind and solar share of generation are joined per market by the
join the live feed uses (:func:`feeds.entsoe.convert.fundamentals`), so a replay
shows what the live feed would have shown. Each interval is released when it
would have been known: at its end plus ``delay_minutes`` (ENTSO-E publishes
actual load and generation up to an hour after the end of the interval,
Regulation 543/2013 articles 6.1 and 16.1). The forecast rides along on the same
event, as on the live feed; it is never released without the actuals.

Which dataset a file holds is read from its name, the way fetch names it (the
load and load-forecast files have the same columns). A file is refused with a
:class:`~engine.ports.FeedError` naming it, and what is missing and what is
accepted, when it lacks a column or holds none of the replayed markets. Bad
rows (a time that does not parse, a value that is not a finite number, a
resolution that is not a whole number of minutes dividing a day) are left out,
counted and logged once per file.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.events import Fundamentals
from engine.ports import FeedError
from engine.time_us import to_us
from feeds.entsoe import convert

log = logging.getLogger(__name__)

_VALUE_COLUMNS: Final = ("timestamp", "market", "value_mw", "resolution_minutes")
DATASET_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "load": _VALUE_COLUMNS,
    "load_forecast": _VALUE_COLUMNS,
    "generation": (
        "timestamp",
        "market",
        "psr_type",
        "consumption",
        "value_mw",
        "resolution_minutes",
    ),
}
# The rows of one interval: a duplicate (a file fetched twice, two files of one
# dataset overlapping) would be counted twice by the join; the last one wins, as in fetch.
_KEYS: Final = {
    "load": ["market", "timestamp"],
    "load_forecast": ["market", "timestamp"],
    "generation": ["market", "psr_type", "consumption", "timestamp"],
}
_NAMES: Final = ", ".join(f"FILE.{d}.parquet" for d in DATASET_COLUMNS)


class FundamentalsHistory(NamedTuple):
    """Fundamentals events in the order they become known."""

    release_us: npt.NDArray[np.int64]  # when each is known, µs since the epoch, ascending
    events: list[Fundamentals]
    rejected_rows: int

    def __len__(self) -> int:
        return len(self.events)


def dataset_of(path: Path) -> str:
    """``load``, ``load_forecast`` or ``generation``, from the name fetch gives the file.

    Raises:
        FeedError: the name does not say which.
    """
    name = path.name.lower()
    for dataset in DATASET_COLUMNS:
        if name.endswith(f".{dataset}.parquet"):
            return dataset
    raise FeedError(
        f"fundamentals file {path}: its name does not say what it holds; "
        f"accepted are the files `gridtui fetch --out FILE.parquet` writes: {_NAMES}"
    )


def _columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise FeedError(f"fundamentals file {path} does not exist (or is not a file)")
    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise FeedError(f"fundamentals file {path}: not a readable parquet file ({exc})") from exc


def _check_columns(path: Path, dataset: str, columns: Sequence[str]) -> None:
    missing = [c for c in DATASET_COLUMNS[dataset] if c not in columns]
    if missing:
        raise FeedError(
            f"fundamentals file {path} ({dataset}) lacks column(s) {', '.join(missing)}: "
            f"a {dataset} file needs {', '.join(DATASET_COLUMNS[dataset])}, "
            "as `gridtui fetch` writes it"
        )


def _check_markets(path: Path, found: set[str], markets: Sequence[str]) -> None:
    if markets and not found & set(markets):
        held = ", ".join(sorted(found)) or "no rows"
        raise FeedError(
            f"fundamentals file {path} holds market(s) {held}, none of the replayed "
            f"markets {', '.join(markets)}: fetch those markets (--markets) or replay "
            "the file's"
        )


def check_files(paths: Sequence[str | Path], markets: Sequence[str] = ()) -> None:
    """What can be told before a replay starts, cheaply: names, columns, markets.

    Raises:
        FeedError: as :func:`load_fundamentals` for a whole file.
    """
    datasets: set[str] = set()
    for raw in paths:
        path = Path(raw).expanduser()
        dataset = dataset_of(path)
        _check_columns(path, dataset, _columns(path))
        found = set(pd.read_parquet(path, columns=["market"])["market"].astype(str).unique())
        _check_markets(path, found, markets)
        datasets.add(dataset)
    _check_complete(datasets)


def _check_complete(datasets: set[str]) -> None:
    if datasets and not {"load", "generation"} <= datasets:
        have = ", ".join(sorted(datasets))
        raise FeedError(
            "replay fundamentals need both actual load and generation (FILE.load.parquet "
            f"and FILE.generation.parquet) to make load, wind and solar; got only {have}"
        )


def _read(path: Path, dataset: str, markets: Sequence[str]) -> tuple[pd.DataFrame, int]:
    """One file's good rows of the replayed markets, and how many bad rows it had."""
    _check_columns(path, dataset, _columns(path))
    try:
        frame = pd.read_parquet(path, columns=list(DATASET_COLUMNS[dataset]))
    except (OSError, ValueError) as exc:
        raise FeedError(f"fundamentals file {path}: cannot read it ({exc})") from exc
    frame["market"] = frame["market"].astype(str)
    _check_markets(path, set(frame["market"].unique()), markets)
    if markets:
        others = sorted(set(frame["market"].unique()) - set(markets))
        if others:
            log.info("fundamentals file %s: leaving out markets %s (not replayed)", path, others)
        frame = frame[frame["market"].isin(markets)]
    frame = frame.assign(
        timestamp=pd.to_datetime(frame["timestamp"], utc=True, errors="coerce"),
        value_mw=pd.to_numeric(frame["value_mw"], errors="coerce"),
        resolution_minutes=pd.to_numeric(frame["resolution_minutes"], errors="coerce"),
    )
    minutes = frame["resolution_minutes"]
    reasons = {
        "time does not parse": frame["timestamp"].isna(),
        "value_mw is not a finite number": ~np.isfinite(frame["value_mw"].to_numpy(float)),
        "resolution_minutes is not a whole number of minutes dividing a day": ~(
            (minutes > 0) & (minutes % 1 == 0) & (1440 % minutes.fillna(7) == 0)
        ),
    }
    if dataset == "generation":
        flag = frame["consumption"]
        reasons["consumption is not true or false"] = ~flag.isin([True, False])
    bad = np.zeros(len(frame), dtype=bool)
    counts: Counter[str] = Counter()
    for reason, mask in reasons.items():
        flags = np.asarray(mask, dtype=bool) & ~bad  # count each row once, by its first fault
        counts[reason] = int(flags.sum())
        bad |= flags
    rejected = int(bad.sum())
    if rejected:
        said = "; ".join(f"{reason}: {n}" for reason, n in counts.items() if n)
        log.warning("fundamentals file %s: %d bad row(s) left out (%s)", path, rejected, said)
    good = frame[~bad]
    return good.assign(resolution_minutes=good["resolution_minutes"].astype("int64")), rejected


def _value_rows(frame: pd.DataFrame) -> list[convert.ValueRow]:
    stamps = frame["timestamp"].dt.to_pydatetime().tolist()
    return [
        convert.ValueRow(ts, minutes, value)
        for ts, minutes, value in zip(
            stamps,
            frame["resolution_minutes"].tolist(),
            frame["value_mw"].tolist(),
            strict=True,
        )
    ]


def _generation_rows(frame: pd.DataFrame) -> list[convert.GenerationRow]:
    stamps = frame["timestamp"].dt.to_pydatetime().tolist()
    return [
        convert.GenerationRow(ts, minutes, str(psr), value, bool(consumption))
        for ts, minutes, psr, value, consumption in zip(
            stamps,
            frame["resolution_minutes"].tolist(),
            frame["psr_type"].tolist(),
            frame["value_mw"].tolist(),
            frame["consumption"].tolist(),
            strict=True,
        )
    ]


def load_fundamentals(
    paths: Sequence[str | Path],
    markets: Sequence[str] = (),
    *,
    delay_minutes: int = 60,
    source: str = "replay",
) -> FundamentalsHistory:
    """Read fetch's fundamentals files into events, in the order they become known.

    Raises:
        FeedError: a file is missing, unreadable, misnamed, lacks a column or
            holds none of ``markets``; or load or generation is not among them.
    """
    if not paths:
        return FundamentalsHistory(np.empty(0, dtype=np.int64), [], 0)
    frames: dict[str, list[pd.DataFrame]] = {d: [] for d in DATASET_COLUMNS}
    rejected = 0
    for raw in paths:
        path = Path(raw).expanduser()
        dataset = dataset_of(path)
        frame, bad = _read(path, dataset, markets)
        frames[dataset].append(frame)
        rejected += bad
    _check_complete({d for d, found in frames.items() if found})
    joined: dict[str, pd.DataFrame] = {
        d: pd.concat(found, ignore_index=True).drop_duplicates(_KEYS[d], keep="last")
        for d, found in frames.items()
        if found
    }
    delay = timedelta(minutes=delay_minutes)
    released: list[tuple[datetime, Fundamentals]] = []
    empty = pd.DataFrame(columns=list(_VALUE_COLUMNS))
    for market in sorted(set(joined["load"]["market"]) | set(joined["generation"]["market"])):
        load = joined["load"][joined["load"]["market"] == market]
        generation = joined["generation"][joined["generation"]["market"] == market]
        forecast = joined.get("load_forecast", empty)
        forecast = forecast[forecast["market"] == market]
        events = convert.fundamentals(
            market,
            _value_rows(load),
            _generation_rows(generation),
            source=source,
            load_forecast=_value_rows(forecast) if len(forecast) else (),
        )
        if not events:
            log.warning(
                "replay fundamentals of %s: no interval has both load (%d rows) and "
                "generation (%d rows); nothing to replay for it",
                market,
                len(load),
                len(generation),
            )
            continue
        # The join's grid is the coarser of the two resolutions (convert.fundamentals).
        step = timedelta(
            minutes=max(
                int(load["resolution_minutes"].max()), int(generation["resolution_minutes"].max())
            )
        )
        released.extend((event.ts + step + delay, event) for event in events)
    released.sort(key=lambda pair: (pair[0], pair[1].market))
    release_us = np.array([to_us(when) for when, _ in released], dtype=np.int64)
    return FundamentalsHistory(release_us, [event for _, event in released], rejected)
