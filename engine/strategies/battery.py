"""Battery: a storage asset traded on one market's prices by a rule, an MPC or an RL policy.

The physics, the controllers and the observation are the battery modules'
(:mod:`engine.battery`, :mod:`engine.dispatch`, :mod:`engine.rule`,
:mod:`engine.mpc`, :mod:`engine.battery_obs`); this strategy runs them as a
trader would: once per delivery period of its market it asks the controller
for a set-point, clips it to what the battery can do, sends the order to the
execution model (which may fill less: fees, slippage, its power limit), and
moves the battery by what was actually filled. Every period it emits a
:class:`~engine.events.BatteryState`.

What the controller knows. A strategy only receives prices once their delivery
period has begun (nothing stamped after the clock), so the day-ahead prices
still to come today are not "published" to it. The strategy fills the rest of
the current UTC day with its best guess — the latest :class:`~engine.events.Forecast`
for each period when a forecaster is wired in, else the price of the same
period a day earlier (:func:`engine.controller.seasonal_naive`) — and hands the
controller that as the known window. The MPC plans over it (once a day, as the
window then only grows at midnight) plus ``mpc_extension_hours`` of naive
forecast; the rule takes its quantiles over it; the RL policy sees it in its
observation. The perfect-foresight yardstick of :mod:`engine.backtest_result`
(:func:`engine.optimum.solve_schedule`) is what knowing everything would earn.

Accounting: energy bought goes into the battery's book at cost (what reaches
the cells, after charge losses, plus fees and wear); energy sold realises the
sale against that cost. A battery's book is physical, held at cost, never
"closed out" when the strategy stops.
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar, Literal

import msgspec
import numpy as np

from engine.battery import BatterySpec, BatteryStatus, battery_state, power_limits, step
from engine.controller import Controller, DecisionContext
from engine.events import Event, Forecast, PriceTick
from engine.price_series import US_PER_DAY, to_us
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext

ControllerKind = Literal["rule", "mpc", "rl"]
HISTORY_DAYS = 7
_IDLE_MW = 1e-6


class BatteryStrategyConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    spec: the battery (``engine.battery.BatterySpec``: market, MWh, MW, losses …).
    controller: ``rule``, ``mpc`` or ``rl`` (an ONNX policy, injected by the wiring).
    period_minutes: dispatch period for prices that do not state one.
    mpc_extension_hours: forecast hours the MPC plans beyond the known window.
    rule_lookback_hours / rule_lookahead_hours / rule_charge_quantile /
    rule_discharge_quantile: the rule's window and thresholds.
    """

    spec: BatterySpec = BatterySpec(
        battery_id="strategy-battery", market="DE", capacity_mwh=20.0, power_mw=10.0
    )
    controller: ControllerKind = "mpc"
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
        from engine.rule import RuleController

        return RuleController(
            lookback_hours=config.rule_lookback_hours,
            lookahead_hours=config.rule_lookahead_hours,
            charge_quantile=config.rule_charge_quantile,
            discharge_quantile=config.rule_discharge_quantile,
        )
    if config.controller == "mpc":
        from engine.mpc import MpcController

        # "penalty": the MPC solves ~once a day; exact MILPs would cost seconds a year.
        return MpcController(extension_hours=config.mpc_extension_hours, exclusivity="penalty")
    raise ValueError(
        "battery controller 'rl' needs a policy: pass controller=PolicyController(policy) "
        "(gridtui loads the ONNX policy from the model registry)"
    )


class BatteryStrategy(Strategy):
    kind = "battery"
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick, Forecast)

    def __init__(
        self,
        config: BatteryStrategyConfig | None = None,
        name: str | None = None,
        *,
        controller: Controller | None = None,
    ) -> None:
        self.settings = config or BatteryStrategyConfig()
        spec = self.settings.spec
        super().__init__(msgspec.structs.replace(self.settings, markets=(spec.market,)), name)
        self.spec = spec
        if controller is None and self.settings.controller == "rl":
            build_controller(self.settings)  # raises: says how to inject a policy
        # Built when first needed: the MPC pulls in SciPy's solver, which a daemon
        # whose battery strategy never runs should not pay for at start-up.
        self._controller = controller
        self.book = f"battery:{spec.battery_id}"
        self.status: BatteryStatus | None = None
        self._minutes = self.settings.period_minutes
        self._history: deque[float] = deque()
        self._last_period: int | None = None
        self._forecasts: dict[int, float] = {}

    @property
    def controller(self) -> Controller:
        if self._controller is None:
            self._controller = build_controller(self.settings)
        return self._controller

    def describe(self) -> str:
        s = self.spec
        name = self._controller.name if self._controller else self.settings.controller
        return (
            f"battery {s.battery_id} in {s.market}: {s.power_mw:g} MW / {s.capacity_mwh:g} MWh, "
            f"{s.round_trip_efficiency:.0%} round trip, {name}"
        )

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.register_asset(self.spec.battery_id, self.spec.power_mw)

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        if type(event) is Forecast:
            if event.market == self.spec.market:
                self._forecasts[to_us(event.target_ts)] = event.price_eur_mwh
            return
        assert isinstance(event, PriceTick)
        if event.market != self.spec.market:
            return
        minutes = event.delivery_minutes or self.settings.period_minutes
        step_us = minutes * 60_000_000
        period = to_us(event.ts) // step_us * step_us
        if minutes != self._minutes:  # a new resolution (PT60M → PT15M): start the history afresh
            self._minutes, self._history, self._last_period = minutes, deque(), None
        last = self._last_period
        if last is not None and period <= last:
            return  # this period is decided (intraday ticks repeat, late ticks)
        history = self._history
        if last is not None and history:
            # A gap in the data: carry the last price through the missing periods.
            for _ in range(min((period - last) // step_us - 1, HISTORY_DAYS * 24 * 60 // minutes)):
                history.append(history[-1])
        history.append(event.price_eur_mwh)
        keep = HISTORY_DAYS * 24 * 60 // minutes + 1
        while len(history) > keep:
            history.popleft()
        self._last_period = period
        self._dispatch(ctx, event, period, minutes)

    def _context(self, status: BatteryStatus, period: int, minutes: int) -> DecisionContext:
        history = list(self._history)
        now = len(history) - 1
        step_us = minutes * 60_000_000
        steps_per_day = 24 * 60 // minutes
        day_end = (period // US_PER_DAY + 1) * US_PER_DAY
        rest = (day_end - period) // step_us - 1  # periods after this one, today
        forecasts = self._forecasts
        first_back = now + 1 - steps_per_day
        if not forecasts and first_back >= 0:
            history += history[first_back : first_back + rest]  # the same periods yesterday
        else:
            for k in range(1, rest + 1):
                guess = forecasts.get(period + k * step_us)
                if guess is None:
                    back = now + k - steps_per_day
                    guess = history[back] if back >= 0 else history[now]
                history.append(guess)
        same_day = status.day_number == period // US_PER_DAY
        return DecisionContext(
            spec=self.spec,
            soc_mwh=status.soc_mwh,
            discharged_today_mwh=status.discharged_today_mwh if same_day else 0.0,
            step_us=period,
            step_minutes=minutes,
            prices=np.asarray(history, dtype=np.float64),
            now=now,
        )

    def _dispatch(self, ctx: StrategyContext, tick: PriceTick, period: int, minutes: int) -> None:
        spec = self.spec
        day = period // US_PER_DAY
        status = self.status
        if status is None:
            status = self.status = BatteryStatus.initial(spec, day)
        if day != status.day_number:
            status.day_number, status.discharged_today_mwh = day, 0.0
        dt_h = minutes / 60.0
        requested = self.controller.decide(self._context(status, period, minutes))
        low, high = power_limits(spec, status.soc_mwh, dt_h, status.discharged_today_mwh)
        power = 0.0 if not math.isfinite(requested) else min(max(requested, low), high)
        filled_mw = 0.0
        price = tick.price_eur_mwh
        if abs(power) > _IDLE_MW:
            discharging = power > 0
            verb = "discharge" if discharging else "charge"
            fills = ctx.submit(
                Order(
                    market=spec.market,
                    side=Side.SELL if discharging else Side.BUY,
                    volume_mwh=abs(power) * dt_h,
                    reason=(
                        f"battery {self.controller.name}: {verb} {abs(power):,.2f} MW at "
                        f"{price:,.2f} €/MWh (SoC {status.soc_mwh / spec.capacity_mwh:.0%})"
                    ),
                    book=self.book,
                    extra_cost_eur_mwh=spec.degradation_eur_mwh,
                    asset=spec.battery_id,
                    delivery_minutes=minutes,
                )
            )
            energy = sum(f.volume_mwh for f in fills)
            filled_mw = energy / dt_h if discharging else -energy / dt_h
        result = step(spec, status, filled_mw, price, dt_h, day)
        self._forget(period)
        ctx.emit(battery_state(spec, status, result, tick.ts, revenue_eur=ctx.realised_eur))

    def _forget(self, period: int) -> None:
        if len(self._forecasts) > 10_000:
            self._forecasts = {t: p for t, p in self._forecasts.items() if t >= period}


__all__ = ["BatteryStrategy", "BatteryStrategyConfig", "ControllerKind", "build_controller"]
