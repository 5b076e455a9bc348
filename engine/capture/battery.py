"""One battery's side of the capture ledger: realized money against what was possible.

:class:`BatteryCapture` keeps, per delivered step, the clearing price, the power
the battery delivered, its SoC after the step and the money it realized. From
them, per window (:mod:`engine.capture.rows` has the identity):

- **optimum** — the perfect-foresight HiGHS model
  (:func:`engine.battery.optimum.solve_schedule`, the battery's trading spec: wear
  and exchange fee per MWh, the cycle cap per UTC day) on the realized prices
  of the elapsed window, from the SoC the battery actually held at the window's
  start. Re-solved only when a step arrives, and shared by windows that start
  alike: a month of hours is one LP of 2,232 columns (~15 ms);
- **committed on prices** — the gate-closure model (the committed LP of
  :func:`engine.battery.commitment.plan_day`, one local delivery day at a time,
  energy left at day end free, SoC carried from plan to plan) fed the realized
  prices instead of a forecast, settled at them. A finished day is planned once
  and kept; the day in delivery is re-planned on its steps so far;
- **committed on forecast** — the power the battery delivered (the plan it
  committed at the gate on its forecast), settled at the realized prices with
  the same physics (:func:`engine.battery.physics.step`), from the SoC at the
  start of the run.

Both committed chains start at the run's start and carry their own SoC, so a
window's figure is the sum of its steps. The committed model is the LP: a
battery planned by the MPC, rule or RL planner is compared with the LP on the
same prices (its own model is not rebuilt here). A step the battery had
nothing committed for (``BatteryState.committed`` False: it missed that day's
gate) counts, in the committed-on-forecast chain, what the committed-on-prices
plan made in it: no forecast erred there, so the day's whole loss is
execution (delivery), as a missed gate is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from engine.battery.commitment import plan_day
from engine.battery.optimum import OptimumError, solve_schedule
from engine.battery.physics import BatterySpec, BatteryStatus, step
from engine.battery.price_series import US_PER_DAY, PriceSeries
from engine.capture.rows import LedgerRow, WindowName
from engine.time_us import from_us


@dataclass(slots=True)
class _Chain:
    """A committed chain: the per-step net money of one schedule and the SoC it carries."""

    net_eur: list[float] = field(default_factory=list)
    power_mw: list[float] = field(default_factory=list)
    status: BatteryStatus | None = None


@dataclass(slots=True)
class BatteryCapture:
    """The ledger of one battery (module docstring). ``spec`` is its trading spec.

    Args:
        spec: the battery, with the exchange fee folded into its cost per MWh
            (:func:`engine.battery.costs.trading_spec`), as its planner sees it.
        step_minutes: the delivery step its states report.
        timezone: where its delivery days begin.
    """

    spec: BatterySpec
    step_minutes: int = 60
    timezone: str = "Europe/Brussels"
    starts_us: list[int] = field(default_factory=list)
    power_mw: list[float] = field(default_factory=list)
    soc_after_mwh: list[float] = field(default_factory=list)
    committed: list[bool] = field(default_factory=list)
    realized_by_start: dict[int, float] = field(default_factory=dict)
    _index: dict[int, int] = field(default_factory=dict)
    _local_days: list[int] = field(default_factory=list)
    _on_forecast: _Chain = field(default_factory=_Chain)
    _on_prices: _Chain = field(default_factory=_Chain)
    _on_prices_done: int = 0  # steps of finished delivery days kept in _on_prices
    _on_forecast_kept: int = 0  # steps of _on_forecast that no later step can change
    _optimum_cache: dict[tuple[int, int], float | None] = field(default_factory=dict)

    @property
    def dt_h(self) -> float:
        return self.step_minutes / 60.0

    def add_step(
        self, start_us: int, power_mw: float, soc_after_mwh: float, committed: bool = True
    ) -> None:
        """A delivered step, in order; a repeated step replaces the one it repeats.

        ``committed`` False: nothing was committed for it (the battery missed its gate).
        """
        found = self._index.get(start_us)
        if found is not None:
            self.power_mw[found], self.soc_after_mwh[found] = power_mw, soc_after_mwh
            self.committed[found] = committed
            self._drop_from(found)
            return
        if self.starts_us and start_us < self.starts_us[-1]:
            return  # an out-of-order old step: the ledger only moves forward
        self._index[start_us] = len(self.starts_us)
        self.starts_us.append(start_us)
        self.power_mw.append(power_mw)
        self.soc_after_mwh.append(soc_after_mwh)
        self.committed.append(committed)
        local = from_us(start_us).astimezone(ZoneInfo(self.timezone)).date()
        self._local_days.append(local.toordinal())

    def add_realized(self, start_us: int, eur: float) -> None:
        """Money realized for the step starting at ``start_us`` (added up per step)."""
        self.realized_by_start[start_us] = self.realized_by_start.get(start_us, 0.0) + eur

    def price_arrived(self, start_us: int) -> None:
        """A price came for ``start_us``: if that step was delivered, its figures change."""
        if start_us in self._index:
            self._drop_from(self._index[start_us])

    def _drop_from(self, index: int) -> None:
        """Forget the figures derived from step ``index`` on (one of its inputs changed)."""
        self._optimum_cache.clear()
        if index < len(self._on_forecast.net_eur):
            self._on_forecast, self._on_forecast_kept = _Chain(), 0  # SoC carried: start again
        if index < self._on_prices_done:
            self._on_prices, self._on_prices_done = _Chain(), 0

    # -- the rows --------------------------------------------------------------------------

    def row(
        self, window: WindowName, start_us: int, prices: dict[int, float], *, owner: str = ""
    ) -> LedgerRow | None:
        """The row of ``window`` (steps from ``start_us`` on); None before any step."""
        first = _first_at_or_after(self.starts_us, start_us)
        if first >= len(self.starts_us):
            return None
        last = len(self.starts_us) - 1
        self._extend_on_prices(prices)  # first: a missed gate's steps take its plan
        self._extend_on_forecast(prices)
        steps = self.starts_us[first:]
        realized = sum(self.realized_by_start.get(s, 0.0) for s in steps)
        optimum = self._optimum(first, prices)
        on_forecast = _window_sum(self._on_forecast.net_eur, first, len(steps))
        on_prices = _window_sum(self._on_prices.net_eur, first, len(steps))
        figures = _split(realized, optimum, on_forecast, on_prices)
        step_us = self.step_minutes * 60_000_000
        return LedgerRow(
            owner=owner or self.spec.battery_id,
            kind="battery",
            market=self.spec.market,
            window=window,
            start=from_us(self.starts_us[first]),
            end=from_us(self.starts_us[last] + step_us),
            steps=len(steps),
            realized_eur=realized,
            timezone=self.timezone,
            **figures,
        )

    def _soc_before(self, index: int) -> float:
        return self.spec.initial_soc_mwh if index == 0 else self.soc_after_mwh[index - 1]

    def _prices_of(self, first: int, stop: int, prices: dict[int, float]) -> np.ndarray:
        """Realized prices of steps first..stop−1; a missing one filled as PriceSeries fills."""
        starts = self.starts_us[first:stop]
        points = [(s, prices[s]) for s in starts if s in prices]
        if not points:
            return np.zeros(len(starts))
        series = PriceSeries.from_points(
            self.spec.market, [p[0] for p in points], [p[1] for p in points], self.step_minutes
        )
        grid = series.times_us()
        values = series.prices
        at = np.searchsorted(grid, np.asarray(starts, dtype=np.int64))
        return np.asarray(values[np.clip(at, 0, len(values) - 1)], dtype=np.float64)

    def _optimum(self, first: int, prices: dict[int, float]) -> float | None:
        key = (first, len(self.starts_us))
        if key not in self._optimum_cache:
            found = self._prices_of(first, len(self.starts_us), prices)
            days = np.asarray(self.starts_us[first:], dtype=np.int64) // US_PER_DAY
            try:
                schedule = solve_schedule(
                    self.spec,
                    found,
                    self.dt_h,
                    initial_soc_mwh=self._soc_before(first),
                    day_numbers=days,
                )
                self._optimum_cache[key] = schedule.net_revenue_eur
            except OptimumError:
                self._optimum_cache[key] = None
        return self._optimum_cache[key]

    def _extend_on_forecast(self, prices: dict[int, float]) -> None:
        """Settle each new delivered step's committed power at its price.

        A step with nothing committed (a missed gate) counts what the
        committed-on-prices plan made in it — no forecast was made, so none
        erred, and the loss is execution — and the chain goes on from the
        charge the battery really held. While that plan's day is still in
        delivery (re-planned each time), such steps are counted afresh.
        """
        chain = self._on_forecast
        if chain.status is None:
            if not self.starts_us:
                return
            chain.status = BatteryStatus.initial(self.spec, self.starts_us[0] // US_PER_DAY)
        del chain.net_eur[self._on_forecast_kept :]
        status, provisional = chain.status, False
        for i in range(len(chain.net_eur), len(self.starts_us)):
            price = prices.get(self.starts_us[i])
            if price is None:
                return  # settled once its price arrives
            day = self.starts_us[i] // US_PER_DAY
            if not self.committed[i] and i >= self._on_prices_done and not provisional:
                status, provisional = _copy(status), True
            if self.committed[i]:
                value = step(self.spec, status, self.power_mw[i], price, self.dt_h, day)
                chain.net_eur.append(value.net_revenue_eur)
            else:
                chain.net_eur.append(self._on_prices.net_eur[i])
                if status.day_number != day:
                    status.day_number, status.discharged_today_mwh = day, 0.0
                status.soc_mwh = self.soc_after_mwh[i]
            if not provisional:
                self._on_forecast_kept = i + 1

    def _extend_on_prices(self, prices: dict[int, float]) -> None:
        """Plan each delivery day on its realized prices; keep the finished ones."""
        chain = self._on_prices
        if not self.starts_us:
            return
        if chain.status is None:
            chain.status = BatteryStatus.initial(self.spec, self.starts_us[0] // US_PER_DAY)
        del chain.net_eur[self._on_prices_done :]
        del chain.power_mw[self._on_prices_done :]
        kept = _copy(chain.status)
        begin = self._on_prices_done
        days = self._local_days
        while begin < len(self.starts_us):
            stop = begin
            while stop < len(days) and days[stop] == days[begin]:
                stop += 1
            finished = stop < len(days)  # a later day has begun: this one is whole
            status = chain.status if finished else _copy(chain.status)
            net, power = self._plan_and_settle(begin, stop, status, prices)
            chain.net_eur.extend(net)
            chain.power_mw.extend(power)
            if finished:
                self._on_prices_done = stop
                kept = _copy(status)
            begin = stop
        chain.status = kept

    def _plan_and_settle(
        self, begin: int, stop: int, status: BatteryStatus, prices: dict[int, float]
    ) -> tuple[list[float], list[float]]:
        found = self._prices_of(begin, stop, prices)
        utc_days = np.asarray(self.starts_us[begin:stop], dtype=np.int64) // US_PER_DAY
        same_day = status.day_number == int(utc_days[0])
        try:
            plan = plan_day(
                self.spec,
                found,
                self.dt_h,
                status.soc_mwh,
                day_numbers=utc_days,
                discharged_today_mwh=status.discharged_today_mwh if same_day else 0.0,
            ).power_mw
        except OptimumError:
            plan = np.zeros(stop - begin)
        net, power = [], []
        for k in range(stop - begin):
            result = step(
                self.spec, status, float(plan[k]), float(found[k]), self.dt_h, int(utc_days[k])
            )
            net.append(result.net_revenue_eur)
            power.append(result.power_mw)
        return net, power


def _split(
    realized: float, optimum: float | None, on_forecast: float | None, on_prices: float | None
) -> dict[str, Any]:
    """The figures of a row beside ``realized`` (the identity of :mod:`engine.capture.rows`)."""
    if optimum is None or on_forecast is None or on_prices is None:
        return {"optimum_eur": optimum}
    forecast_error = on_prices - on_forecast
    horizon = optimum - on_prices
    delivery = on_forecast - realized
    return {
        "optimum_eur": optimum,
        "captured_pct": 100.0 * realized / optimum if optimum > 0 else None,
        "forecast_error_eur": forecast_error,
        # The remainder, so that forecast_error + execution is optimum − realized.
        "execution_eur": (optimum - realized) - forecast_error,
        "committed_on_forecast_eur": on_forecast,
        "committed_on_prices_eur": on_prices,
        "horizon_eur": horizon,
        "delivery_eur": delivery,
    }


def _window_sum(values: list[float], first: int, count: int) -> float | None:
    """Σ of steps first..first+count−1, None while any of them is not settled yet."""
    if len(values) < first + count:
        return None
    return math.fsum(values[first : first + count])


def _first_at_or_after(starts: list[int], start_us: int) -> int:
    import bisect

    return bisect.bisect_left(starts, start_us)


def _copy(status: BatteryStatus) -> BatteryStatus:
    return BatteryStatus(
        soc_mwh=status.soc_mwh,
        day_number=status.day_number,
        discharged_today_mwh=status.discharged_today_mwh,
    )


__all__ = ["BatteryCapture"]
