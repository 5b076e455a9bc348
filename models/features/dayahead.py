"""The day-ahead feature pipeline: one row per market and delivery step of local day D.

The task and the features are described in :mod:`models.features.pipeline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from models.features.calendar import _holidays, _local_calendar
from models.features.fundamentals import _fundamental_features
from models.features.pipeline import DAYAHEAD, FeatureBlock, PipelineConfig, _Base
from models.features.price_grid import FeatureError, FloatArray, History, step_of
from models.features.price_window import _norm_stats, fill_window, to_normalised


class DayAheadPipeline(_Base):
    """Features for the day-ahead task; one row per market and delivery step of day D.

    Every price input is normalised (no EUR level or scale column) and the
    same-hour means over one and two weeks are inputs: chosen on validation
    folds that never see 2022 (train 2020 → score 2021; train 2020-01..2021-06 →
    score 2021 H2), committed battery at gate closure, mean of DE, FR, NL, BE,
    AT: 80.1 / 79.9 % of perfect foresight before (mean of three seeds), 81.0 /
    80.8 % after (two seeds); a full D−1 profile (24 more columns) added nothing.
    """

    lookback_days = 14
    own_lags_days: Final = (1, 2, 3, 7)

    def __init__(self, config: PipelineConfig) -> None:
        if config.task != DAYAHEAD:
            raise FeatureError(f"DayAheadPipeline needs task {DAYAHEAD!r}, got {config.task!r}")
        super().__init__(config)
        self.zone = ZoneInfo(config.timezone)
        self.max_steps_per_day = 25 * config.steps_per_hour
        names = [f"market_{m}" for m in self.markets]
        names += ["local_hour", "weekday", "holiday", "holiday_before"]
        names += [f"own_d{k}" for k in self.own_lags_days]
        names += ["own_last", "own_d1_mean", "own_d1_min", "own_d1_max", "own_week_mean"]
        names += [f"region_{m}_d1" for m in self.markets]
        names += [f"region_{m}_d1_mean" for m in self.markets]
        names += ["own_hour_mean7", "own_hour_mean14", "own_hour_std7"]
        names += self._fundamental_names()
        self.names = tuple(names)

    # Delivery days in local time and their UTC steps.
    def day_bounds(self, day: date) -> tuple[int, int]:
        """First step of local day ``day`` and the first step after it."""
        step_s = self.config.step_s
        start = datetime.combine(day, time(), tzinfo=self.zone).timestamp()
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=self.zone).timestamp()
        return int(start) // step_s, int(end) // step_s

    def decision_at(self, day: date) -> datetime:
        """When the forecast for delivery day ``day`` is made (UTC)."""
        local = datetime.combine(day - timedelta(days=1), self.config.decision(), tzinfo=self.zone)
        return local.astimezone(UTC)

    def local_day(self, when: datetime) -> date:
        return when.astimezone(self.zone).date()

    def days_between(self, first: date, last: date) -> list[date]:
        """Every local day from ``first`` to ``last`` inclusive."""
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def compute(
        self, history: History, days: Sequence[date], *, issued_at: datetime | None = None
    ) -> FeatureBlock:
        """Feature rows for the delivery days ``days``, as known at each one's decision time.

        ``issued_at`` (live use): a forecast issued after its decision time
        reads the fundamentals of the day before the step it is issued in,
        not before the decision — an engine started at 15:00 has seen none
        of the day before 10:00, and it knows more by now. Prices are the
        same either way: those of the delivery days up to D−1.
        """
        self._check(history)
        chunk = self._chunk()
        blocks = [
            self._compute(history, days[i : i + chunk], issued_at)
            for i in range(0, len(days), chunk)
        ]
        return FeatureBlock.concat(blocks, len(self.names))

    def _compute(
        self, history: History, days: Sequence[date], issued_at: datetime | None
    ) -> FeatureBlock:
        cfg = self.config
        per_day = cfg.steps_per_day
        n, n_markets, length = len(days), len(self.markets), self.lookback_steps
        bounds = np.array([self.day_bounds(d) for d in days], dtype=np.int64).reshape(n, 2)
        day_start, day_end = bounds[:, 0], bounds[:, 1]
        decision = np.array(
            [step_of(self.decision_at(d), cfg.step_minutes) for d in days], dtype=np.int64
        )
        if issued_at is not None:
            # Never past the day's start: D's own hours are not "before D".
            issued = step_of(issued_at, cfg.step_minutes)
            decision = np.maximum(decision, np.minimum(issued, day_start))
        raw, fund = history.windows(day_start - 1, length)
        observed_d1 = np.isfinite(raw[:, -per_day:, :]).sum(axis=1)  # [n, M]
        prices = fill_window(raw, per_day)
        level, scale = _norm_stats(prices, per_day)  # [n, M]

        slots = self.max_steps_per_day
        slot = np.arange(slots, dtype=np.int64)
        target = day_start[:, None] + slot[None, :]  # [n, S]
        in_day = target < day_end[:, None]

        def at(offset_steps: int) -> FloatArray:
            """Prices at target − offset, clipped to the window end: ``[n, S, M]``."""
            index = np.minimum(length + slot - offset_steps, length - 1)
            index = np.maximum(index, 0)
            return prices[:, index, :]

        d1_block = prices[:, -per_day:, :]
        d1_mean, d1_min, d1_max = d1_block.mean(axis=1), d1_block.min(axis=1), d1_block.max(axis=1)
        week_mean = prices[:, -7 * per_day :, :].mean(axis=1)
        last = prices[:, -1, :]
        lag_d1 = at(per_day)
        lags = [lag_d1] + [at(k * per_day) for k in self.own_lags_days[1:]]

        hours, _, _ = _local_calendar(target, cfg.step_s, cfg.timezone)
        weekday = np.array([d.weekday() for d in days], dtype=np.float64)
        if fund.shape[-1]:
            cut = decision - (day_start - length)
            _, fund_features = _fundamental_features(fund, cfg.fundamentals, cut, per_day)
        else:
            fund_features = np.zeros((n, n_markets, 0))

        blocks: list[FeatureBlock] = []
        for m, market in enumerate(self.markets):
            ok_day = observed_d1[:, m] * 2 >= per_day
            rows = in_day & ok_day[:, None]
            if not rows.any():
                continue
            lv = np.broadcast_to(level[:, m, None], (n, slots))
            sc = np.broadcast_to(scale[:, m, None], (n, slots))

            def z(values: FloatArray, lv: FloatArray = lv, sc: FloatArray = sc) -> FloatArray:
                return to_normalised(values, lv, sc)

            def per_day_value(values: FloatArray) -> FloatArray:
                return np.broadcast_to(values[:, None], (n, slots))

            holiday = _holidays(market, days)
            holiday_before = _holidays(market, [d - timedelta(days=1) for d in days])
            columns: list[FloatArray] = [
                np.full((n, slots), 1.0 if j == m else 0.0) for j in range(n_markets)
            ]
            columns += [
                hours,
                per_day_value(weekday),
                per_day_value(holiday),
                per_day_value(holiday_before),
            ]
            columns += [z(lag[:, :, m]) for lag in lags]
            columns += [
                z(per_day_value(last[:, m])),
                z(per_day_value(d1_mean[:, m])),
                z(per_day_value(d1_min[:, m])),
                z(per_day_value(d1_max[:, m])),
                z(per_day_value(week_mean[:, m])),
            ]
            columns += [z(lag_d1[:, :, j]) for j in range(n_markets)]
            columns += [z(per_day_value(d1_mean[:, j])) for j in range(n_markets)]
            # The same hour over the last one and two weeks: a steadier profile than
            # any single day. No raw EUR level or scale: every price input is in the
            # normalised space, so a year at three times the training levels looks
            # like the training years (chosen on 2021, see DayAheadPipeline's doc).
            same_hour = np.stack([at(k * per_day)[:, :, m] for k in range(1, 15)], axis=0)
            columns += [z(same_hour[:7].mean(axis=0)), z(same_hour.mean(axis=0))]
            columns += [same_hour[:7].std(axis=0) / sc]
            columns += [
                per_day_value(fund_features[:, m, k]) for k in range(fund_features.shape[2])
            ]
            # Rows without the fundamentals the model needs are left out: no forecast.
            if fund_features.shape[2]:
                has_fundamentals = ~np.isnan(fund_features[:, m, :]).any(axis=1)
                rows = rows & has_fundamentals.reshape(n, 1)
            x = np.stack(columns, axis=2)[rows]
            blocks.append(
                FeatureBlock(
                    x=x,
                    market=np.full(int(rows.sum()), m, dtype=np.int64),
                    target_step=target[rows],
                    origin_step=np.broadcast_to(decision[:, None], (n, slots))[rows],
                    level=lv[rows],
                    scale=sc[rows],
                )
            )
        return FeatureBlock.concat(blocks, len(self.names))
