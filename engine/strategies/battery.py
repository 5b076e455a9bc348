"""Battery: a storage asset that commits each delivery day on the day-ahead auction.

A day-ahead battery cannot trade the hour in front of it: its position for
day D is fixed at D−1's gate closure (12:00 Europe/Brussels) and settled at
D's clearing prices. So once per delivery day, on its last bar before the gate
(:class:`~engine.strategies.day_ahead.DayAheadGate`), this strategy

1. forecasts D from what it knows then (:mod:`engine.battery.gate`):
   ``weekly`` (the default: D−7 at the same local time of day; persistence
   while there is no D−7),
   ``persistence`` (the latest known price at the same local time of day:
   D−1 up to 11:00, D−2 after, as a replay reveals D−1 only as it is
   delivered) or ``model`` (the latest :class:`~engine.events.Forecast` for
   each period of D, persistence where there is none);
2. plans D with the committed planner of :mod:`engine.battery.commitment` from the SoC
   at the end of D−1's plan: ``lp`` (default) is the very HiGHS model of
   perfect foresight on the forecast; ``mpc``, ``rule`` and ``rl`` roll that
   controller over the forecast (:class:`~engine.battery.commitment.ControllerPlanner`);
3. submits the plan as day-ahead orders — a sell per discharging period, a buy
   per charging one, volume = |power| × period — on the battery's physical book
   (book and asset = the battery id: the fills are delivered by the battery;
   the asset caps each period at the rated power), with the wear as the
   order's extra cost per MWh.

The clearing prices fill the orders; each delivered period settles for the
money of its fills (:mod:`engine.market.ledger`): price × MWh − fee − wear.
For every delivered period the strategy emits a
:class:`~engine.events.BatteryState` along the committed plan (SoC after the
period, its power), with ``revenue_eur`` = the realised PnL so far (settled
periods; the dashboard and the daemon read it).

The plan counts the exchange fee like the wear (:func:`engine.battery.costs.trading_spec`),
which is why the strategy is told ``exchange_fee_eur_mwh`` (``gridtui.wiring``
passes ``[strategies.execution] fee_eur_mwh``). The committed LP is then
exactly ``run_committed`` of ``gridtui eval battery`` on
:func:`engine.battery.gate.series_forecast` of the same prices, to the cent
(``tests/engine/test_battery_one_truth.py``).

What it never does: decide an hour knowing that hour's day-ahead price. On a
day-ahead feed that would trade prices already known; the per-step MPC, rule
and RL of :func:`engine.battery.dispatch.run_controller` are upper bounds that ``eval
battery`` reports as such. Re-dispatching around the committed position on a
feed with continuous intraday prices is not done (yet): the position is held.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

import msgspec

from engine.battery.commitment import ControllerPlanner, DayPlanner, LpPlanner
from engine.battery.controller import Controller
from engine.battery.costs import trading_spec
from engine.battery.gate import (
    CommittedDay,
    ForecastKind,
    KnownPrices,
    commit_day,
    day_forecast,
    delivery_day,
    history_before,
)
from engine.battery.physics import BatterySpec, BatteryStatus, StepResult
from engine.battery.price_series import US_PER_DAY, from_us, to_us
from engine.events import BatteryState, Event, Forecast, PriceTick
from engine.market.timeline import Auction
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.day_ahead import DayAheadGate
from engine.strategies.execution import ExecutionConfig, period_start_us

PlannerKind = Literal["lp", "mpc", "rule", "rl"]
_KEPT_DAYS = 9  # history a forecast reads (a week back) plus the day being decided


class BatteryStrategyConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    spec: the battery (``engine.battery.physics.BatterySpec``: market, MWh, MW, losses …).
    controller: who plans each day at the gate — ``lp`` (the perfect-foresight
        LP on the forecast), or ``mpc`` / ``rule`` / ``rl`` rolled over the
        forecast (an RL policy is injected by the wiring).
    forecast: ``weekly`` (default; persistence while D−7 is unknown),
        ``persistence`` or ``model`` (Forecast events; see the module
        docstring). Weekly was chosen on 2020 (train) and 2021 (validation),
        2022 not looked at: the LP on it earned 54.8 % and 69.8 % of perfect
        foresight (mean of DE, FR, NL, BE, AT), on persistence as a replay
        knows it 35.9 % and 60.0 % (on all of D−1, which a live feed knows:
        49.3 % and 66.0 %).
    period_minutes: delivery period of prices that do not state one.
    mpc_extension_hours: forecast hours the rolled MPC plans beyond the day.
    rule_lookback_hours / rule_lookahead_hours / rule_charge_quantile /
    rule_discharge_quantile: the rolled rule's window and thresholds.
    """

    spec: BatterySpec = BatterySpec(
        battery_id="strategy-battery", market="DE", capacity_mwh=20.0, power_mw=10.0
    )
    controller: PlannerKind = "lp"
    forecast: ForecastKind = "weekly"
    period_minutes: int = 60
    mpc_extension_hours: int = 24
    rule_lookback_hours: int = 4
    rule_lookahead_hours: int = 6
    rule_charge_quantile: float = 0.1
    rule_discharge_quantile: float = 0.9

    def __post_init__(self) -> None:
        if self.period_minutes not in (15, 30, 60):
            raise ValueError(
                f"battery: period_minutes must be 15, 30 or 60, got {self.period_minutes}"
            )


def build_controller(config: BatteryStrategyConfig) -> Controller:
    """The rule or the MPC of ``config`` (an RL policy has to be injected: it lives in models/)."""
    if config.controller == "rule":
        from engine.battery.threshold import RuleController

        return RuleController(
            lookback_hours=config.rule_lookback_hours,
            lookahead_hours=config.rule_lookahead_hours,
            charge_quantile=config.rule_charge_quantile,
            discharge_quantile=config.rule_discharge_quantile,
        )
    if config.controller == "mpc":
        from engine.battery.mpc import MpcController

        # "penalty": rolled over a day it solves once per step; exact MILPs cost more.
        return MpcController(extension_hours=config.mpc_extension_hours, exclusivity="penalty")
    raise ValueError(
        "battery controller 'rl' needs a policy: pass controller=PolicyController(policy) "
        "(gridtui loads the ONNX policy from the model registry)"
    )


def build_planner(config: BatteryStrategyConfig, controller: Controller | None) -> DayPlanner:
    """The day planner of ``config``: the LP, or a controller rolled over the forecast."""
    if config.controller == "lp":
        return LpPlanner()
    return ControllerPlanner(controller or build_controller(config))


class BatteryStrategy(Strategy):
    """A battery that trades day-ahead: commits each delivery day at the gate, settles at the
    clearing prices.

    Hosted by :class:`~engine.strategies.manager.StrategyManager`.
    """

    kind = "battery"
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick, Forecast)

    def __init__(
        self,
        config: BatteryStrategyConfig | None = None,
        name: str | None = None,
        *,
        controller: Controller | None = None,
        exchange_fee_eur_mwh: float | None = None,
    ) -> None:
        """``exchange_fee_eur_mwh``: the fee the plan counts per MWh (default: the execution's)."""
        self.settings = config or BatteryStrategyConfig()
        spec = self.settings.spec
        super().__init__(msgspec.structs.replace(self.settings, markets=(spec.market,)), name)
        self.spec = spec
        if controller is None and self.settings.controller == "rl":
            build_controller(self.settings)  # raises: says how to inject a policy
        self._controller = controller
        # Built when first needed: the MPC pulls in SciPy's solver, which a daemon
        # whose battery strategy never runs should not pay for at start-up.
        self._planner: DayPlanner | None = None
        fee = (
            ExecutionConfig().fee_eur_mwh if exchange_fee_eur_mwh is None else exchange_fee_eur_mwh
        )
        self.plan_spec = trading_spec(spec, fee)
        self.book = spec.battery_id
        self.gate = DayAheadGate()
        self.known: KnownPrices | None = None
        self.model_forecasts: dict[int, float] = {}
        self.planned: BatteryStatus | None = None  # the plan's state at the end of the last day
        self.days: dict[date, CommittedDay] = {}
        self._day_end: dict[date, BatteryStatus] = {}
        self._reported_us = -1  # periods starting at or before this were reported
        self._soc_mwh = spec.initial_soc_mwh  # after the last period reported

    @property
    def planner(self) -> DayPlanner:
        if self._planner is None:
            self._planner = build_planner(self.settings, self._controller)
        return self._planner

    def describe(self) -> str:
        s = self.spec
        return (
            f"battery {s.battery_id} in {s.market}: {s.power_mw:g} MW / {s.capacity_mwh:g} MWh, "
            f"{s.round_trip_efficiency:.0%} round trip; commits each day at the day-ahead gate "
            f"({self.settings.controller} on {self.settings.forecast})"
        )

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.register_asset(self.spec.battery_id, self.spec.power_mw)
        if self.known is None:
            rules = ctx.timeline.rules(self.spec.market)
            self.known = KnownPrices(rules.delivery_timezone or rules.timezone)

    def on_stop(self, ctx: StrategyContext) -> None:
        # The manager withdraws the orders whose gate is still open: forget those days.
        super().on_stop(ctx)
        market = self.spec.market
        open_days = [
            d for d in self.days if ctx.timeline.day_ahead(market, d).gate_closure > ctx.now
        ]
        for day in open_days:
            del self.days[day]
            self._day_end.pop(day, None)
        if open_days:
            self.gate.committed.pop(market, None)
            last = max(self._day_end, default=None)
            self.planned = None if last is None else _copy(self._day_end[last])

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        market = self.spec.market
        if type(event) is Forecast:
            if event.market == market:
                self.model_forecasts[to_us(event.target_ts)] = event.price_eur_mwh
            return
        assert isinstance(event, PriceTick)
        if event.market != market:
            return
        known = self.known
        if known is None:  # started without on_start (a test driving it by hand)
            known = self.known = KnownPrices()
        minutes = event.delivery_minutes or self.settings.period_minutes
        period_us = period_start_us(event.ts, minutes)
        known.add(period_us, event.price_eur_mwh)
        self._report(ctx, period_us)
        auction = self.gate.due(ctx, market)
        if auction is not None and ctx.now < auction.gate_closure:
            self._commit(ctx, auction)

    def _commit(self, ctx: StrategyContext, auction: Auction) -> None:
        timeline = ctx.timeline
        market = self.spec.market
        periods = DayAheadGate.periods(timeline, auction)
        day = timeline.delivery_day(market, auction.delivery_start)
        minutes = periods[0].minutes
        starts = [to_us(p.start) for p in periods]
        known = self.known
        assert known is not None
        forecast = day_forecast(known, self.settings.forecast, starts, self.model_forecasts)
        planned = self.planned
        if planned is None:
            planned = self.planned = BatteryStatus.initial(self.plan_spec, starts[0] // US_PER_DAY)
        history = None
        if self.settings.controller != "lp":
            history = history_before(known, starts[0], minutes)
        committed = commit_day(
            self.plan_spec,
            self.planner,
            delivery_day(timeline, market, day),
            starts,
            minutes,
            forecast,
            planned,
            history,
        )
        self.days[day] = committed
        self._day_end[day] = _copy(planned)
        for old in sorted(self._day_end)[:-3]:  # on_stop reads the last closed day's end
            del self._day_end[old]
        dt_h = committed.dt_h
        plan = [(p, -power * dt_h) for p, power in zip(periods, committed.power_mw, strict=True)]
        name = self.planner.name
        orders = DayAheadGate.orders(
            market,
            plan,
            f"battery {name} on {self.settings.forecast}: day-ahead plan for {day}",
            book=self.book,
            asset=self.spec.battery_id,
            extra_cost_eur_mwh=self.spec.degradation_eur_mwh,
        )
        if orders:
            ctx.submit(*orders)
        self._forget(starts[0])

    def _report(self, ctx: StrategyContext, period_us: int) -> None:
        """BatteryStates up to the period in delivery: along the plan where committed, else idle."""
        reported = self._reported_us
        if period_us <= reported:
            return
        revenue = ctx.realised_eur
        covered = False
        for day in sorted(self.days):
            committed = self.days[day]
            for i, start in enumerate(committed.starts_us):
                if reported < start <= period_us:
                    self._soc_mwh = committed.soc_mwh[i]
                    ctx.emit(self._state(start, committed.power_mw[i], revenue, committed=True))
                    covered = covered or start == period_us
            if committed.starts_us[-1] <= period_us:
                del self.days[day]  # delivered: reported in full
        if not covered:  # nothing committed for this period: the battery idles
            ctx.emit(self._state(period_us, 0.0, revenue, committed=False))
        self._reported_us = period_us

    def _state(
        self, start_us: int, power_mw: float, revenue_eur: float, *, committed: bool
    ) -> BatteryState:
        spec = self.spec
        soc = self._soc_mwh
        return BatteryState(
            ts=from_us(start_us),
            battery_id=spec.battery_id,
            market=spec.market,
            soc_mwh=soc,
            soc_fraction=soc / spec.capacity_mwh,
            power_mw=power_mw,
            mode=StepResult(power_mw, power_mw, soc, 0.0, 0.0, 0.0, 0.0).mode,
            revenue_eur=revenue_eur,
            committed=committed,
        )

    def _forget(self, now_us: int) -> None:
        cutoff = now_us - _KEPT_DAYS * US_PER_DAY
        if self.known is not None and len(self.known.by_us) > 2 * _KEPT_DAYS * 24 * 4:
            self.known.forget_before(cutoff)
        if len(self.model_forecasts) > 10_000:
            kept = {t: p for t, p in self.model_forecasts.items() if t >= now_us - US_PER_DAY}
            self.model_forecasts = kept


def _copy(status: BatteryStatus) -> BatteryStatus:
    return BatteryStatus(
        soc_mwh=status.soc_mwh,
        day_number=status.day_number,
        discharged_today_mwh=status.discharged_today_mwh,
    )


__all__ = [
    "BatteryStrategy",
    "BatteryStrategyConfig",
    "PlannerKind",
    "build_controller",
    "build_planner",
]
