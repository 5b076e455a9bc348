"""Small, fast price histories for the forecast tests: a daily and weekly shape, coupled markets.

Deterministic (seeded) and quick to train on: the models the tests train on them
take a second or two, so the whole forecast suite stays well under a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.events import Fundamentals, PriceKind, PriceTick

if TYPE_CHECKING:
    from models.registry import Registry
    from models.training import TrainedForecast

START = datetime(2023, 1, 2, tzinfo=UTC)  # a Monday


def synthetic_prices(
    markets: tuple[str, ...] = ("DE", "FR", "NL"),
    days: int = 90,
    *,
    seed: int = 3,
    step_minutes: int = 60,
    start: datetime = START,
    fundamentals: bool = False,
) -> pd.DataFrame:
    """A long price frame like the real parquet: ``timestamp, market, price_eur_mwh``."""
    rng = np.random.default_rng(seed)
    steps = days * 24 * 60 // step_minutes
    ts = pd.date_range(start, periods=steps, freq=f"{step_minutes}min", tz="UTC")
    hours = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    weekend = (ts.day_of_week.to_numpy() >= 5).astype(float)
    level = 80 + np.cumsum(rng.normal(0, 0.4, steps))  # a slowly wandering fuel level
    wind = np.clip(0.4 + 0.3 * np.sin(np.arange(steps) / 37.0) + rng.normal(0, 0.05, steps), 0, 1)
    shape = 20 * np.sin((hours - 7) / 24 * 2 * np.pi) - 15 * weekend - 30 * wind
    frames = []
    for i, market in enumerate(markets):
        noise = rng.normal(0, 4, steps)
        price = level * (1 + 0.03 * i) + shape + noise
        frame = pd.DataFrame({"timestamp": ts, "market": market, "price_eur_mwh": price})
        if fundamentals:
            frame["load_mw"] = 50_000 + 8_000 * np.sin((hours - 7) / 24 * 2 * np.pi)
            frame["wind_mw"] = 60_000 * wind
            frame["solar_mw"] = np.clip(30_000 * np.sin((hours - 6) / 12 * np.pi), 0, None)
        frames.append(frame)
    combined: pd.DataFrame = pd.concat(frames, ignore_index=True)
    return combined


def drop_day(frame: pd.DataFrame, market: str, day: str) -> pd.DataFrame:
    """The frame without one UTC day of one market (a gap like the real file's)."""
    stamp = pd.Timestamp(day, tz="UTC")
    gone = (frame["market"] == market) & (frame["timestamp"].dt.normalize() == stamp)
    kept: pd.DataFrame = frame.loc[~gone].reset_index(drop=True)
    return kept


def _times(frame: pd.DataFrame) -> list[datetime]:
    return list(pd.DatetimeIndex(frame["timestamp"]).to_pydatetime())


def as_ticks(
    frame: pd.DataFrame,
    kind: PriceKind = PriceKind.INTRADAY,
    delivery_minutes: int | None = None,
) -> list[PriceTick]:
    """One tick per row, in time order."""
    ordered = frame.sort_values("timestamp", kind="stable")
    return [
        PriceTick(
            ts=ts,
            market=str(market),
            price_eur_mwh=float(price),
            kind=kind,
            delivery_minutes=delivery_minutes,
            source="test",
        )
        for ts, market, price in zip(
            _times(ordered),
            ordered["market"].tolist(),
            ordered["price_eur_mwh"].tolist(),
            strict=True,
        )
    ]


def as_fundamentals(frame: pd.DataFrame) -> list[Fundamentals]:
    ordered = frame.sort_values("timestamp", kind="stable")
    columns = [ordered[c].tolist() for c in ("market", "load_mw", "wind_mw", "solar_mw")]
    return [
        Fundamentals(
            ts=ts,
            market=str(market),
            load_mw=float(load),
            wind_mw=float(wind),
            solar_mw=float(solar),
            source="test",
        )
        for ts, market, load, wind, solar in zip(_times(ordered), *columns, strict=True)
    ]


def ticks_within_steps(
    frame: pd.DataFrame, per_step: int, seed: int = 0, step_minutes: int = 60
) -> pd.DataFrame:
    """``per_step`` noisy intraday ticks inside each row's step (a tick series)."""
    rng = np.random.default_rng(seed)
    repeated = frame.loc[frame.index.repeat(per_step)].reset_index(drop=True)
    offsets = np.tile(np.arange(per_step) * (step_minutes * 60 // per_step), len(frame))
    repeated["timestamp"] = repeated["timestamp"] + pd.to_timedelta(offsets, unit="s")
    repeated["price_eur_mwh"] = repeated["price_eur_mwh"] + rng.normal(0, 1, len(repeated))
    return repeated.sort_values("timestamp", kind="stable").reset_index(drop=True)


def day(offset: int) -> datetime:
    return START + timedelta(days=offset)


@cache
def tiny_model(task: str, fundamentals: bool = False) -> TrainedForecast:
    """A small model trained once per test session (a few seconds): 3 markets, 70 days."""
    from models.features.pipeline import PipelineConfig
    from models.training import TrainConfig, train_forecast

    frame = synthetic_prices(days=70, fundamentals=fundamentals)
    pipeline = PipelineConfig(
        task=task,
        markets=("DE", "FR", "NL"),
        horizons=(1, 5),
        fundamentals=("load_mw", "wind_mw", "solar_mw") if fundamentals else (),
    )
    config = TrainConfig(
        pipeline=pipeline,
        n_estimators=40,
        max_depth=3,
        early_stopping_rounds=10,
        learning_rate=0.2,
        n_threads=1,
    )
    return train_forecast(frame, config, data_hash="sha256:test")


def saved_model(root: Path, task: str, fundamentals: bool = False) -> tuple[Registry, str]:
    """A tiny model saved in a fresh registry under ``root`` (no shipped defaults)."""
    from models.registry import Registry
    from models.training import save_trained

    registry = Registry(root, shipped=None)
    meta = save_trained(registry, tiny_model(task, fundamentals), model_id=f"tiny-{task}")
    return registry, meta.model_id
