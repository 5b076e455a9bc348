"""Cross-border arbitrage: buy in the cheap zone, sell in the dear one, net of transmission.

It trades what the spread engine (:mod:`engine.spreads`) reports: every pair
with an open :class:`~engine.events.SpreadOpportunity` is a flow the strategy
runs across that border, one delivery period at a time. When a bar is complete
(every price of that instant is in) it buys in the low zone and sells the same
volume in the high one, both legs at once or neither, provided that

- both zones have a price of this bar (a pair whose other price is older is
  not a trade: its delivery periods differ), and
- the spread, net of the border's transmission cost (as the spread engine
  states it), is still at least ``min_net_spread_eur_mwh``.

The volume is ``volume_mw`` x the period length, capped by the execution
model's cross-border capacity of that direction (shared with any other
strategy) and its order size limit. The sell leg carries the transmission cost,
so its PnL is what the flow earned net of everything.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Final

from engine.events import Event, OpportunityStatus, SpreadOpportunity
from engine.strategies.base import Order, Side, Strategy, StrategyConfig, StrategyContext
from engine.strategies.execution import period_start_us

# The interconnectors between gridtui's six zones (either direction). Zones
# without one (AT-FR, FR-NL, GB-DE …) trade only through their neighbours, and a
# flow along a chain would use the capacity of every border on it: the strategy
# leaves chains to the spread table and trades real borders only.
INTERCONNECTORS: Final = (
    "DE-AT",
    "DE-FR",
    "DE-NL",
    "DE-BE",  # ALEGrO
    "FR-BE",
    "NL-BE",
    "GB-FR",  # IFA, IFA2, ElecLink
    "GB-NL",  # BritNed
    "GB-BE",  # Nemo
)


class ArbitrageConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    borders: the borders traded, ``"A-B"`` for either direction; empty = every
        pair the spread engine reports.
    volume_mw: flow per border direction; None = as much as the capacity allows.
    min_net_spread_eur_mwh: the least net spread worth a trade at the bar's prices.
    period_minutes: delivery period of prices that do not state one (intraday ticks).
    max_price_skew_s: the two prices of a trade must be this close in time.
    """

    borders: tuple[str, ...] = INTERCONNECTORS
    volume_mw: float | None = 100.0
    min_net_spread_eur_mwh: float = 5.0
    period_minutes: int = 60
    max_price_skew_s: float = 60.0


class ArbitrageStrategy(Strategy):
    kind = "arbitrage"
    wants: ClassVar[tuple[type[Event], ...]] = (SpreadOpportunity,)
    inputs: ClassVar[frozenset[str]] = frozenset({"prices", "spreads"})
    uses_bars = True

    def __init__(self, config: ArbitrageConfig | None = None, name: str | None = None) -> None:
        self.settings = config or ArbitrageConfig()
        super().__init__(self.settings, name)
        self._open: dict[tuple[str, str], SpreadOpportunity] = {}
        self._traded: dict[tuple[str, str], int] = {}
        self._skew = timedelta(seconds=self.settings.max_price_skew_s)
        self._borders: frozenset[tuple[str, str]] | None = None
        if self.settings.borders:
            pairs = [tuple(b.split("-", 1)) for b in self.settings.borders]
            if any(len(p) != 2 for p in pairs):
                raise ValueError(f"arbitrage.borders must read 'A-B', got {self.settings.borders}")
            self._borders = frozenset({(a, b) for a, b in pairs} | {(b, a) for a, b in pairs})

    def describe(self) -> str:
        volume = self.settings.volume_mw
        size = "up to capacity" if volume is None else f"{volume:g} MW"
        floor = self.settings.min_net_spread_eur_mwh
        return f"cross-border arbitrage, {size}, net spread ≥ {floor:g} €/MWh"

    def on_start(self, ctx: StrategyContext) -> None:
        self._traded.clear()

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        assert type(event) is SpreadOpportunity
        pair = (event.buy_market, event.sell_market)
        if self._markets and not (pair[0] in self._markets and pair[1] in self._markets):
            return
        if self._borders is not None and pair not in self._borders:
            return
        if event.status is OpportunityStatus.CLOSED:
            self._open.pop(pair, None)
        else:
            self._open.pop((pair[1], pair[0]), None)
            self._open[pair] = event

    def on_bar(self, ts: datetime, ctx: StrategyContext) -> None:
        if not self._open:
            return
        settings = self.settings
        fresh_after = ts - self._skew
        periods: dict[int, int] = {}  # delivery minutes → this bar's period
        ranked = sorted(self._open.values(), key=lambda o: o.net_spread_eur_mwh, reverse=True)
        for opportunity in ranked:
            buy, sell = opportunity.buy_market, opportunity.sell_market
            buy_ts, sell_ts = ctx.price_ts(buy), ctx.price_ts(sell)
            if buy_ts is None or sell_ts is None or min(buy_ts, sell_ts) < fresh_after:
                continue
            if max(buy_ts, sell_ts) < ts:
                continue  # neither price is of this bar: traded when it was
            buy_price, sell_price = ctx.price(buy), ctx.price(sell)
            if buy_price is None or sell_price is None:
                continue
            cost = opportunity.transmission_cost_eur_mwh
            net = sell_price - buy_price - cost
            if net < settings.min_net_spread_eur_mwh:
                continue
            minutes = ctx.delivery_minutes(buy) or settings.period_minutes
            period = periods.get(minutes)
            if period is None:
                period = periods[minutes] = period_start_us(ts, minutes)
            if self._traded.get((buy, sell)) == period:
                continue
            self._traded[(buy, sell)] = period
            hours = minutes / 60.0
            volume = (settings.volume_mw if settings.volume_mw is not None else 1e9) * hours
            book = f"{buy}>{sell}"
            reason = (
                f"arbitrage {buy}→{sell}: sell {sell_price:.2f} − buy {buy_price:.2f} "
                f"− transmission {cost:.2f} = net {net:.2f} €/MWh"
            )
            ctx.submit(
                Order(
                    market=buy,
                    side=Side.BUY,
                    volume_mwh=volume,
                    reason=reason,
                    book=book,
                    border=f"{buy}-{sell}",
                    delivery_minutes=minutes,
                ),
                Order(
                    market=sell,
                    side=Side.SELL,
                    volume_mwh=volume,
                    reason=reason,
                    book=book,
                    extra_cost_eur_mwh=cost,
                    delivery_minutes=minutes,
                ),
                all_or_none=True,
            )


__all__ = ["ArbitrageConfig", "ArbitrageStrategy"]
