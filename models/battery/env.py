"""The battery-dispatch environment for reinforcement learning (gymnasium).

One battery trades one market's day-ahead prices, one step at a time.

- **Observation**: :func:`engine.battery.observation.build_observation` — state of
  charge, recent prices, the published future day-ahead prices and a naive
  seasonal forecast beyond them, calendar; nothing after the last published
  price. The market part does not depend on the battery, so it is computed
  once per series (:func:`prepare_series`) with the very function the live
  :class:`engine.battery.policy_controller.PolicyController` calls.
- **Action**: power as a fraction of the rating in [−1, 1] (> 0 discharges);
  :func:`engine.battery.physics.step` clips it to what the state of charge allows.
- **Reward**: net revenue of the step (revenue − degradation, EUR) divided by
  one constant per episode: the episode's mean price scale × rated power × step
  hours. The division keeps episodes of 2020 (30 EUR/MWh) and 2022 (300) on one
  footing for the learner; being constant within an episode, it leaves the
  best policy of the episode unchanged (a per-step divisor would not: it would
  weight calm hours over volatile ones). ``info`` carries the EUR figures, and
  evaluation scores only EUR.
- **Episodes**: a random window of ``episode_steps`` of a random series, from
  a random state of charge (training), or a whole series from the battery's
  initial state (``evaluation=True``). The end of a window is a truncation.

Also here: :func:`series_from_frame`, long price frames → regular series.
Callers: ``models/training/sb3.py``, ``gridtui train battery``, tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.battery.auction_calendar import AuctionCalendar
from engine.battery.dispatch import context_at
from engine.battery.observation import (
    OBSERVATION_CLIP,
    OBSERVATION_SIZE,
    ObservationArray,
    battery_features,
    market_features,
    price_scale,
)
from engine.battery.physics import BatterySpec, BatteryStatus, step
from engine.battery.price_series import IntArray, PriceSeries

FloatArray = npt.NDArray[np.float64]


def series_from_frame(
    frame: pd.DataFrame,
    markets: Sequence[str] = (),
    *,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    step_minutes: int = 60,
) -> list[PriceSeries]:
    """One regular :class:`PriceSeries` per market of a long ``timestamp, market, price`` frame.

    ``start``/``end`` (inclusive/exclusive; a date string is a Europe/Brussels
    delivery day) cut the frame first. Markets without rows are left out.
    """
    times = pd.DatetimeIndex(frame["timestamp"])
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= times >= _instant(start)
    if end is not None:
        keep &= times < _instant(end)
    frame = frame[keep]
    wanted = list(markets) or sorted(str(m) for m in frame["market"].unique())
    out = []
    for market in wanted:
        rows = frame[frame["market"].astype(str) == market]
        if rows.empty:
            continue
        times_us = pd.DatetimeIndex(rows["timestamp"]).as_unit("us").asi8
        out.append(
            PriceSeries.from_points(
                market, times_us, rows["price_eur_mwh"].to_numpy(np.float64), step_minutes
            )
        )
    return out


def _instant(value: pd.Timestamp | str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("Europe/Brussels")
    return stamp.tz_convert("UTC")


@dataclass(frozen=True, slots=True)
class PreparedSeries:
    """A series with what the environment needs per step, computed once."""

    series: PriceSeries
    known_end: IntArray
    day_numbers: IntArray
    features: npt.NDArray[np.float32]  # (steps, market features)
    scales: FloatArray  # EUR/MWh per normalised unit, per step

    def __len__(self) -> int:
        return len(self.series)


def prepare_series(
    spec: BatterySpec, series: PriceSeries, rule: AuctionCalendar | None = None
) -> PreparedSeries:
    """Market features and price scales of every step (they do not depend on the SoC)."""
    known_end = (rule or AuctionCalendar()).known_end(series)
    status = BatteryStatus.initial(spec)
    n = len(series)
    features = np.empty((n, OBSERVATION_SIZE - 2), dtype=np.float32)
    scales = np.empty(n)
    for t in range(n):
        context = context_at(spec, series, known_end, t, status)
        features[t] = market_features(context)
        scales[t] = price_scale(context)
    return PreparedSeries(series, known_end, series.day_numbers(), features, scales)


class BatteryEnv(gym.Env[ObservationArray, npt.NDArray[np.float32]]):
    """One battery on day-ahead prices (module doc for observation, action, reward)."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's own API)

    def __init__(
        self,
        prepared: Sequence[PreparedSeries],
        spec: BatterySpec,
        *,
        episode_steps: int = 168,
        evaluation: bool = False,
    ) -> None:
        if not prepared:
            raise ValueError("BatteryEnv needs at least one prepared price series")
        shortest = min(len(p) for p in prepared)
        if not evaluation and shortest < 2:
            raise ValueError("every price series needs at least two steps")
        self.prepared = list(prepared)
        self.battery = spec  # not `spec`: gymnasium's Env.spec is the registration record
        self.episode_steps = max(1, min(episode_steps, shortest - 1))
        self.evaluation = evaluation
        self.observation_space = gym.spaces.Box(
            -OBSERVATION_CLIP, OBSERVATION_CLIP, shape=(OBSERVATION_SIZE,), dtype=np.float32
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._data = self.prepared[0]
        self._t = 0
        self._end = 0
        self._status = BatteryStatus.initial(spec)
        self._reward_unit = 1.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObservationArray, dict[str, Any]]:
        super().reset(seed=seed)
        rng = self.np_random
        spec = self.battery
        if self.evaluation:
            index = int((options or {}).get("series", 0))
            self._data = self.prepared[index]
            self._t, self._end = 0, len(self._data)
            soc = spec.initial_soc_mwh
        else:
            self._data = self.prepared[int(rng.integers(len(self.prepared)))]
            last_start = len(self._data) - 1 - self.episode_steps
            self._t = int(rng.integers(last_start + 1))
            self._end = self._t + self.episode_steps
            soc = float(rng.uniform(spec.soc_min_mwh, spec.soc_max_mwh))
        self._status = BatteryStatus(soc_mwh=soc, day_number=int(self._data.day_numbers[self._t]))
        scale = float(self._data.scales[self._t : self._end].mean())
        self._reward_unit = scale * spec.power_mw * self._data.series.dt_h
        return self._observation(), {}

    def _observation(self) -> ObservationArray:
        t = min(self._t, len(self._data) - 1)
        status = self._status
        same_day = status.day_number == int(self._data.day_numbers[t])
        own = battery_features(
            self.battery, status.soc_mwh, status.discharged_today_mwh if same_day else 0.0
        )
        return np.concatenate([own, self._data.features[t]])

    def step(
        self, action: npt.NDArray[np.float32]
    ) -> tuple[ObservationArray, float, bool, bool, dict[str, Any]]:
        spec, data, t = self.battery, self._data, self._t
        fraction = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0], -1.0, 1.0))
        price = float(data.series.prices[t])
        dt_h = data.series.dt_h
        result = step(
            spec, self._status, fraction * spec.power_mw, price, dt_h, int(data.day_numbers[t])
        )
        reward = result.net_revenue_eur / self._reward_unit
        self._t += 1
        truncated = self._t >= self._end
        info = {
            "price_eur_mwh": price,
            "power_mw": result.power_mw,
            "soc_mwh": result.soc_mwh,
            "revenue_eur": result.revenue_eur,
            "degradation_eur": result.degradation_eur,
            "net_revenue_eur": result.net_revenue_eur,
        }
        return self._observation(), reward, False, truncated, info


__all__ = ["BatteryEnv", "PreparedSeries", "prepare_series", "series_from_frame"]
