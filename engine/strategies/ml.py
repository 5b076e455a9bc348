"""ML: trade when a forecast departs from the price by more than its confidence band.

The strategy listens to :class:`~engine.events.Forecast` events (from the
forecasting models in ``models/``, wired in by ``gridtui.wiring``) and to the
prices of the markets it trades. A forecast for a delivery period is a
signal against the latest price the strategy knows:

- its *lower* bound above that price: the model is confident the price will
  rise — long ``volume_mwh`` per delivery hour;
- its *upper* bound below it: short;
- otherwise the departure is within the band (noise): nothing.

A forecast without a band gets ``band_eur_mwh`` either side. Forecasts are only
ever seen once issued (their ``ts`` is the issue time), so nothing here knows
the price it bets on. Where the signal is traded depends on the feed:

- **day-ahead only**: on its last bar before D's gate closure (12:00 CET on
  D−1) the strategy commits each period of D for which it holds a forecast
  issued by then (the latest one, within the horizon limits). Such a position
  fills at the clearing price and settles at it: it earns minus its fees.
- **continuous intraday**: when a forecast's target period becomes the first
  one still open, the forecast is traded on intraday for that period against
  the latest intraday price; the position settles at delivery at the
  reference price — the moment the forecast is proven right or wrong. One
  forecast is acted upon per period (the latest issued by then). Only the
  first open period, because the order path fills every intraday order at the
  latest tick, a quote for the present: a period hours ahead bought at it
  would "earn" the known daily shape of prices, not the forecast's skill.

What changed from the strategy that held one position per market until the
target hour: positions are per delivery period and close by settlement; the
config is the same (``volume_mwh`` is now per delivery hour).
"""

from __future__ import annotations

from typing import ClassVar

from engine.events import Event, Forecast, PriceTick
from engine.market.timeline import Auction
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.day_ahead import DayAheadGate, Period
from engine.strategies.execution import period_start_us
from engine.strategies.signal_trading import (
    Venue,
    Venues,
    commit_day,
    first_open_period,
    hold_intraday,
)
from engine.time_us import to_us

_KEPT_FORECASTS = 10_000  # per market: a few days of hourly targets at every horizon


class MlConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    volume_mwh: size of a position, MWh per delivery hour.
    band_eur_mwh: half-width of the band for forecasts that carry none.
    min_edge_eur_mwh: the forecast must clear its band by at least this much.
    min_horizon_steps / max_horizon_steps: forecasts acted upon, by horizon.
    """

    volume_mwh: float = 10.0
    band_eur_mwh: float = 10.0
    min_edge_eur_mwh: float = 0.0
    min_horizon_steps: int = 1
    max_horizon_steps: int = 48

    def __post_init__(self) -> None:
        if not (self.volume_mwh > 0 and self.band_eur_mwh >= 0 and self.min_edge_eur_mwh >= 0):
            raise ValueError("ml: volume_mwh must be > 0, band and edge >= 0")
        if not 1 <= self.min_horizon_steps <= self.max_horizon_steps:
            raise ValueError("ml: need 1 <= min_horizon_steps <= max_horizon_steps")


class MlStrategy(Strategy):
    """Trades the engine's price forecasts against the price it can still trade.

    Hosted by :class:`~engine.strategies.manager.StrategyManager`.
    """

    kind = "ml"
    wants: ClassVar[tuple[type[Event], ...]] = (Forecast, PriceTick)
    inputs: ClassVar[frozenset[str]] = frozenset({"prices", "forecasts"})

    def __init__(self, config: MlConfig | None = None, name: str | None = None) -> None:
        self.settings = config or MlConfig()
        super().__init__(self.settings, name)
        self.gate = DayAheadGate()
        self.venues = Venues()
        # market → delivery start (µs) → the latest forecast issued for that period.
        self._forecasts: dict[str, dict[int, Forecast]] = {}
        self._acted: dict[str, set[int]] = {}

    def describe(self) -> str:
        s = self.settings
        return f"ML: trade forecasts outside their band, ±{s.volume_mwh:g} MWh/h; " + (
            self.venues.words()
        )

    def on_start(self, ctx: StrategyContext) -> None:
        self.gate = DayAheadGate()

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        if type(event) is PriceTick:
            market = event.market
            if not self.trades_market(market):
                return
            if ctx.has_intraday(market):
                self._trade_intraday(ctx, market, event.price_eur_mwh)
                return
            auction = self.gate.due(ctx, market)
            if auction is not None:
                self._commit(ctx, market, auction)
            return
        assert isinstance(event, Forecast)
        market = event.market
        s = self.settings
        if (
            not self.trades_market(market)
            or not s.min_horizon_steps <= event.horizon_steps <= s.max_horizon_steps
            or event.target_ts <= ctx.now
        ):
            return
        minutes = ctx.timeline.mtu_minutes(
            market, ctx.timeline.delivery_day(market, event.target_ts)
        )
        kept = self._forecasts.setdefault(market, {})
        kept[period_start_us(event.target_ts, minutes)] = event  # the latest issue wins
        if len(kept) > _KEPT_FORECASTS:
            now_us = to_us(ctx.now)
            for start in [k for k in kept if k < now_us]:
                del kept[start]

    def signal(self, forecast: Forecast, price: float) -> tuple[int, str]:
        """+1 long, −1 short or 0, and why, for ``forecast`` against ``price``."""
        s = self.settings
        lower = forecast.lower_eur_mwh
        upper = forecast.upper_eur_mwh
        lower = forecast.price_eur_mwh - s.band_eur_mwh if lower is None else lower
        upper = forecast.price_eur_mwh + s.band_eur_mwh if upper is None else upper
        head = (
            f"ML {forecast.model_id or 'forecast'} for {forecast.target_ts:%Y-%m-%d %H:%M}: "
            f"{forecast.price_eur_mwh:,.2f}"
        )
        if lower - price > s.min_edge_eur_mwh:
            return 1, f"{head}, lower bound {lower:,.2f} above price {price:,.2f}"
        if price - upper > s.min_edge_eur_mwh:
            return -1, f"{head}, upper bound {upper:,.2f} below price {price:,.2f}"
        return 0, head

    def _trade_intraday(self, ctx: StrategyContext, market: str, price: float) -> None:
        # Only the first period still open: the intraday price a fill gets is
        # the latest tick's, a quote for the present, not for hours ahead.
        period = first_open_period(ctx, market)
        key = to_us(period.start)
        acted = self._acted.setdefault(market, set())
        forecast = self._forecasts.get(market, {}).get(key)
        if forecast is None or key in acted:
            return  # nothing forecast for it, or its forecast was traded already
        direction, reason = self.signal(forecast, price)
        if direction == 0:
            return
        acted.add(key)
        if len(acted) > _KEPT_FORECASTS:
            acted.difference_update([k for k in acted if k < to_us(ctx.now)])
        self.venues.note(market, Venue.INTRADAY)
        hold_intraday(ctx, market, period, direction * self.settings.volume_mwh, reason)

    def _commit(self, ctx: StrategyContext, market: str, auction: Auction) -> None:
        price = ctx.price(market)
        kept = self._forecasts.get(market, {})
        if price is None or not kept:
            return
        volume = self.settings.volume_mwh
        reasons: list[str] = []

        def target(period: Period) -> float:
            forecast = kept.get(to_us(period.start))
            if forecast is None:
                return 0.0
            direction, reason = self.signal(forecast, price)
            if direction:
                reasons.append(reason)
            return direction * volume

        day = ctx.timeline.delivery_day(market, auction.delivery_start)
        plan = {p.start: target(p) for p in DayAheadGate.periods(ctx.timeline, auction)}
        if not any(plan.values()):
            return
        self.venues.note(market, Venue.DAY_AHEAD)
        why = f"ML day-ahead for {day}: {len(reasons)} periods outside the band; {reasons[0]}"
        commit_day(ctx, market, auction, lambda p: plan[p.start], why)
        now_us = to_us(ctx.now)
        for start in [k for k in kept if k < now_us]:
            del kept[start]


__all__ = ["MlConfig", "MlStrategy"]
