"""Price files: reading day-ahead price history from parquet or CSV, long or wide.

:func:`load_prices` is what the replay feed (:mod:`feeds.replay`), ``gridtui
backtest``, ``gridtui eval`` and ``gridtui train`` read history with;
:func:`peek_start` tells the simulated clock where a file begins.

File formats (column names are matched case-insensitively):

- **long**: a time column (``timestamp``, ``ts``, ``time``, ``datetime``,
  ``delivery_start``…), a market column (``market``, ``zone``, ``area``…), a
  price column (``price_eur_mwh``, ``price``, ``value``…), and optionally
  ``resolution_minutes`` / ``delivery_minutes``. ``gridtui fetch`` writes this.
- **wide**: a time column (or a datetime index) and one numeric column per
  market, named by its market code; empty cells are gaps.

Timestamps are delivery starts. Tz-aware ones are converted to UTC; naive ones
are taken as UTC (and a warning says so). Replayed prices are day-ahead auction
results: ``PriceKind.DAY_AHEAD``, ``delivery_minutes`` from the file or 60.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.ports import FeedError
from engine.time_us import from_us

log = logging.getLogger(__name__)

TIME_COLUMNS: Final = (
    "timestamp",
    "ts",
    "time",
    "datetime",
    "delivery_start",
    "utc_timestamp",
    "start",
    "date",
)
MARKET_COLUMNS: Final = ("market", "zone", "area", "bidding_zone", "country")
PRICE_COLUMNS: Final = ("price_eur_mwh", "price", "value", "day_ahead_price", "price_eur")
MINUTES_COLUMNS: Final = ("delivery_minutes", "resolution_minutes")


class PriceHistory(NamedTuple):
    """A file's prices in time order, one entry per row, ready to become ticks."""

    ts_us: npt.NDArray[np.int64]  # microseconds since the epoch, ascending
    markets: list[str]
    prices: list[float]
    minutes: list[int] | None

    def __len__(self) -> int:
        return len(self.markets)


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    by_lower = {str(c).lower(): str(c) for c in columns}
    return next((by_lower[n] for n in names if n in by_lower), None)


def _check_parquet(path: Path) -> None:
    """Refuse what is not a parquet file before pyarrow does, in words."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(4)
            file.seek(max(0, size - 4))
            tail = file.read(4)
    except OSError as exc:
        raise FeedError(f"cannot read replay file {path}: {exc.strerror or exc}") from exc
    if path.is_dir():
        raise FeedError(f"replay file {path} is a directory, not a parquet file")
    if size == 0:
        raise FeedError(f"replay file {path}: not a parquet file (0 bytes)")
    if head != b"PAR1" or tail != b"PAR1":
        raise FeedError(
            f"replay file {path}: not a parquet file ({size} bytes without the PAR1 "
            "markers: truncated, corrupted or another format)"
        )


_DELIMITERS: Final = {";": "';'", "\t": "tab", "|": "'|'"}


def _check_csv(path: Path) -> None:
    """A CSV with another delimiter reads as one column: name the delimiter instead."""
    if path.name.lower().endswith(".gz"):
        return
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            header = file.readline()
    except OSError as exc:
        raise FeedError(f"cannot read replay file {path}: {exc.strerror or exc}") from exc
    if not header.strip():
        raise FeedError(f"replay file {path}: empty CSV (no header line)")
    if "," in header:
        return
    for char, word in _DELIMITERS.items():
        if char in header:
            raise FeedError(
                f"replay file {path}: looks like a {word}-separated CSV: use ',' or parquet"
            )


def _read(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    name = path.name.lower()
    if not path.exists():
        raise FeedError(f"replay file {path} does not exist")
    try:
        if name.endswith((".parquet", ".pq")):
            _check_parquet(path)
            return pd.read_parquet(path, columns=columns)
        if name.endswith((".csv", ".csv.gz", ".txt")):
            _check_csv(path)
            return pd.read_csv(path, usecols=columns)
    except (OSError, ValueError) as exc:
        raise FeedError(f"cannot read replay file {path}: {exc}") from exc
    raise FeedError(f"replay file {path}: use a .parquet or .csv file")


def _times_us(values: pd.Series, path: Path) -> npt.NDArray[np.int64]:
    """Any time column → int64 microseconds since the epoch, UTC."""
    naive = not isinstance(values.dtype, pd.DatetimeTZDtype)
    try:
        if naive:
            parsed = pd.to_datetime(values, utc=False)
            if isinstance(parsed.dtype, pd.DatetimeTZDtype):
                naive = False  # strings that carried their own offsets
                parsed = parsed.dt.tz_convert("UTC")
            else:
                parsed = parsed.dt.tz_localize("UTC")
        else:
            parsed = values.dt.tz_convert("UTC")
    except (ValueError, TypeError) as exc:
        raise FeedError(f"replay file {path}: cannot read the time column ({exc})") from exc
    if naive:
        log.warning("replay file %s has naive timestamps; taking them as UTC", path)
    return np.asarray(parsed.dt.as_unit("us").astype("int64").to_numpy(), dtype=np.int64)


def _time_column(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, str]:
    column = _find(list(frame.columns), TIME_COLUMNS)
    if column is None and isinstance(frame.index, pd.DatetimeIndex):
        column = str(frame.index.name or "timestamp")
        frame = frame.reset_index(names=column)
    if column is None:
        raise FeedError(
            f"replay file {path}: no time column; name one {', '.join(TIME_COLUMNS[:5])} "
            "or store a datetime index"
        )
    return frame, column


def load_prices(
    path: str | Path, markets: Sequence[str] = (), *, delivery_minutes: int = 60
) -> PriceHistory:
    """Read a price file (long or wide) into time order.

    Raises:
        FeedError: the file is missing, unreadable, or has no time/price columns.
    """
    path = Path(path).expanduser()
    frame, time_column = _time_column(_read(path), path)
    market_column = _find(list(frame.columns), MARKET_COLUMNS)
    if market_column is not None:
        price_column = _find(list(frame.columns), PRICE_COLUMNS)
        if price_column is None:
            raise FeedError(
                f"replay file {path}: long format needs a price column ({', '.join(PRICE_COLUMNS)})"
            )
        minutes_column = _find(list(frame.columns), MINUTES_COLUMNS)
        keep = [time_column, market_column, price_column] + (
            [minutes_column] if minutes_column else []
        )
        long = frame[keep].rename(
            columns={time_column: "ts", market_column: "market", price_column: "price"}
            | ({minutes_column: "minutes"} if minutes_column else {})
        )
    else:
        value_columns = [
            c for c in frame.columns if c != time_column and pd.api.types.is_numeric_dtype(frame[c])
        ]
        if not value_columns:
            raise FeedError(f"replay file {path}: no market column and no numeric price columns")
        long = frame.melt(id_vars=[time_column], value_vars=value_columns, var_name="market")
        long = long.rename(columns={time_column: "ts", "value": "price"})
    long["market"] = long["market"].astype(str)
    if markets:
        wanted = set(markets)
        others = sorted(set(long["market"].unique()) - wanted)
        if others:
            log.info("replay file %s: leaving out markets %s (not configured)", path, others)
        long = long[long["market"].isin(wanted)]
    prices = pd.to_numeric(long["price"], errors="coerce")
    missing = int(prices.isna().sum())
    if missing:
        # Wide files mark gaps with empty cells; a long file should not have any.
        log.info("replay file %s: %d empty price cell(s) skipped", path, missing)
        long, prices = long[prices.notna()], prices[prices.notna()]
    ts_us = _times_us(long["ts"], path)
    order = np.argsort(ts_us, kind="stable")
    market_codes, market_names = pd.factorize(long["market"])
    names = [str(m) for m in market_names]
    minutes: list[int] | None = None
    if "minutes" in long.columns:
        minutes = (
            pd.to_numeric(long["minutes"], errors="coerce")
            .fillna(delivery_minutes)
            .astype("int64")
            .to_numpy()[order]
            .tolist()
        )
    return PriceHistory(
        ts_us=ts_us[order],
        markets=[names[code] for code in market_codes[order].tolist()],
        prices=prices.to_numpy(dtype=np.float64)[order].tolist(),
        minutes=minutes,
    )


def peek_start(path: str | Path) -> datetime:
    """The first timestamp of a price file, cheaply: where a replay's clock starts.

    Raises:
        FeedError: as :func:`load_prices`, or the file holds no rows.
    """
    path = Path(path).expanduser()
    column = None
    if path.name.lower().endswith((".parquet", ".pq")) and path.exists():
        import pyarrow.parquet as pq

        _check_parquet(path)
        try:
            names = pq.read_schema(path).names
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise FeedError(f"cannot read replay file {path}: {exc}") from exc
        column = _find(names, TIME_COLUMNS)
    if column is None:
        history = load_prices(path)
        if not len(history):
            raise FeedError(f"replay file {path} holds no prices")
        return from_us(int(history.ts_us[0]))
    ts_us = _times_us(_read(path, [column])[column], path)
    if not len(ts_us):
        raise FeedError(f"replay file {path} holds no prices")
    return from_us(int(ts_us.min()))
