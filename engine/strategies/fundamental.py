"""Fundamental: a fair value from load, renewables and the fuel mix, against the price.

When :class:`~engine.events.Fundamentals` are fed (load, wind and solar per
zone), every price is compared with a fair value::

    fair = a + b x renewables_share + c x load_gw
    renewables_share = (wind + solar) / load

The coefficients are fitted online by recursive least squares with
exponential forgetting (``forgetting``, about a month of hours by default) on
the prices seen so far — each price is used for the fit only *after* the
decision on it, so the fair value never knows the price it judges. The fit
starts from a prior built on the fuel mix: with no renewables the price sits at
the thermal plants' marginal cost (``thermal_cost_eur_mwh``: gas at its heat
rate plus carbon), and each unit of renewables share pushes it towards zero.
(ENTSO-E's fundamentals events carry load, wind and solar; the rest of the
mix enters through that marginal cost.) Only fundamentals already known are
used: an event is handed over once the clock reaches its time, and one older
than ``max_age_s`` against the price is not used at all.

The signal: after ``warmup`` observations, a price more than ``entry_eur_mwh``
above fair value is a short (expecting it to fall back), one as far below a
long, and the target goes flat once the gap is under ``exit_eur_mwh``. Where
it is held depends on the feed (:mod:`engine.strategies.signal_trading`): on
a day-ahead-only feed the target of the last bar before D's gate closure
(12:00 CET on D−1) is committed for every period of D (it settles at its own
clearing price: minus fees); with continuous intraday prices it is held in
the first delivery period still open, settled at delivery at the reference.

What changed: the target is kept per market (not read back from a position,
positions are per delivery period now); the config is the same
(``volume_mwh`` is now per delivery hour).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from engine.events import Event, Fundamentals, PriceTick
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.day_ahead import DayAheadGate
from engine.strategies.signal_trading import (
    Venues,
    trade_target,
)


class FundamentalConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    volume_mwh: size of a position, MWh per delivery hour.
    thermal_cost_eur_mwh: marginal cost of the thermal fleet (the prior's intercept).
    entry_eur_mwh / exit_eur_mwh: gap to fair value that opens / closes a position.
    warmup: observations before the first trade.
    forgetting: RLS forgetting factor per observation (1 = never forget).
    max_age_s: fundamentals older than this (against the price) are not used.
    """

    volume_mwh: float = 10.0
    thermal_cost_eur_mwh: float = 90.0
    entry_eur_mwh: float = 25.0
    exit_eur_mwh: float = 5.0
    warmup: int = 168
    forgetting: float = 0.999
    max_age_s: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 <= self.exit_eur_mwh < self.entry_eur_mwh:
            raise ValueError("fundamental: need 0 <= exit_eur_mwh < entry_eur_mwh")
        if not 0.9 <= self.forgetting <= 1.0:
            raise ValueError("fundamental: forgetting must be within 0.9..1")
        if not self.volume_mwh > 0:
            raise ValueError("fundamental: volume_mwh must be > 0")


def fundamental_inputs(drivers: Fundamentals) -> tuple[float, float] | None:
    """The fair value's two drivers: renewables share (wind + solar) / load, and load in GW.

    The share is clipped to 0..1.5 (a zone exporting its surplus can exceed 1;
    beyond that the fit would extrapolate). None when the load is not positive:
    the share is then undefined and the strategy skips the event. Public so the
    dashboard shows the very numbers the strategy uses.
    """
    if drivers.load_mw <= 0:
        return None
    share = min(max((drivers.wind_mw + drivers.solar_mw) / drivers.load_mw, 0.0), 1.5)
    return share, drivers.load_mw / 1000.0


class RecursiveLeastSquares:
    """Online linear regression with exponential forgetting (3 features: tiny, plain floats)."""

    __slots__ = ("count", "forgetting", "p", "weights")

    def __init__(
        self, prior: list[float], forgetting: float, prior_variance: float = 100.0
    ) -> None:
        n = len(prior)
        self.weights = list(prior)
        self.p = [[prior_variance if i == j else 0.0 for j in range(n)] for i in range(n)]
        self.forgetting = forgetting
        self.count = 0

    def predict(self, x: list[float]) -> float:
        return sum(w * v for w, v in zip(self.weights, x, strict=True))

    def update(self, x: list[float], y: float) -> None:
        p, lam = self.p, self.forgetting
        n = len(x)
        px = [sum(p[i][j] * x[j] for j in range(n)) for i in range(n)]
        denominator = lam + sum(x[i] * px[i] for i in range(n))
        gain = [v / denominator for v in px]
        error = y - self.predict(x)
        self.weights = [w + g * error for w, g in zip(self.weights, gain, strict=True)]
        # P = (P − k·xᵀP) / λ; P stays symmetric, so xᵀP = (Px)ᵀ.
        self.p = [[(p[i][j] - gain[i] * px[j]) / lam for j in range(n)] for i in range(n)]
        self.count += 1


class FundamentalStrategy(Strategy):
    """Trades the residual-load signal (load − wind − solar) on the market timeline.

    Hosted by :class:`~engine.strategies.manager.StrategyManager`.
    """

    kind = "fundamental"
    wants: ClassVar[tuple[type[Event], ...]] = (Fundamentals, PriceTick)
    inputs: ClassVar[frozenset[str]] = frozenset({"prices", "fundamentals"})

    def __init__(self, config: FundamentalConfig | None = None, name: str | None = None) -> None:
        self.settings = config or FundamentalConfig()
        super().__init__(self.settings, name)
        self._latest: dict[str, Fundamentals] = {}
        self._models: dict[str, RecursiveLeastSquares] = {}
        self._max_age = timedelta(seconds=self.settings.max_age_s)
        self.fair_value: dict[str, tuple[datetime, float]] = {}
        self.targets: dict[str, float] = {}
        self.gate = DayAheadGate()
        self.venues = Venues()

    def describe(self) -> str:
        s = self.settings
        return (
            f"fundamental: fair value from load, renewables and a {s.thermal_cost_eur_mwh:g} €/MWh "
            f"thermal cost; trade gaps over {s.entry_eur_mwh:g} €/MWh; {self.venues.words()}"
        )

    def on_start(self, ctx: StrategyContext) -> None:
        self.gate = DayAheadGate()

    def _model(self, market: str) -> RecursiveLeastSquares:
        model = self._models.get(market)
        if model is None:
            cost = self.settings.thermal_cost_eur_mwh
            model = self._models[market] = RecursiveLeastSquares(
                [cost, -cost, 0.0], self.settings.forgetting
            )
        return model

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        if type(event) is Fundamentals:
            if self.trades_market(event.market):
                self._latest[event.market] = event
            return
        assert isinstance(event, PriceTick)
        market = event.market
        if not self.trades_market(market):
            return
        price = event.price_eur_mwh
        drivers = self._latest.get(market)
        inputs = fundamental_inputs(drivers) if drivers is not None else None
        if drivers is not None and inputs is not None and event.ts - drivers.ts <= self._max_age:
            x = [1.0, *inputs]
            model = self._model(market)
            fair = model.predict(x)
            self.fair_value[market] = (event.ts, fair)
            if model.count >= self.settings.warmup:
                self.targets[market] = self._target(market, price - fair)
            model.update(x, price)  # after the decision: the fit never knows the price it judges
        target = self.targets.get(market, 0.0)
        known = self.fair_value.get(market)
        reason = (
            f"fundamental: {market} at {price:,.2f} vs fair value {known[1]:,.2f} €/MWh"
            if known is not None
            else f"fundamental: {market} at {price:,.2f}"
        )
        trade_target(ctx, market, target, reason, self.gate, self.venues)

    def _target(self, market: str, gap: float) -> float:
        """The position per delivery hour the gap to fair value calls for."""
        s = self.settings
        if gap > s.entry_eur_mwh:
            return -s.volume_mwh
        if gap < -s.entry_eur_mwh:
            return s.volume_mwh
        if abs(gap) < s.exit_eur_mwh:
            return 0.0
        return self.targets.get(market, 0.0)


__all__ = [
    "FundamentalConfig",
    "FundamentalStrategy",
    "RecursiveLeastSquares",
    "fundamental_inputs",
]
