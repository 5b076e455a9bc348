"""What a forecast model in the registry is: its kind, its file roles, its errors, its summary.

A forecast model is per horizon a point model (``model``) and two quantile
models (``lower``, ``upper``); :func:`role_name` names their registry files.
Shared by inference (:mod:`models.forecast.onnx_forecaster`), training (``models.training``),
``gridtui eval forecast --list`` (:func:`describe`) and ``gridtui eval battery``,
which refuses a forecaster trained on the days it evaluates (:func:`in_sample_reason`).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo

from models.features.pipeline import DAYAHEAD, PipelineConfig
from models.registry import ModelMeta, RegistryError

KIND: Final = "forecast"
POINT, LOWER, UPPER = "model", "lower", "upper"
QUANTITIES: Final = (POINT, LOWER, UPPER)


class ForecastModelError(RegistryError):
    """A forecast model cannot be used; the message says how to get one that can."""


def role_name(quantity: str, horizon: int | None) -> str:
    """The registry file role of one booster: ``model``, ``lower_h5``, …"""
    return quantity if horizon is None else f"{quantity}_h{horizon}"


def model_horizons(config: PipelineConfig) -> tuple[int | None, ...]:
    """The horizons a model has boosters for (day-ahead: one, called ``None``)."""
    return (None,) if config.task == DAYAHEAD else config.horizons


def retrain_hint(meta: ModelMeta) -> str:
    markets = ",".join(meta.markets) or "DE,FR,NL,BE,AT"
    return (
        f"retrain it with `gridtui train forecast --task {meta.task or 'dayahead'} "
        f"--markets {markets} --data FILE` (and `--promote`), or promote another model"
    )


def describe(meta: ModelMeta) -> dict[str, Any]:
    """A model's metadata in a few plain fields, for ``gridtui eval forecast --list``."""
    return {
        "model_id": meta.model_id,
        "task": meta.task,
        "version": meta.version,
        "markets": ",".join(meta.markets),
        "train": f"{meta.train_from:%Y-%m-%d}..{meta.train_to:%Y-%m-%d}"
        if meta.train_from and meta.train_to
        else "",
        "rmae": meta.metrics.get("rmae", math.nan),
        "coverage": meta.metrics.get("coverage", math.nan),
    }


def training_days(meta: ModelMeta) -> tuple[date, date] | None:
    """The first and last local delivery day whose prices the model was trained on.

    Models since ``train_days`` was recorded say so; older ones have
    ``train_from``/``train_to``, the local midnights of the first and the last
    training day (:func:`models.training.xgb.train_forecast`). None: unknown.
    """
    days = meta.extra.get("train_days")
    if isinstance(days, list) and len(days) == 2:
        return date.fromisoformat(str(days[0])), date.fromisoformat(str(days[1]))
    if meta.train_from is None or meta.train_to is None:
        return None
    zone = ZoneInfo(meta.extra.get("pipeline", {}).get("timezone", "Europe/Brussels"))
    return meta.train_from.astimezone(zone).date(), meta.train_to.astimezone(zone).date()


def in_sample_reason(
    meta: ModelMeta, first_day: date, last_day: date, *, simulated: bool = False
) -> str | None:
    """Why the model's forecasts of ``first_day``..``last_day`` would not be out of sample.

    A model must have been trained only on days before the evaluated ones: a
    training range that overlaps them, or lies after them (it learnt where prices
    went), is refused, and so is a model that records no range. A model trained
    on the simulator (``simulated``; the shipped defaults) learnt no real price
    and passes whatever its simulated dates.
    """
    if simulated:
        return None
    days = training_days(meta)
    if days is None:
        return f"model {meta.model_id!r} records no training range, so it may have seen them"
    first, last = days
    if last >= first_day:
        return (
            f"model {meta.model_id!r} was trained on {first}..{last}, which does not end "
            f"before the evaluated {first_day}..{last_day}"
        )
    return None
