"""ML: trade when a forecast departs from the price by more than its confidence band.

The strategy listens to :class:`~engine.events.Forecast` events (from the
forecasting models in ``models/``, wired in by ``gridtui.wiring``) and to the
prices of the markets it trades. When a forecast for a delivery period
``target_ts`` arrives and the strategy holds no position in that market:

- if the forecast's *lower* bound is above the current price, the model is
  confident the price will rise: buy ``volume_mwh``;
- if its *upper* bound is below the current price: sell ``volume_mwh``;
- otherwise the departure is within the band (noise): do nothing.

A forecast without a band gets ``band_eur_mwh`` either side. The position is
closed at the first price stamped at or after ``target_ts`` — the moment the
forecast is proven right or wrong — or when the strategy stops. Forecasts are
only ever seen once issued (their ``ts`` is the issue time), so nothing here
knows the price it bets on.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from engine.events import Event, Forecast, PriceTick
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext, flatten


class MlConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    volume_mwh: size of a position.
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
    kind = "ml"
    wants: ClassVar[tuple[type[Event], ...]] = (Forecast, PriceTick)
    inputs: ClassVar[frozenset[str]] = frozenset({"prices", "forecasts"})

    def __init__(self, config: MlConfig | None = None, name: str | None = None) -> None:
        self.settings = config or MlConfig()
        super().__init__(self.settings, name)
        self._exit_at: dict[str, datetime] = {}

    def describe(self) -> str:
        s = self.settings
        return f"ML: trade forecasts outside their band, ±{s.volume_mwh:g} MWh to the target hour"

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        if type(event) is PriceTick:
            exit_at = self._exit_at.get(event.market)
            if exit_at is not None and event.ts >= exit_at:
                del self._exit_at[event.market]
                flatten(ctx, f"ML: forecast for {exit_at:%Y-%m-%d %H:%M} is due", [event.market])
            return
        assert isinstance(event, Forecast)
        market = event.market
        s = self.settings
        if (
            not self.trades_market(market)
            or market in self._exit_at
            or not s.min_horizon_steps <= event.horizon_steps <= s.max_horizon_steps
            or event.target_ts <= ctx.now
        ):
            return
        price = ctx.price(market)
        if price is None:
            return
        lower = event.lower_eur_mwh
        upper = event.upper_eur_mwh
        lower = event.price_eur_mwh - s.band_eur_mwh if lower is None else lower
        upper = event.price_eur_mwh + s.band_eur_mwh if upper is None else upper
        if lower - price > s.min_edge_eur_mwh:
            side, words = Side.BUY, f"lower bound {lower:,.2f} above price {price:,.2f}"
        elif price - upper > s.min_edge_eur_mwh:
            side, words = Side.SELL, f"upper bound {upper:,.2f} below price {price:,.2f}"
        else:
            return
        fills = ctx.submit(
            Order(
                market=market,
                side=side,
                volume_mwh=s.volume_mwh,
                reason=(
                    f"ML {event.model_id or 'forecast'} for {event.target_ts:%Y-%m-%d %H:%M}: "
                    f"{event.price_eur_mwh:,.2f}, {words}"
                ),
            )
        )
        if fills:
            self._exit_at[market] = event.target_ts

    def on_stop(self, ctx: StrategyContext) -> None:
        self._exit_at.clear()
        super().on_stop(ctx)


__all__ = ["MlConfig", "MlStrategy"]
