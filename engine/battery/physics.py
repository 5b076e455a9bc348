"""Battery physics and dispatch accounting: one step at a time, the same for every policy.

This module owns what a battery *is* (:class:`BatterySpec`, frozen, part of the
user's settings), what it *holds* (:class:`BatteryStatus`) and what one dispatch
step does to it (:func:`step`): clip the requested power to the rating, the
state-of-charge window and the daily cycle budget, move energy with the charge
and discharge losses, and price the flows. Every consumer goes through here —
the perfect-foresight LP is checked against it, the rule, the MPC and the RL
policy are scored with it (:func:`engine.battery.dispatch.run_controller`), the
gymnasium environment steps it, and the live fleet component
(:class:`engine.battery.dispatch.BatteryFleet`) turns its results into
:class:`~engine.events.BatteryState` events.

Conventions (they hold everywhere in gridtui's battery code):

- ``power_mw`` is metered at the grid connection; **> 0 discharges (sells)**,
  < 0 charges (buys).
- Charging ``c`` MW for ``dt`` hours adds ``c·dt·η_charge`` MWh to the state of
  charge; discharging ``d`` MW takes ``d·dt/η_discharge`` MWh out of it.
- Market revenue of a step = price × power × dt (a charge step costs money).
  Degradation cost = ``degradation_eur_mwh`` × grid-side throughput
  (charged + discharged MWh). Net revenue = revenue − degradation; it is what
  every policy maximises and what the tables compare.
- A battery never charges and discharges in the same step (one power figure per
  step makes that impossible here; the LP has to rule it out explicitly).

Defaults (the issue's reference battery): 1 MW / 2 MWh, 90 % round trip split
evenly (η_charge = η_discharge = √0.9 ≈ 0.9487), state of charge kept within
10 %–90 % of capacity (1.6 MWh usable), starting half full, no cycle limit, and
a degradation cost of 5 EUR per MWh of throughput. That last figure is a round
number for a lithium-ion system: ~100 kEUR/MWh of cell replacement cost spread
over ~6,000 cycles of 2 × 0.8 × capacity throughput gives 5–10 EUR/MWh; we take
the low end because calendar ageing, not cycling, dominates a battery that
cycles about once a day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import msgspec

from engine.events import BatteryState

ROUND_TRIP_EFFICIENCY: Final = 0.9
ONE_WAY_EFFICIENCY: Final = math.sqrt(ROUND_TRIP_EFFICIENCY)
# Energy below this (MWh) is rounding noise from the float arithmetic, not a flow.
ENERGY_TOLERANCE_MWH: Final = 1e-9


class BatterySpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One battery: its rating, losses, limits and where it trades.

    Attributes:
        battery_id: unique name, shown in the dashboard (``bess-de-1``).
        market: the bidding zone whose day-ahead prices it trades.
        capacity_mwh: nameplate energy.
        power_mw: rated power, the same for charging and discharging.
        charge_efficiency: share of the energy bought that reaches the cells.
        discharge_efficiency: share of the energy taken from the cells that is sold.
        soc_min_fraction: reserve, as a share of capacity, never discharged below.
        soc_max_fraction: ceiling, as a share of capacity, never charged above.
        initial_soc_fraction: state of charge at the start of a run.
        degradation_eur_mwh: wear cost per MWh of grid-side throughput
            (charged plus discharged).
        max_cycles_per_day: optional cap on the energy taken from the cells per
            UTC day, in full usable cycles ((max − min) × capacity); None = no cap.
    """

    battery_id: str = "bess-1"
    market: str = "DE"
    capacity_mwh: float = 2.0
    power_mw: float = 1.0
    charge_efficiency: float = ONE_WAY_EFFICIENCY
    discharge_efficiency: float = ONE_WAY_EFFICIENCY
    soc_min_fraction: float = 0.1
    soc_max_fraction: float = 0.9
    initial_soc_fraction: float = 0.5
    degradation_eur_mwh: float = 5.0
    max_cycles_per_day: float | None = None

    def __post_init__(self) -> None:
        if not self.capacity_mwh > 0 or not self.power_mw > 0:
            raise ValueError(
                f"battery {self.battery_id}: capacity_mwh and power_mw must be > 0, "
                f"got {self.capacity_mwh} and {self.power_mw}"
            )
        for name in ("charge_efficiency", "discharge_efficiency"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(
                    f"battery {self.battery_id}: {name} must be in (0, 1], got {value}"
                )
        if not 0 <= self.soc_min_fraction < self.soc_max_fraction <= 1:
            raise ValueError(
                f"battery {self.battery_id}: need 0 <= soc_min_fraction < soc_max_fraction <= 1, "
                f"got {self.soc_min_fraction} and {self.soc_max_fraction}"
            )
        if not self.soc_min_fraction <= self.initial_soc_fraction <= self.soc_max_fraction:
            raise ValueError(
                f"battery {self.battery_id}: initial_soc_fraction {self.initial_soc_fraction} "
                "must lie within the state-of-charge window"
            )
        if self.degradation_eur_mwh < 0:
            raise ValueError(f"battery {self.battery_id}: degradation_eur_mwh must be >= 0")
        if self.max_cycles_per_day is not None and not self.max_cycles_per_day > 0:
            raise ValueError(f"battery {self.battery_id}: max_cycles_per_day must be > 0 or unset")

    @property
    def soc_min_mwh(self) -> float:
        return self.soc_min_fraction * self.capacity_mwh

    @property
    def soc_max_mwh(self) -> float:
        return self.soc_max_fraction * self.capacity_mwh

    @property
    def usable_mwh(self) -> float:
        return self.soc_max_mwh - self.soc_min_mwh

    @property
    def initial_soc_mwh(self) -> float:
        return self.initial_soc_fraction * self.capacity_mwh

    @property
    def round_trip_efficiency(self) -> float:
        return self.charge_efficiency * self.discharge_efficiency

    @property
    def daily_discharge_budget_mwh(self) -> float:
        """Energy that may leave the cells per UTC day (``inf`` without a cycle cap)."""
        if self.max_cycles_per_day is None:
            return math.inf
        return self.max_cycles_per_day * self.usable_mwh


@dataclass(slots=True)
class BatteryStatus:
    """What a battery holds between steps, and what it has earned so far.

    ``discharged_today_mwh`` is the cell-side energy discharged in the UTC day
    ``day_number`` (days since the epoch); it feeds the cycle cap.
    """

    soc_mwh: float
    day_number: int = 0
    discharged_today_mwh: float = 0.0
    revenue_eur: float = 0.0
    degradation_eur: float = 0.0
    charged_mwh: float = 0.0
    discharged_mwh: float = 0.0
    steps: int = 0

    @classmethod
    def initial(cls, spec: BatterySpec, day_number: int = 0) -> BatteryStatus:
        return cls(soc_mwh=spec.initial_soc_mwh, day_number=day_number)

    @property
    def net_revenue_eur(self) -> float:
        return self.revenue_eur - self.degradation_eur


@dataclass(frozen=True, slots=True)
class StepResult:
    """One settled dispatch step. Energies are grid-side MWh, money in EUR."""

    power_mw: float
    requested_mw: float
    soc_mwh: float
    charged_mwh: float
    discharged_mwh: float
    revenue_eur: float
    degradation_eur: float

    @property
    def net_revenue_eur(self) -> float:
        return self.revenue_eur - self.degradation_eur

    @property
    def mode(self) -> str:
        if self.power_mw > 0:
            return "discharging"
        if self.power_mw < 0:
            return "charging"
        return "idle"


def power_limits(
    spec: BatterySpec, soc_mwh: float, dt_h: float, discharged_today_mwh: float = 0.0
) -> tuple[float, float]:
    """The (most negative, most positive) grid power feasible for one step, in MW.

    Charging is limited by the rating and the room below the SoC ceiling,
    discharging by the rating, the energy above the reserve and what is left of
    the day's cycle budget.
    """
    room_mwh = max(spec.soc_max_mwh - soc_mwh, 0.0)
    stored_mwh = max(soc_mwh - spec.soc_min_mwh, 0.0)
    stored_mwh = min(stored_mwh, max(spec.daily_discharge_budget_mwh - discharged_today_mwh, 0.0))
    max_charge_mw = min(spec.power_mw, room_mwh / (spec.charge_efficiency * dt_h))
    max_discharge_mw = min(spec.power_mw, stored_mwh * spec.discharge_efficiency / dt_h)
    return -max_charge_mw, max_discharge_mw


def step(
    spec: BatterySpec,
    status: BatteryStatus,
    requested_mw: float,
    price_eur_mwh: float,
    dt_h: float,
    day_number: int | None = None,
) -> StepResult:
    """Dispatch one step: clip the request, move the energy, price it; update ``status``.

    Args:
        spec: the battery.
        status: its state before the step; updated in place.
        requested_mw: the set-point asked for (> 0 discharges); NaN counts as 0.
        price_eur_mwh: the price the step settles at.
        dt_h: step length in hours.
        day_number: UTC day (days since the epoch) the step starts in; a new day
            resets the cycle budget. None keeps the current day.

    Returns:
        The settled step. ``power_mw`` is what was actually delivered.
    """
    if day_number is not None and day_number != status.day_number:
        status.day_number = day_number
        status.discharged_today_mwh = 0.0
    low_mw, high_mw = power_limits(spec, status.soc_mwh, dt_h, status.discharged_today_mwh)
    power_mw = 0.0 if math.isnan(requested_mw) else min(max(requested_mw, low_mw), high_mw)
    if power_mw >= 0:
        discharged_mwh, charged_mwh = power_mw * dt_h, 0.0
        cell_out_mwh = discharged_mwh / spec.discharge_efficiency
        soc_mwh = status.soc_mwh - cell_out_mwh
        status.discharged_today_mwh += cell_out_mwh
    else:
        discharged_mwh, charged_mwh = 0.0, -power_mw * dt_h
        soc_mwh = status.soc_mwh + charged_mwh * spec.charge_efficiency
    # Clipping to the limits above keeps the SoC inside the window up to float
    # rounding; pin it so rounding can never accumulate into a violation.
    soc_mwh = min(max(soc_mwh, spec.soc_min_mwh), spec.soc_max_mwh)
    revenue_eur = price_eur_mwh * power_mw * dt_h
    degradation_eur = spec.degradation_eur_mwh * (charged_mwh + discharged_mwh)
    status.soc_mwh = soc_mwh
    status.revenue_eur += revenue_eur
    status.degradation_eur += degradation_eur
    status.charged_mwh += charged_mwh
    status.discharged_mwh += discharged_mwh
    status.steps += 1
    return StepResult(
        power_mw=power_mw,
        requested_mw=requested_mw,
        soc_mwh=soc_mwh,
        charged_mwh=charged_mwh,
        discharged_mwh=discharged_mwh,
        revenue_eur=revenue_eur,
        degradation_eur=degradation_eur,
    )


@dataclass(slots=True)
class DispatchLog:
    """Per-step record of a run (for tables, tests and the JSON of ``gridtui eval``)."""

    power_mw: list[float] = field(default_factory=list)
    soc_mwh: list[float] = field(default_factory=list)
    revenue_eur: list[float] = field(default_factory=list)
    degradation_eur: list[float] = field(default_factory=list)

    def add(self, result: StepResult) -> None:
        self.power_mw.append(result.power_mw)
        self.soc_mwh.append(result.soc_mwh)
        self.revenue_eur.append(result.revenue_eur)
        self.degradation_eur.append(result.degradation_eur)

    @property
    def net_revenue_eur(self) -> float:
        return math.fsum(self.revenue_eur) - math.fsum(self.degradation_eur)


def battery_state(
    spec: BatterySpec,
    status: BatteryStatus,
    result: StepResult,
    ts: datetime,
    revenue_eur: float | None = None,
    *,
    committed: bool = True,
) -> BatteryState:
    """The event for a settled step.

    ``revenue_eur`` is the cumulative net revenue: the status's own unless the
    caller books revenue elsewhere (the battery strategy's realised P&L);
    ``committed`` False: nothing was committed for the step.
    """
    return BatteryState(
        ts=ts,
        battery_id=spec.battery_id,
        market=spec.market,
        soc_mwh=status.soc_mwh,
        soc_fraction=status.soc_mwh / spec.capacity_mwh,
        power_mw=result.power_mw,
        mode=result.mode,
        revenue_eur=status.net_revenue_eur if revenue_eur is None else revenue_eur,
        committed=committed,
    )


__all__ = [
    "ONE_WAY_EFFICIENCY",
    "ROUND_TRIP_EFFICIENCY",
    "BatterySpec",
    "BatteryStatus",
    "DispatchLog",
    "StepResult",
    "battery_state",
    "power_limits",
    "step",
]
