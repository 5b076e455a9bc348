"""The strategy registry: every kind of strategy gridtui knows, by name.

``gridtui.settings.components`` holds one frozen config per kind (``[strategies.battery]`` …);
``gridtui.wiring`` and :mod:`engine.backtest.run` turn names and configs into
strategy objects here. A new strategy is one module in ``engine/strategies/``
and one line in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

import msgspec

from engine.strategies.arbitrage import ArbitrageConfig, ArbitrageStrategy
from engine.strategies.base import Strategy, StrategyConfig
from engine.strategies.battery import BatteryStrategy, BatteryStrategyConfig
from engine.strategies.fundamental import FundamentalConfig, FundamentalStrategy
from engine.strategies.mining import MiningConfig, MiningStrategy
from engine.strategies.ml import MlConfig, MlStrategy
from engine.strategies.technical import TechnicalConfig, TechnicalStrategy


class StrategyKind(NamedTuple):
    """One strategy kind of the registry: its class, its config and a one-line summary for
    ``--help``.
    """

    strategy: type[Strategy]
    config: type[StrategyConfig]
    summary: str


REGISTRY: Final[Mapping[str, StrategyKind]] = {
    "arbitrage": StrategyKind(
        ArbitrageStrategy,
        ArbitrageConfig,
        "cross-border: monthly transmission rights where the recent payoff beats their price",
    ),
    "battery": StrategyKind(
        BatteryStrategy, BatteryStrategyConfig, "a battery dispatched by a rule, an MPC or RL"
    ),
    "ml": StrategyKind(MlStrategy, MlConfig, "trades forecasts that leave their confidence band"),
    "technical": StrategyKind(
        TechnicalStrategy, TechnicalConfig, "MA crossover, RSI or Bollinger bands on prices"
    ),
    "fundamental": StrategyKind(
        FundamentalStrategy,
        FundamentalConfig,
        "fair value from load, renewables and fuel cost against the price",
    ),
    "mining": StrategyKind(
        MiningStrategy, MiningConfig, "flexible load: mines when power is below break-even − margin"
    ),
}
KINDS: Final = tuple(REGISTRY)


def parse_names(raw: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``"arbitrage,battery"`` (or a list) → known kinds in that order; ``all`` = every kind.

    Raises:
        ValueError: an unknown name; the message lists the known ones.
    """
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    names = tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))
    if names == ("all",):
        return KINDS
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown strategies {unknown}; known: {', '.join(KINDS)} (or all)")
    return names


def build(
    kind: str,
    config: StrategyConfig | Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    **extra: Any,
) -> Strategy:
    """A strategy of ``kind`` with ``config`` (a config object, or a mapping of its fields).

    ``extra`` goes to the strategy's constructor (the battery's injected RL controller).

    Raises:
        KeyError: an unknown kind.
        ValueError: a config of the wrong type or with bad values.
    """
    try:
        entry = REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown strategy {kind!r}; known: {', '.join(KINDS)}") from None
    if config is None:
        config = entry.config()
    elif not isinstance(config, StrategyConfig):
        try:
            config = msgspec.convert(dict(config), entry.config, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"strategies.{kind}: {exc}") from exc
    if not isinstance(config, entry.config):
        raise ValueError(
            f"strategy {kind} needs a {entry.config.__name__}, got {type(config).__name__}"
        )
    strategy: Strategy = entry.strategy(config, name, **extra)
    return strategy


__all__ = ["KINDS", "REGISTRY", "StrategyKind", "build", "parse_names"]
