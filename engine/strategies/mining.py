"""Mining: a flexible load that runs when power is cheaper than what it earns.

A mining farm of ``power_mw`` turns electricity into hashes. What a MWh earns
is the *break-even power price*: the hash price (EUR per TH/s per day) divided
by the energy one TH/s needs in a day (efficiency in J/TH x 24 h)::

    break_even_eur_mwh = hash_price_eur_per_th_day x 10⁶ / (24 x efficiency_j_per_th)

(0.08 EUR/TH/day at 30 J/TH: 111 EUR/MWh). In each delivery period whose price
is below the break-even minus ``margin_eur_mwh`` (default 5, the design's figure)
the farm runs: it buys ``power_mw`` x the period of power, and the fill books
mining profit = (break-even − fill price) x MWh − fees. Above it the farm idles
(its power is then worth more to the grid than to the miners).
"""

from __future__ import annotations

from typing import ClassVar

from engine.events import Event, PriceTick
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.execution import period_start_us


class MiningConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    markets: where the farms are (one farm of ``power_mw`` per market).
    power_mw: the farm's load when it runs.
    hash_price_eur_per_th_day: what one TH/s of hash rate earns per day.
    efficiency_j_per_th: the miners' energy per terahash (J/TH = W per TH/s).
    margin_eur_mwh: run only below break-even minus this.
    period_minutes: delivery period of prices that do not state one.
    """

    markets: tuple[str, ...] = ("DE",)
    power_mw: float = 10.0
    hash_price_eur_per_th_day: float = 0.08
    efficiency_j_per_th: float = 30.0
    margin_eur_mwh: float = 5.0
    period_minutes: int = 60

    def __post_init__(self) -> None:
        if not (self.power_mw > 0 and self.efficiency_j_per_th > 0):
            raise ValueError("mining: power_mw and efficiency_j_per_th must be > 0")
        if self.hash_price_eur_per_th_day < 0 or self.margin_eur_mwh < 0:
            raise ValueError("mining: hash_price_eur_per_th_day and margin_eur_mwh must be >= 0")

    @property
    def break_even_eur_mwh(self) -> float:
        return break_even_eur_mwh(self.hash_price_eur_per_th_day, self.efficiency_j_per_th)


def break_even_eur_mwh(hash_price_eur_per_th_day: float, efficiency_j_per_th: float) -> float:
    """The power price at which mining earns exactly what its power costs."""
    return hash_price_eur_per_th_day * 1e6 / (24.0 * efficiency_j_per_th)


class MiningStrategy(Strategy):
    kind = "mining"
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick,)

    def __init__(self, config: MiningConfig | None = None, name: str | None = None) -> None:
        self.settings = config or MiningConfig()
        super().__init__(self.settings, name)
        self.break_even = self.settings.break_even_eur_mwh
        self.run_below = self.break_even - self.settings.margin_eur_mwh
        self._period: dict[str, int] = {}

    def describe(self) -> str:
        s = self.settings
        return (
            f"mining {s.power_mw:g} MW in {', '.join(s.markets)}: break-even "
            f"{self.break_even:,.2f} €/MWh, runs below {self.run_below:,.2f}"
        )

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        assert type(event) is PriceTick
        market = event.market
        if not self.trades_market(market):
            return
        minutes = event.delivery_minutes or self.settings.period_minutes
        period = period_start_us(event.ts, minutes)
        if self._period.get(market) == period:
            return  # decided for this period already (intraday ticks repeat)
        self._period[market] = period
        price = event.price_eur_mwh
        if price >= self.run_below:
            return
        ctx.submit(
            Order(
                market=market,
                side=Side.BUY,
                volume_mwh=self.settings.power_mw * minutes / 60.0,
                reason=(
                    f"mine: {price:,.2f} < break-even {self.break_even:,.2f} "
                    f"− margin {self.settings.margin_eur_mwh:,.2f} €/MWh"
                ),
                consume_value_eur_mwh=self.break_even,
                delivery_minutes=minutes,
            )
        )


__all__ = ["MiningConfig", "MiningStrategy", "break_even_eur_mwh"]
