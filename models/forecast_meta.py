"""What a forecast model in the registry is: its kind, its file roles, its errors, its summary.

A forecast model is per horizon a point model (``model``) and two quantile
models (``lower``, ``upper``); :func:`role_name` names their registry files.
Shared by inference (:mod:`models.forecast`), training (``models.training``) and
``gridtui eval forecast --list`` (:func:`describe`).
"""

from __future__ import annotations

import math
from typing import Any, Final

from models.features import DAYAHEAD, PipelineConfig
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
