"""The intraday feature pipeline: one row per market after each closed step, per horizon.

The task and the features are described in :mod:`models.features.pipeline`.
"""

from __future__ import annotations

import numpy as np

from models.features.calendar import _holidays, _local_calendar
from models.features.fundamentals import _fundamental_features
from models.features.pipeline import INTRADAY, FeatureBlock, PipelineConfig, _Base
from models.features.price_grid import FeatureError, FloatArray, History, IntArray
from models.features.price_window import _norm_stats, fill_window, to_normalised


class IntradayPipeline(_Base):
    """Features for the intraday task: one row per market after each closed step."""

    lookback_days = 10

    def __init__(self, config: PipelineConfig) -> None:
        if config.task != INTRADAY:
            raise FeatureError(f"IntradayPipeline needs task {INTRADAY!r}, got {config.task!r}")
        super().__init__(config)
        sph = config.steps_per_hour
        self.own_lags = tuple(sorted({0, 1, 2, 3, 6 * sph, 12 * sph}))
        names = [f"market_{m}" for m in self.markets]
        names += ["local_hour", "target_local_hour", "target_weekday", "target_holiday"]
        names += [f"own_lag{k}" for k in self.own_lags]
        names += ["own_target_day_before", "own_target_week_before"]
        names += ["own_mean24", "own_std24", "own_min24", "own_max24", "own_mean168"]
        names += [f"region_{m}_now" for m in self.markets]
        names += [f"region_{m}_mean24" for m in self.markets]
        names += ["level_eur_mwh", "scale_eur_mwh"]
        names += self._fundamental_names()
        self.names = tuple(names)

    def compute(self, history: History, end_steps: IntArray, horizon: int) -> FeatureBlock:
        """Feature rows for ``horizon`` steps ahead of each closed step in ``end_steps``."""
        self._check(history)
        if horizon not in self.config.horizons:
            raise FeatureError(f"horizon {horizon} is not one of {self.config.horizons}")
        chunk = self._chunk()
        blocks = [
            self._compute(history, end_steps[i : i + chunk], horizon)
            for i in range(0, len(end_steps), chunk)
        ]
        return FeatureBlock.concat(blocks, len(self.names))

    def _compute(self, history: History, end_steps: IntArray, horizon: int) -> FeatureBlock:
        cfg = self.config
        per_day = cfg.steps_per_day
        n, n_markets, length = len(end_steps), len(self.markets), self.lookback_steps
        raw, fund = history.windows(end_steps, length)
        observed_now = np.isfinite(raw[:, -1, :])  # [n, M]
        prices = fill_window(raw, per_day)
        level, scale = _norm_stats(prices, per_day)
        last_day = prices[:, -per_day:, :]
        mean24, std24 = last_day.mean(axis=1), last_day.std(axis=1)
        min24, max24 = last_day.min(axis=1), last_day.max(axis=1)
        mean168 = prices[:, -7 * per_day :, :].mean(axis=1)
        days_back = -(-horizon // per_day)
        target_day_before = prices[:, length - 1 + horizon - days_back * per_day, :]
        target_week_before = prices[:, length - 1 + horizon - 7 * per_day, :]

        target = end_steps + horizon
        now_hour, _, _ = _local_calendar(end_steps, cfg.step_s, cfg.timezone)
        target_hour, target_weekday, target_days = _local_calendar(target, cfg.step_s, cfg.timezone)
        if fund.shape[-1]:
            cut = np.full(n, length, dtype=np.int64)
            _, fund_features = _fundamental_features(fund, cfg.fundamentals, cut, per_day)
        else:
            fund_features = np.zeros((n, n_markets, 0))

        blocks: list[FeatureBlock] = []
        for m, market in enumerate(self.markets):
            rows = observed_now[:, m]
            if not rows.any():
                continue
            lv, sc = level[:, m], scale[:, m]

            def z(values: FloatArray, lv: FloatArray = lv, sc: FloatArray = sc) -> FloatArray:
                return to_normalised(values, lv, sc)

            columns: list[FloatArray] = [
                np.full(n, 1.0 if j == m else 0.0) for j in range(n_markets)
            ]
            columns += [
                now_hour,
                target_hour,
                target_weekday.astype(np.float64),
                _holidays(market, target_days),
            ]
            columns += [z(prices[:, length - 1 - k, m]) for k in self.own_lags]
            columns += [z(target_day_before[:, m]), z(target_week_before[:, m])]
            columns += [
                z(mean24[:, m]),
                std24[:, m] / sc,
                z(min24[:, m]),
                z(max24[:, m]),
                z(mean168[:, m]),
            ]
            columns += [z(prices[:, -1, j]) for j in range(n_markets)]
            columns += [z(mean24[:, j]) for j in range(n_markets)]
            columns += [lv, sc]
            columns += [fund_features[:, m, k] for k in range(fund_features.shape[2])]
            if fund_features.shape[2]:
                rows = rows & ~np.isnan(fund_features[:, m, :]).any(axis=1)
            x = np.stack(columns, axis=1)[rows]
            count = int(rows.sum())
            blocks.append(
                FeatureBlock(
                    x=x,
                    market=np.full(count, m, dtype=np.int64),
                    target_step=target[rows],
                    origin_step=end_steps[rows],
                    level=lv[rows],
                    scale=sc[rows],
                )
            )
        return FeatureBlock.concat(blocks, len(self.names))
