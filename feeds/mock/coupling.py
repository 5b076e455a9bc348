"""Market coupling in the mock market: one price per cluster when capacity suffices.

:class:`MarketCoupling` takes the zones' isolated prices (their own merit orders,
:mod:`feeds.mock.model`) and couples the continental zones the way market coupling
does: in a coupled step every zone of a cluster clears at exactly one price; in a
congested step prices only converge part of the way, and the borders that happen
to be unconstrained merge their two zones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
import numpy.typing as npt

from feeds.mock.processes import AR1, FloatArray
from feeds.mock.profiles import BORDER_COUPLING_PROB, ZONE_PROFILES, ModelParams, ZoneProfile

BoolArray = npt.NDArray[np.bool_]


class MarketCoupling:
    """The coupling clusters of a set of markets and the draws that congest them.

    Args:
        markets: market codes, in the model's order.
        zones: their profiles (``cluster`` names the coupling cluster).
        params: shared knobs (:class:`ModelParams`).
        load_mean: mean load per market (MW): the weights of the coupled price.
        capacity_rng / border_rng: generators of the capacity process and the
            per-border draws.
        step_h: step length in hours.
        are_neighbours: whether two markets share an interconnector. A congested
            step merges two zones only across a real border, except between two
            hand-profiled zones (:data:`ZONE_PROFILES`): their all-pairs merges
            are what ``bench/mock_calibration.py`` is calibrated on. None: all pairs.
    """

    def __init__(
        self,
        markets: Sequence[str],
        zones: Sequence[ZoneProfile],
        params: ModelParams,
        load_mean: FloatArray,
        capacity_rng: np.random.Generator,
        border_rng: np.random.Generator,
        step_h: float,
        are_neighbours: Callable[[str, str], bool] | None = None,
    ) -> None:
        p = self.params = params
        self._load_mean = load_mean
        self._border_rng = border_rng
        clusters: dict[str, list[int]] = {}
        for index, zone in enumerate(zones):
            if zone.cluster is not None:
                clusters.setdefault(zone.cluster, []).append(index)
        self._clusters = [members for members in clusters.values() if len(members) > 1]
        self.coupled_mask: BoolArray = np.zeros(len(zones), dtype=bool)
        for members in self._clusters:
            self.coupled_mask[members] = True
        self._capacity_ar = AR1(
            capacity_rng,
            tau_h=p.coupling_tau_h,
            step_h=step_h,
            loadings=[0.0] * max(1, len(self._clusters)),
        )
        self._borders: list[tuple[int, int, float]] = []
        for members in self._clusters:
            for a, b in combinations(members, 2):
                market_a, market_b = markets[a], markets[b]
                hand_made = market_a in ZONE_PROFILES and market_b in ZONE_PROFILES
                if not hand_made and are_neighbours and not are_neighbours(market_a, market_b):
                    continue
                pair = frozenset((market_a, market_b))
                prob = BORDER_COUPLING_PROB.get(pair, p.border_coupling_default)
                self._borders.append((a, b, prob))

    def couple(self, price: FloatArray, fuel_eur_mwh: FloatArray) -> FloatArray:
        """Market coupling: one price per cluster when capacity suffices, else partial."""
        if not self._clusters:
            return price
        p = self.params
        steps = price.shape[0]
        out = price.copy()
        capacity = self._capacity_ar.draw(steps)
        border_draws = self._border_rng.random((steps, max(1, len(self._borders))))
        for cluster_index, members in enumerate(self._clusters):
            idx = np.array(members)
            weights = self._load_mean[idx] / self._load_mean[idx].sum()
            zone_prices = price[:, idx]
            coupled_price = zone_prices @ weights
            dispersion = np.sqrt(((zone_prices - coupled_price[:, None]) ** 2) @ weights)
            # Spread relative to the price level; the 5 EUR/MWh floor keeps near-zero
            # hours from looking congested over cents.
            relative = dispersion / (0.25 * fuel_eur_mwh + 5.0)
            threshold = np.exp(
                p.coupling_log_threshold + p.coupling_log_sd * capacity[:, cluster_index]
            )
            fully = relative < threshold
            converged = coupled_price[:, None] + (1.0 - p.congested_convergence) * (
                zone_prices - coupled_price[:, None]
            )
            # Group labels per step: all one group when fully coupled, else the
            # borders that happen to be unconstrained merge their two zones.
            labels = np.tile(np.arange(len(members)), (steps, 1))
            labels[fully] = 0
            position = {zone: k for k, zone in enumerate(members)}
            for border_index, (a, b, prob) in enumerate(self._borders):
                if a not in position or b not in position:
                    continue
                merge = (~fully) & (border_draws[:, border_index] < prob)
                label_a = labels[:, position[a]][:, None]
                label_b = labels[:, position[b]][:, None]
                labels = np.where(merge[:, None] & (labels == label_b), label_a, labels)
            grouped = np.empty_like(converged)
            for label in range(len(members)):
                in_group = labels == label
                group_weight = in_group @ weights
                group_price = np.where(
                    group_weight > 0,
                    (np.where(in_group, converged, 0.0) @ weights)
                    / np.maximum(group_weight, 1e-12),
                    0.0,
                )
                grouped = np.where(in_group, group_price[:, None], grouped)
            out[:, idx] = grouped
        return out
