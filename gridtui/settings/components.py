"""Settings sections for what runs on the prices: ``[battery]``, ``[strategies]``, ``[forecast]``.

The engine components ``gridtui.wiring`` builds from them: the battery fleet and
its controller, the trading strategies and their execution model, and the
forecasters. The top-level :class:`gridtui.settings.loader.Settings` holds one of each.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.battery.gate import ForecastKind
from engine.battery.physics import BatterySpec
from engine.events import PriceKind
from engine.strategies.arbitrage import ArbitrageConfig
from engine.strategies.base import StrategyConfig
from engine.strategies.battery import BatteryStrategyConfig
from engine.strategies.execution import ExecutionConfig
from engine.strategies.fundamental import FundamentalConfig
from engine.strategies.mining import MiningConfig
from engine.strategies.ml import MlConfig
from engine.strategies.registry import KINDS as STRATEGY_KINDS
from engine.strategies.technical import TechnicalConfig
from gridtui.settings.data import Seconds


class BatterySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Batteries: the live fleet, who dispatches it, and the battery `train`/`eval` use.

    Each battery is one ``[[battery.fleet]]`` table with the fields of
    ``engine.battery.physics.BatterySpec``: ``battery_id``, ``market``, ``capacity_mwh``
    (2.0), ``power_mw`` (1.0), ``charge_efficiency`` / ``discharge_efficiency``
    (√0.9 each: 90 % round trip), ``soc_min_fraction`` (0.1),
    ``soc_max_fraction`` (0.9), ``initial_soc_fraction`` (0.5),
    ``degradation_eur_mwh`` (5.0 per MWh of throughput), ``max_cycles_per_day``
    (unset: no cap).

    Attributes:
        fleet: the batteries the engine dispatches live. By default two
            reference batteries (1 MW / 2 MWh), ``bess-de`` in DE and
            ``bess-nl`` in NL, so the dashboard shows dispatch out of the box;
            ``fleet = []`` for none. A battery whose market is not among
            ``markets`` is left out with a warning.
        controller: who plans each fleet battery's delivery day at the
            day-ahead gate (``engine.battery.fleet``): ``lp`` (the
            perfect-foresight LP on the forecast), or ``rl`` (the ONNX
            policy), ``mpc``, ``rule`` rolled over the forecast. A battery
            commits D before D−1's gate closure and is settled at D's prices.
        forecast: what the plan is made on: ``weekly`` (D−7 at the same
            local time; the best on 2020–2021), ``persistence`` (D−1) or
            ``model`` (the forecaster's Forecast events, persistence where
            there are none).
        policy: the RL policy's model id; empty = the promoted one, else the
            shipped default. A missing or incompatible policy falls back to ``lp``.
        step_minutes: delivery step reported; day-ahead prices are averaged into it.
        auction_timezone / publication_hour: for ``eval battery``'s
            after-publication upper bounds: tomorrow's day-ahead prices are
            known from this local hour on (SDAC publishes ~12:45 CET).
        reference: the battery ``gridtui train battery`` and ``eval battery``
            use (the 1 MW / 2 MWh default).
    """

    fleet: tuple[BatterySpec, ...] = (
        BatterySpec(battery_id="bess-de", market="DE"),
        BatterySpec(battery_id="bess-nl", market="NL"),
    )
    controller: str = "lp"
    forecast: ForecastKind = "weekly"
    policy: str = ""
    step_minutes: Annotated[int, msgspec.Meta(ge=1, le=1_440)] = 60
    auction_timezone: str = "Europe/Brussels"
    publication_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 13
    reference: BatterySpec = BatterySpec()

    def __post_init__(self) -> None:
        if self.controller not in ("lp", "rl", "mpc", "rule"):
            raise ValueError(
                f"battery.controller must be lp, rl, mpc or rule, got {self.controller!r}"
            )
        if self.step_minutes not in (15, 30, 60):
            raise ValueError(f"battery.step_minutes must be 15, 30 or 60, got {self.step_minutes}")
        if not 0 <= self.publication_hour <= 23:
            raise ValueError("battery.publication_hour must be 0..23")


class StrategiesSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Trading strategies: which are loaded, which start by themselves, how orders fill.

    Every strategy is loaded stopped; the dashboard's number keys (armed, then
    confirmed) or ``autostart`` switch them on. Each has its own table with the
    fields of its config class in ``engine/strategies/`` — ``[strategies.arbitrage]``
    (``lookback_days``, ``min_edge_eur_mwh``, ``volume_mw``, ``borders``; the
    interconnectors, their monthly capacity and the rights' pricing in
    ``[strategies.arbitrage.transmission]``: ``borders``, ``capacity_mw``,
    ``pricing`` = ``previous_month_mean``/``fixed``/``file``), ``[strategies.battery]``
    (``controller`` = ``lp``/``mpc``/``rule``/``rl``, the day planner at the
    day-ahead gate; ``forecast`` = ``persistence``/``weekly``/``model``;
    ``spec`` = a battery as in ``[[battery.fleet]]``), ``[strategies.ml]`` (``band_eur_mwh``),
    ``[strategies.technical]`` (``indicator`` = ``ma_cross``/``rsi``/``bollinger``),
    ``[strategies.fundamental]`` (``thermal_cost_eur_mwh``), ``[strategies.mining]``
    (``hash_price_eur_per_th_day``, ``efficiency_j_per_th``, ``margin_eur_mwh``, default 5).

    Attributes:
        enabled: the strategies loaded (any of arbitrage, battery, ml, technical,
            fundamental, mining).
        autostart: the ones running from the start (they trade: none by default).
        price_kind: the prices strategies trade live: ``intraday`` or
            ``day_ahead``; unset = the feed's own (intraday ticks of the
            simulator, day-ahead prices of a replay or of ENTSO-E). A backtest
            of a price file always trades its day-ahead prices.
        execution: ``[strategies.execution]``: fees (``fee_eur_mwh``), slippage
            (``slippage_eur_mwh``, ``impact_eur_mwh_per_mwh``) and limits
            (``max_order_mwh``, ``max_position_mwh``, ``border_capacity_mw``
            per ``"FROM-TO"``, ``default_border_capacity_mw``).
        status_interval_s: seconds between the dashboard's routine strategy lines.
    """

    enabled: tuple[str, ...] = STRATEGY_KINDS
    autostart: tuple[str, ...] = ()
    price_kind: PriceKind | None = None
    execution: ExecutionConfig = ExecutionConfig()
    status_interval_s: Seconds = 5.0
    arbitrage: ArbitrageConfig = ArbitrageConfig()
    battery: BatteryStrategyConfig = BatteryStrategyConfig()
    ml: MlConfig = MlConfig()
    technical: TechnicalConfig = TechnicalConfig()
    fundamental: FundamentalConfig = FundamentalConfig()
    mining: MiningConfig = MiningConfig()

    def __post_init__(self) -> None:
        for field_name in ("enabled", "autostart"):
            unknown = [n for n in getattr(self, field_name) if n not in STRATEGY_KINDS]
            if unknown:
                raise ValueError(
                    f"strategies.{field_name}: unknown {unknown}; known: {list(STRATEGY_KINDS)}"
                )
        not_loaded = [n for n in self.autostart if n not in self.enabled]
        if not_loaded:
            raise ValueError(f"strategies.autostart names strategies not enabled: {not_loaded}")

    def config_of(self, kind: str) -> StrategyConfig:
        """The config of one strategy kind."""
        config: StrategyConfig = getattr(self, kind)
        return config


class ForecastSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Price forecasts: the promoted models the runtime loads and runs.

    Attributes:
        enabled: run the promoted forecast models (the user's, else the shipped
            defaults trained on the simulator) and publish their forecasts.
        tasks: which to run: ``dayahead`` (the next delivery day, made before
            the auction) and/or ``intraday`` (1, 5, 15 and 60 steps ahead).
        intraday_kind: the ticks the intraday model reads: ``intraday``,
            ``day_ahead`` (prices at delivery time), or ``auto`` (day_ahead for a
            replay feed, intraday otherwise).
    """

    enabled: bool = True
    tasks: tuple[str, ...] = ("dayahead", "intraday")
    intraday_kind: str = "auto"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.tasks) - {"dayahead", "intraday"})
        if unknown:
            raise ValueError(f"forecast.tasks: unknown {unknown}; use dayahead, intraday")
        if self.intraday_kind not in ("auto", "intraday", "day_ahead"):
            raise ValueError(
                f"forecast.intraday_kind must be auto, intraday or day_ahead, "
                f"got {self.intraday_kind!r}"
            )


__all__ = ["BatterySettings", "ForecastSettings", "StrategiesSettings"]
