"""Imitation data for the battery policy: what the MPC does, at states a policy visits.

The RL policy is warm-started by behaviour cloning of the MPC
(:class:`engine.battery.mpc.MpcController`), which on published day-ahead prices is
within a fraction of a percent of perfect foresight, and then fine-tuned with
reinforcement learning (``models/training/sb3.py``). This module makes the
labelled data:

- :func:`plan_labels` — at every decision where new prices are published (once a
  day after the auction, and at the start), the MPC plan from several states of
  charge; every step of a plan is a label, at the state the plan itself reaches
  (a fresh solve there gives the same action, because the information and the
  horizon end do not change until the next auction);
- :func:`state_labels` — DAgger: the MPC's action at states a *policy* visited,
  so the clone learns to recover from its own mistakes, not only to follow the
  expert's path.

Only what is known at each decision enters: labels come from
:func:`engine.battery.dispatch.context_at` slices, observations from the features
:func:`models.battery.env.prepare_series` computed with the live code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from engine.battery.dispatch import context_at
from engine.battery.mpc import MpcController
from engine.battery.observation import battery_features
from engine.battery.physics import BatterySpec, BatteryStatus, step
from models.battery.env import PreparedSeries

Observations = npt.NDArray[np.float32]
Actions = npt.NDArray[np.float32]
ActFn = Callable[[Observations], npt.NDArray[np.float32]]


def _observation(
    spec: BatterySpec, prepared: PreparedSeries, t: int, soc_mwh: float, discharged_mwh: float
) -> Observations:
    return np.concatenate([battery_features(spec, soc_mwh, discharged_mwh), prepared.features[t]])


def plan_labels(
    spec: BatterySpec,
    prepared: PreparedSeries,
    *,
    soc_levels: int = 6,
    extension_hours: int = 24,
    seed: int = 0,
) -> tuple[Observations, Actions]:
    """MPC plans from ``soc_levels`` states of charge at every publication (module doc)."""
    rng = np.random.default_rng(seed)
    series = prepared.series
    known_end = prepared.known_end
    n = len(series)
    replans = [0, *(np.flatnonzero(np.diff(known_end) != 0) + 1).tolist()] if n else []
    mpc = MpcController(extension_hours=extension_hours)
    observations: list[Observations] = []
    actions: list[float] = []
    for k, start in enumerate(replans):
        stop = replans[k + 1] if k + 1 < len(replans) else n
        # Evenly spread levels with a random offset: every SoC gets covered over the days.
        levels = (np.arange(soc_levels) + rng.uniform()) / soc_levels
        for level in levels:
            soc = spec.soc_min_mwh + level * spec.usable_mwh
            status = BatteryStatus(soc_mwh=soc, day_number=int(prepared.day_numbers[start]))
            plan = mpc.plan(context_at(spec, series, known_end, start, status))
            for t in range(start, min(stop, int(known_end[start]))):
                key = series.start_us + t * series.step_us
                observations.append(
                    _observation(
                        spec, prepared, t, plan.soc_before_mwh[key], plan.discharged_before_mwh[key]
                    )
                )
                actions.append(plan.power_mw[key] / spec.power_mw)
    return _stack(observations, actions)


def _rollout(
    spec: BatterySpec, prepared: PreparedSeries, act: ActFn, every: int, start: int
) -> tuple[list[tuple[int, BatteryStatus]], BatteryStatus]:
    series = prepared.series
    days = prepared.day_numbers
    status = BatteryStatus(soc_mwh=spec.initial_soc_mwh, day_number=int(days[start]))
    visited: list[tuple[int, BatteryStatus]] = []
    for t in range(start, len(series)):
        same_day = status.day_number == int(days[t])
        discharged = status.discharged_today_mwh if same_day else 0.0
        if every and (t - start) % every == 0:
            visited.append(
                (
                    t,
                    BatteryStatus(
                        soc_mwh=status.soc_mwh,
                        day_number=int(days[t]),
                        discharged_today_mwh=discharged,
                    ),
                )
            )
        obs = _observation(spec, prepared, t, status.soc_mwh, discharged)
        fraction = float(np.clip(act(obs[None, :])[0], -1.0, 1.0))
        step(
            spec,
            status,
            fraction * spec.power_mw,
            float(series.prices[t]),
            series.dt_h,
            int(days[t]),
        )
    return visited, status


def rollout_states(
    spec: BatterySpec, prepared: PreparedSeries, act: ActFn, *, every: int = 1
) -> list[tuple[int, BatteryStatus]]:
    """Run a policy over a whole series; the (step, state) before every ``every``-th step."""
    return _rollout(spec, prepared, act, every, 0)[0]


def rollout_net_revenue(
    spec: BatterySpec, prepared: PreparedSeries, act: ActFn, *, start: int = 0
) -> float:
    """Net revenue (EUR) of a policy from step ``start`` to the end, from the initial SoC.

    The same loop as :func:`engine.battery.dispatch.run_controller` with a policy
    controller, on precomputed features (a tenth of the cost).
    """
    return _rollout(spec, prepared, act, 0, start)[1].net_revenue_eur


def state_labels(
    spec: BatterySpec,
    prepared: PreparedSeries,
    states: Sequence[tuple[int, BatteryStatus]],
    *,
    extension_hours: int = 24,
) -> tuple[Observations, Actions]:
    """The MPC's fresh decision at each (step, state): DAgger labels."""
    mpc = MpcController(extension_hours=extension_hours, replan="every_step")
    series = prepared.series
    observations: list[Observations] = []
    actions: list[float] = []
    for t, status in states:
        context = context_at(spec, series, prepared.known_end, t, status)
        actions.append(mpc.decide(context) / spec.power_mw)
        observations.append(
            _observation(spec, prepared, t, status.soc_mwh, context.discharged_today_mwh)
        )
    return _stack(observations, actions)


def _stack(observations: list[Observations], actions: list[float]) -> tuple[Observations, Actions]:
    if not observations:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.float32)
    return np.stack(observations).astype(np.float32), np.asarray(actions, dtype=np.float32)


__all__ = ["plan_labels", "rollout_net_revenue", "rollout_states", "state_labels"]
