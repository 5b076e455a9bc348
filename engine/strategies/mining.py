"""Mining: a flexible load that bids for power at what mining is worth.

A mining farm of ``power_mw`` turns electricity into hashes. What a MWh earns
is the *break-even power price*: the hash price (EUR per TH/s per day) divided
by the energy one TH/s needs in a day (efficiency in J/TH x 24 h)::

    break_even_eur_mwh = hash_price_eur_per_th_day x 10⁶ / (24 x efficiency_j_per_th)

(0.08 EUR/TH/day at 30 J/TH: 111 EUR/MWh). The farm needs no forecast: once per
delivery day D, on its last bar before D's day-ahead gate closure (12:00 CET on
D−1, :class:`~engine.strategies.day_ahead.DayAheadGate`), it sends one
**price-dependent bid** per period of D — buy ``power_mw`` x the period at a
limit of break-even − ``margin_eur_mwh`` (default 5, the design's figure). The
auction fills a bid only where the clearing price is at or below the limit, so
the farm runs exactly in the hours where power is worth less to the grid than
to the miners, and each fill is consumed at once
(``consume_value_eur_mwh`` = break-even): at delivery it realises
(break-even − clearing price) x MWh − fees.

On a feed with continuous intraday prices it also buys intraday, at the same
limit, for a period still open that it holds no day-ahead bid for (the day it
was switched on, say). The farm is registered as an asset of ``power_mw``, so
the order path never lets it buy more than its power in one period.

What changed from the load that bought the hour whose price it had just seen:
day-ahead bids at the gate with a limit price instead; the config is the same.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from engine.events import Event, PriceTick
from engine.market.timeline import Auction, Product
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.day_ahead import DayAheadGate
from engine.strategies.signal_trading import Venue, Venues, first_open_period


class MiningConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    markets: where the farms are (one farm of ``power_mw`` per market).
    power_mw: the farm's load when it runs.
    hash_price_eur_per_th_day: what one TH/s of hash rate earns per day.
    efficiency_j_per_th: the miners' energy per terahash (J/TH = W per TH/s).
    margin_eur_mwh: bid break-even minus this.
    period_minutes: kept for old configs; delivery periods come from the market timeline.
    intraday: also buy on continuous intraday where the feed has it.
    """

    markets: tuple[str, ...] = ("DE",)
    power_mw: float = 10.0
    hash_price_eur_per_th_day: float = 0.08
    efficiency_j_per_th: float = 30.0
    margin_eur_mwh: float = 5.0
    period_minutes: int = 60
    intraday: bool = True

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
    """Flexible load (mining) that runs when power is cheaper than its break-even minus a margin.

    Hosted by :class:`~engine.strategies.manager.StrategyManager`.
    """

    kind = "mining"
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick,)

    def __init__(self, config: MiningConfig | None = None, name: str | None = None) -> None:
        self.settings = config or MiningConfig()
        super().__init__(self.settings, name)
        self.break_even = self.settings.break_even_eur_mwh
        self.limit_eur_mwh = self.settings.break_even_eur_mwh - self.settings.margin_eur_mwh
        self.gate = DayAheadGate()
        self.venues = Venues()
        self._bid_days: dict[str, set[date]] = {}

    def describe(self) -> str:
        s = self.settings
        where = (
            "day-ahead bids at the gate (D-1 12:00 CET), intraday too"
            if s.intraday
            else "day-ahead bids at the gate (D-1 12:00 CET)"
        )
        return (
            f"mining {s.power_mw:g} MW in {', '.join(s.markets)}: break-even "
            f"{self.break_even:,.2f} €/MWh, bids at most {self.limit_eur_mwh:,.2f}; {where}"
        )

    def asset(self, market: str) -> str:
        return f"{self.name}:{market}"

    def on_start(self, ctx: StrategyContext) -> None:
        self.gate = DayAheadGate()
        for market in self.settings.markets:
            ctx.register_asset(self.asset(market), self.settings.power_mw)

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        assert type(event) is PriceTick
        market = event.market
        if not self.trades_market(market):
            return
        auction = self.gate.due(ctx, market)
        if auction is not None:
            self._bid_day_ahead(ctx, market, auction)
        if self.settings.intraday and ctx.has_intraday(market):
            self._buy_intraday(ctx, market, event.price_eur_mwh)

    def _order(self, market: str, minutes: int, reason: str, **fields: object) -> Order:
        return Order(
            market=market,
            side=Side.BUY,
            volume_mwh=self.settings.power_mw * minutes / 60.0,
            reason=reason,
            consume_value_eur_mwh=self.break_even,
            limit_price_eur_mwh=self.limit_eur_mwh,
            asset=self.asset(market),
            delivery_minutes=minutes,
            **fields,  # type: ignore[arg-type]
        )

    def _bid_day_ahead(self, ctx: StrategyContext, market: str, auction: Auction) -> None:
        day = ctx.timeline.delivery_day(market, auction.delivery_start)
        reason = (
            f"mine {day}: bid at break-even {self.break_even:,.2f} "
            f"− margin {self.settings.margin_eur_mwh:,.2f} €/MWh"
        )
        orders = [
            self._order(
                market,
                period.minutes,
                reason,
                product=Product.DAY_AHEAD,
                delivery_start=period.start,
            )
            for period in DayAheadGate.periods(ctx.timeline, auction)
        ]
        ctx.submit(*orders)
        self._bid_days.setdefault(market, set()).add(day)
        self.venues.note(market, Venue.DAY_AHEAD)

    def _buy_intraday(self, ctx: StrategyContext, market: str, price: float) -> None:
        if price > self.limit_eur_mwh:
            return  # the order path would refuse it at its limit; no need to ask
        period = first_open_period(ctx, market)
        if ctx.timeline.delivery_day(market, period.start) in self._bid_days.get(market, ()):
            return  # the day-ahead bid covers this period (filled or priced out)
        if ctx.position_at(market, period.start) > 0:
            return
        fills = ctx.submit(
            self._order(
                market,
                period.minutes,
                f"mine: intraday {price:,.2f} ≤ {self.limit_eur_mwh:,.2f} €/MWh",
                delivery_start=period.start,
            )
        )
        if fills:
            self.venues.note(market, Venue.INTRADAY)


__all__ = ["MiningConfig", "MiningStrategy", "break_even_eur_mwh"]
