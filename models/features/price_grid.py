"""Price history on a regular step grid: what every feature pipeline reads.

Two implementations of one :class:`History` protocol: :class:`PriceGrid`, a
whole history made from a long price frame (:func:`grid_from_frame`, for
training and evaluation), and :class:`LiveGrid`, a ring buffer filled tick by
tick (for the running engine). Both average a step's prices the same way, which
is what makes features computed live equal those computed in batch
(``tests/models/test_features.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.events import Fundamentals, PriceTick

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
STEP_MINUTES_ALLOWED: Final = (15, 30, 60)


class FeatureError(ValueError):
    """Features cannot be computed (bad configuration or history); the message says why."""


class History(Protocol):
    """Prices (and fundamentals) on a regular step grid, cut into windows."""

    @property
    def markets(self) -> tuple[str, ...]: ...

    def windows(self, end_steps: IntArray, length: int) -> tuple[FloatArray, FloatArray]:
        """Steps ``end - length + 1 .. end`` for each end step.

        Returns:
            prices ``[n, length, markets]`` and fundamentals
            ``[n, length, markets, fundamentals]``; NaN where nothing is known.
        """
        ...


def step_of(ts: datetime, step_minutes: int) -> int:
    """The absolute step (steps since the epoch) that ``ts`` falls in."""
    return math.floor(ts.timestamp()) // (step_minutes * 60)


def step_start(step: int, step_minutes: int) -> datetime:
    return datetime.fromtimestamp(step * step_minutes * 60, tz=UTC)


@dataclass(frozen=True, slots=True)
class PriceGrid:
    """A whole price history on a regular grid: what training and evaluation read.

    ``prices[i, m]`` is the mean price of market ``m`` over step ``first_step + i``
    (NaN when none); ``fundamentals[i, m, k]`` likewise for fundamentals column ``k``.
    """

    markets: tuple[str, ...]
    step_minutes: int
    first_step: int
    prices: FloatArray
    fundamentals: FloatArray
    fundamental_names: tuple[str, ...] = ()

    @property
    def last_step(self) -> int:
        return self.first_step + len(self.prices) - 1

    def windows(self, end_steps: IntArray, length: int) -> tuple[FloatArray, FloatArray]:
        steps = end_steps[:, None] + np.arange(1 - length, 1, dtype=np.int64)[None, :]
        rows = steps - self.first_step
        inside = (rows >= 0) & (rows < len(self.prices))
        safe = np.where(inside, rows, 0)
        prices = np.where(inside[:, :, None], self.prices[safe], np.nan)
        fundamentals = np.where(inside[:, :, None, None], self.fundamentals[safe], np.nan)
        return prices, fundamentals

    def values(self, steps: IntArray, market_index: IntArray) -> FloatArray:
        """Raw prices at ``steps`` for the markets ``market_index`` (NaN outside or missing)."""
        rows = steps - self.first_step
        inside = (rows >= 0) & (rows < len(self.prices))
        safe = np.where(inside, rows, 0)
        return np.where(inside, self.prices[safe, market_index], np.nan)


def _minutes_column(frame: pd.DataFrame) -> str | None:
    for name in ("resolution_minutes", "delivery_minutes"):
        if name in frame.columns:
            return name
    return None


def grid_from_frame(
    frame: pd.DataFrame,
    markets: Sequence[str],
    step_minutes: int,
    fundamentals: Sequence[str] = (),
    *,
    deliveries: bool = True,
) -> PriceGrid:
    """Put a long price frame on the step grid, the way :class:`LiveGrid` does live.

    Args:
        frame: columns ``timestamp`` (tz-aware), ``market``, ``price_eur_mwh``,
            optionally ``resolution_minutes`` (a price covering several steps
            fills each of them) and the fundamentals columns.
        markets: column order of the grid; other markets are ignored.
        step_minutes: the grid step.
        fundamentals: fundamentals columns to keep, in this order.
        deliveries: rows are delivery periods (day-ahead prices): the last row
            for a market and timestamp wins. ``False``: rows are ticks, each one
            counts in its step's mean.
    """
    missing = [c for c in ("timestamp", "market", "price_eur_mwh") if c not in frame.columns]
    missing += [c for c in fundamentals if c not in frame.columns]
    if missing:
        raise FeatureError(f"price frame lacks column(s) {missing}")
    index = {market: i for i, market in enumerate(markets)}
    data = frame[frame["market"].astype(str).isin(index)]
    if deliveries:
        data = data.drop_duplicates(subset=["timestamp", "market"], keep="last")
    data = data.sort_values("timestamp", kind="stable")
    step_ns = step_minutes * 60 * 1_000_000_000
    ts_ns = pd.DatetimeIndex(data["timestamp"]).as_unit("ns").asi8
    steps = ts_ns // step_ns
    column = _minutes_column(data)
    spans = np.ones(len(data), dtype=np.int64)
    if column is not None:
        minutes = pd.to_numeric(data[column], errors="coerce").fillna(step_minutes).to_numpy()
        spans = np.maximum(minutes.astype(np.int64) // step_minutes, 1)
    market_idx = np.array([index[str(m)] for m in data["market"]], dtype=np.int64)
    prices = data["price_eur_mwh"].to_numpy(dtype=np.float64)
    fund = (
        data[list(fundamentals)].to_numpy(dtype=np.float64)
        if fundamentals
        else np.zeros((len(data), 0))
    )
    if spans.max(initial=1) > 1:  # one row per covered step, in time order
        repeat = np.repeat(np.arange(len(data)), spans)
        offsets = np.arange(len(repeat)) - np.repeat(np.cumsum(spans) - spans, spans)
        steps = steps[repeat] + offsets
        market_idx, prices, fund = market_idx[repeat], prices[repeat], fund[repeat]
        order = np.argsort(steps, kind="stable")
        steps, market_idx, prices, fund = (
            steps[order],
            market_idx[order],
            prices[order],
            fund[order],
        )
    n_markets = len(markets)
    if len(steps) == 0:
        raise FeatureError(f"no prices for markets {list(markets)} in the data")
    first = int(steps.min())
    rows = steps - first
    size = int(rows.max()) + 1
    total = np.zeros((size, n_markets))
    count = np.zeros((size, n_markets))
    np.add.at(total, (rows, market_idx), prices)
    np.add.at(count, (rows, market_idx), 1.0)
    grid_prices = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    n_fund = len(fundamentals)
    grid_fund = np.full((size, n_markets, n_fund), np.nan)
    for k in range(n_fund):
        values = fund[:, k]
        ok = np.isfinite(values)
        f_total = np.zeros((size, n_markets))
        f_count = np.zeros((size, n_markets))
        np.add.at(f_total, (rows[ok], market_idx[ok]), values[ok])
        np.add.at(f_count, (rows[ok], market_idx[ok]), 1.0)
        grid_fund[:, :, k] = np.where(
            f_count > 0, f_total / np.where(f_count > 0, f_count, 1.0), np.nan
        )
    return PriceGrid(
        markets=tuple(markets),
        step_minutes=step_minutes,
        first_step=first,
        prices=grid_prices,
        fundamentals=grid_fund,
        fundamental_names=tuple(fundamentals),
    )


class LiveGrid:
    """The live counterpart of :class:`PriceGrid`: a ring buffer filled tick by tick.

    Prices of a step are averaged the same way as :func:`grid_from_frame` does:
    with ``deliveries=True`` (day-ahead curves) one value per delivery start, the
    last one received winning; otherwise every tick counts. Data older than the
    buffer, or a step older than the one a slot already holds, is dropped.
    """

    def __init__(
        self,
        markets: Sequence[str],
        step_minutes: int,
        fundamentals: Sequence[str] = (),
        *,
        capacity_steps: int,
        deliveries: bool = True,
    ) -> None:
        self._markets = tuple(markets)
        self.step_minutes = step_minutes
        self.fundamental_names = tuple(fundamentals)
        self.deliveries = deliveries
        self._index = {market: i for i, market in enumerate(self._markets)}
        self._step_s = step_minutes * 60
        self._capacity = capacity_steps
        n_markets, n_fund = len(self._markets), len(self.fundamental_names)
        self._steps = np.full(capacity_steps, -1, dtype=np.int64)
        self._sum = np.zeros((capacity_steps, n_markets))
        self._count = np.zeros((capacity_steps, n_markets))
        self._fsum = np.zeros((capacity_steps, n_markets, n_fund))
        self._fcount = np.zeros((capacity_steps, n_markets, n_fund))
        self._cells: dict[tuple[int, int], dict[int, float]] = {}
        self.latest_step: int | None = None

    @property
    def markets(self) -> tuple[str, ...]:
        return self._markets

    def _slot(self, step: int) -> int | None:
        slot = step % self._capacity
        held = int(self._steps[slot])
        if held == step:
            return slot
        if held > step:
            return None  # older than the buffer
        self._steps[slot] = step
        self._sum[slot] = 0.0
        self._count[slot] = 0.0
        self._fsum[slot] = 0.0
        self._fcount[slot] = 0.0
        if self.deliveries:
            for market in range(len(self._markets)):
                self._cells.pop((held, market), None)
        return slot

    def add_price(self, tick: PriceTick) -> bool:
        """Take a price tick; False when its market is not one of the grid's."""
        market = self._index.get(tick.market)
        if market is None:
            return False
        seconds = math.floor(tick.ts.timestamp())
        first = seconds // self._step_s
        span = 1
        if tick.delivery_minutes is not None:
            span = max(tick.delivery_minutes // self.step_minutes, 1)
        for step in range(first, first + span):
            slot = self._slot(step)
            if slot is None:
                continue
            if self.deliveries:
                cell = self._cells.setdefault((step, market), {})
                cell[seconds] = tick.price_eur_mwh
                total = 0.0
                for key in sorted(cell):
                    total += cell[key]
                self._sum[slot, market] = total
                self._count[slot, market] = len(cell)
            else:
                self._sum[slot, market] += tick.price_eur_mwh
                self._count[slot, market] += 1.0
            if self.latest_step is None or step > self.latest_step:
                self.latest_step = step
        return True

    def add_fundamentals(self, event: Fundamentals) -> bool:
        market = self._index.get(event.market)
        if market is None or not self.fundamental_names:
            return False
        slot = self._slot(math.floor(event.ts.timestamp()) // self._step_s)
        if slot is None:
            return False
        for k, name in enumerate(self.fundamental_names):
            value = float(getattr(event, name))
            if math.isfinite(value):
                self._fsum[slot, market, k] += value
                self._fcount[slot, market, k] += 1.0
        return True

    def values(self, steps: IntArray, market_index: IntArray) -> FloatArray:
        """Step means at ``steps`` for markets ``market_index`` (NaN where unknown)."""
        slots = steps % self._capacity
        count = self._count[slots, market_index]
        ok = (self._steps[slots] == steps) & (count > 0)
        return np.where(ok, self._sum[slots, market_index] / np.where(ok, count, 1.0), np.nan)

    def windows(self, end_steps: IntArray, length: int) -> tuple[FloatArray, FloatArray]:
        steps = end_steps[:, None] + np.arange(1 - length, 1, dtype=np.int64)[None, :]
        slots = steps % self._capacity
        held = self._steps[slots] == steps
        count = self._count[slots]
        ok = held[:, :, None] & (count > 0)
        prices = np.where(ok, self._sum[slots] / np.where(ok, count, 1.0), np.nan)
        fcount = self._fcount[slots]
        fok = held[:, :, None, None] & (fcount > 0)
        fund = np.where(fok, self._fsum[slots] / np.where(fok, fcount, 1.0), np.nan)
        return prices, fund


def infer_step_minutes(frame: pd.DataFrame) -> int:
    """The grid step a price frame calls for: its most common spacing per market (15/30/60)."""
    spacing: list[int] = []
    for _, group in frame.groupby(frame["market"].astype(str), sort=False):
        ns = pd.DatetimeIndex(group["timestamp"]).as_unit("ns").asi8
        diffs = np.diff(np.unique(ns)) // 60_000_000_000
        if len(diffs):
            values, counts = np.unique(diffs, return_counts=True)
            spacing.append(int(values[np.argmax(counts)]))
    minutes = min(spacing, default=60)
    if minutes not in STEP_MINUTES_ALLOWED:
        raise FeatureError(
            f"prices are {minutes} minutes apart; forecasts work on 15, 30 or 60 minute steps"
        )
    return minutes
