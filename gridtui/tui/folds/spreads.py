"""SpreadFold: the Spreads pane — open opportunities, else indicative spreads per pair.

Every pair of markets gets a row: the engine's open opportunity when there is
one, else an indicative spread from the two last prices (or, on a
day-ahead-only feed, this period's auction prices), best direction first.
Each row shows the congestion spread and, where the pair has an
interconnector, the spread net of the transmission right's price: the latest
price the engine's events gave for that direction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.events import OpportunityStatus, SpreadOpportunity
from gridtui.tui.folds.clock import EngineClock
from gridtui.tui.folds.prices import PriceFold, day_ahead_at
from gridtui.tui.views import SpreadView


class SpreadFold:
    """Folds spread opportunities; builds one Spreads row per pair of markets.

    Args:
        prices: the price fold, for the markets and their last prices.
        clock: the model's engine clock (opportunities advance it).
        transmission_costs: EUR/MWh per ordered pair, for indicative spreads.
    """

    def __init__(
        self,
        prices: PriceFold,
        clock: EngineClock,
        transmission_costs: Mapping[tuple[str, str], float] | None = None,
    ) -> None:
        self.prices = prices
        self.clock = clock
        self.costs = dict(transmission_costs or {})
        self._open: dict[tuple[str, str], SpreadOpportunity] = {}
        self._right_prices: dict[tuple[str, str], float] = {}  # (buy, sell) → EUR/MWh
        # pair → (its opportunity, whole seconds open, the view made of them)
        self._open_views: dict[tuple[str, str], tuple[SpreadOpportunity, int, SpreadView]] = {}

    def on_spread(self, opportunity: SpreadOpportunity) -> None:
        self.clock.advance(opportunity.ts)
        if opportunity.right_price_eur_mwh is not None:
            self._right_prices[opportunity.pair] = opportunity.right_price_eur_mwh
        key = _pair_key(opportunity.buy_market, opportunity.sell_market)
        if opportunity.status is OpportunityStatus.CLOSED:
            held = self._open.get(key)
            if held is not None and held.buy_market == opportunity.buy_market:
                del self._open[key]
        else:
            self._open[key] = opportunity

    def views(self) -> tuple[SpreadView, ...]:
        names = self.prices.market_names
        now_s = self.clock.now_s
        views: list[SpreadView] = []
        for i, market_a in enumerate(names):
            for market_b in names[i + 1 :]:
                key = _pair_key(market_a, market_b)
                opportunity = self._open.get(key)
                if opportunity is not None:
                    views.append(self._open_view(key, opportunity, now_s))
                else:
                    views.append(self._indicative(market_a, market_b))
        views.sort(key=_by_net_desc)
        return tuple(views)

    def _open_view(
        self, key: tuple[str, str], opportunity: SpreadOpportunity, now_s: float
    ) -> SpreadView:
        """The open pair's view, the last one again while its opportunity and the whole
        second it has been open for (all the pane shows of it) are the same: at 40
        zones most of the 780 pairs are open, and building each anew every frame
        was most of the snapshot's time under a flood."""
        open_for_s = _open_for_s(opportunity, now_s)
        held = self._open_views.get(key)
        if held is not None and held[0] is opportunity and held[1] == int(open_for_s):
            return held[2]
        view = _open_view(opportunity, open_for_s)
        self._open_views[key] = (opportunity, int(open_for_s), view)
        return view

    def _indicative(self, market_a: str, market_b: str) -> SpreadView:
        markets, now_s = self.prices.markets, self.clock.now_s
        state_a, state_b = markets[market_a], markets[market_b]
        price_a, price_b = state_a.last_price, state_b.last_price
        stale = False
        if price_a is None and price_b is None:
            # A day-ahead-only feed: the spread between this period's auction prices.
            price_a = day_ahead_at(state_a, now_s)
            price_b = day_ahead_at(state_b, now_s)
        elif price_a is not None and price_b is not None:
            oldest_s = min(state_a.last_ts_s, state_b.last_ts_s)
            stale = now_s - oldest_s > self.prices.stale_after_s
        if price_a is None or price_b is None:
            return SpreadView(market_a, market_b, price_a, price_b)
        candidates = []
        for buy, sell, buy_price, sell_price in (
            (market_a, market_b, price_a, price_b),
            (market_b, market_a, price_b, price_a),
        ):
            cost = self.costs.get((buy, sell))
            spread = sell_price - buy_price
            net = None if cost is None else spread - cost
            right = self._right_prices.get((buy, sell))
            candidates.append(
                SpreadView(
                    buy,
                    sell,
                    buy_price,
                    sell_price,
                    spread,
                    cost,
                    net,
                    stale=stale,
                    right_price_eur_mwh=right,
                    net_of_right_eur_mwh=None if right is None else max(spread, 0.0) - right,
                )
            )
        return max(candidates, key=_indicative_rank)


def _pair_key(market_a: str, market_b: str) -> tuple[str, str]:
    return (market_a, market_b) if market_a <= market_b else (market_b, market_a)


def _open_for_s(opportunity: SpreadOpportunity, now_s: float) -> float:
    """How long the opportunity has been open at ``now_s`` (its own duration before a clock)."""
    if not math.isfinite(now_s):
        return opportunity.duration_s
    return max(opportunity.duration_s, now_s - opportunity.opened_at.timestamp())


def _open_view(opportunity: SpreadOpportunity, open_for_s: float) -> SpreadView:
    return SpreadView(
        buy_market=opportunity.buy_market,
        sell_market=opportunity.sell_market,
        buy_price_eur_mwh=opportunity.buy_price_eur_mwh,
        sell_price_eur_mwh=opportunity.sell_price_eur_mwh,
        spread_eur_mwh=opportunity.spread_eur_mwh,
        transmission_cost_eur_mwh=opportunity.transmission_cost_eur_mwh,
        net_spread_eur_mwh=opportunity.net_spread_eur_mwh,
        profit_eur_h=opportunity.profit_eur_h,
        right_price_eur_mwh=opportunity.right_price_eur_mwh,
        net_of_right_eur_mwh=opportunity.net_of_right_eur_mwh,
        is_open=True,
        open_for_s=open_for_s,
    )


def _indicative_rank(view: SpreadView) -> float:
    """Better direction of a pair: the higher net, or the higher spread without costs."""
    if view.net_spread_eur_mwh is not None:
        return view.net_spread_eur_mwh
    return view.spread_eur_mwh or 0.0


def _by_net_desc(view: SpreadView) -> tuple[int, float, str, str]:
    """Tradable pairs by net spread, best first; then pairs on a stale price; then unpriced."""
    net = view.net_spread_eur_mwh
    rank = 2 if net is None else 1 if view.stale else 0
    return (rank, -(net or 0.0), view.buy_market, view.sell_market)
