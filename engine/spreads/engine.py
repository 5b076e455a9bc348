"""Cross-border spread detection: which pair of markets is worth trading now.

This module owns the incremental detector (:class:`SpreadEngine`; the spread
math, pure and property-tested, is :func:`engine.spreads.net.net_spread`) that
turns price ticks into the lifecycle of :class:`~engine.events.SpreadOpportunity`
events: ``opened``, ``updated``, ``closed``. The kernel feeds it every
:class:`~engine.events.PriceTick` and publishes what it returns on the
``spreads`` topic; a backtest drives the same engine from a replay feed.

Each event also carries the price of this month's transmission right on the
pair's border (:mod:`engine.spreads.transmission`) and the congestion spread net of
it: the engine keeps every border's payoff from the day-ahead ticks it sees,
whatever kind it trades on, and prices rights as the arbitrage strategy does.

The engine never reads the wall clock. "Now" is the newest tick time it has seen,
or the time handed to :meth:`SpreadEngine.expire` by the caller's clock, so live
and replay behave the same.

Cost of a tick: a tick of market M re-evaluates only the pairs that contain M
(five of the fifteen pairs for six markets), with the pair lists built once at
construction. The kernel has to pass tens of thousands of ticks per second, so
the hot path touches plain lists and floats and allocates nothing but the
returned list unless an event is emitted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

from engine.events import Event, OpportunityStatus, PriceKind, PriceTick, SpreadOpportunity
from engine.spreads.config import SpreadConfig
from engine.spreads.transmission import PayoffHistory, RightsPricing, month_bounds, month_of
from engine.time_us import US_PER_MINUTE, to_us

__all__ = ["SpreadConfig", "SpreadEngine"]


_CLOSED: Final = -1  # _Pair.buy_index while no opportunity is open


class _Pair:
    """One unordered pair of markets and the opportunity open on it, if any."""

    __slots__ = (
        "buy_index",
        "cap_ab_mw",
        "cap_ba_mw",
        "cost_ab_eur_mwh",
        "cost_ba_eur_mwh",
        "index_a",
        "index_b",
        "last_net_eur_mwh",
        "last_status",
        "next_seq",
        "opened_at",
        "opened_at_s",
    )

    def __init__(
        self,
        index_a: int,
        index_b: int,
        cost_ab_eur_mwh: float,
        cost_ba_eur_mwh: float,
        cap_ab_mw: float | None,
        cap_ba_mw: float | None,
    ) -> None:
        self.index_a = index_a
        self.index_b = index_b
        self.cost_ab_eur_mwh = cost_ab_eur_mwh
        self.cost_ba_eur_mwh = cost_ba_eur_mwh
        self.cap_ab_mw = cap_ab_mw
        self.cap_ba_mw = cap_ba_mw
        self.buy_index = _CLOSED
        self.last_net_eur_mwh = 0.0
        self.last_status = OpportunityStatus.OPENED
        self.opened_at = datetime.min.replace(tzinfo=UTC)
        self.opened_at_s = 0.0
        self.next_seq = 0  # the seq of the open opportunity's next event


class SpreadEngine:
    """Incremental spread detector: feed it ticks, get opportunity events back.

    Not thread-safe; one engine belongs to one kernel task. Ticks of another
    kind than ``config.price_kind``, of unknown markets, or older than the last
    price of their market are ignored (the kernel validates ticks before this).
    """

    def __init__(self, config: SpreadConfig) -> None:
        self.config = config
        self._markets: tuple[str, ...] = tuple(config.markets)
        self._index_of: dict[str, int] = {m: i for i, m in enumerate(self._markets)}
        self._kind = config.price_kind
        self._min_net_eur_mwh = config.min_net_spread_eur_mwh
        self._max_age_s = config.max_price_age_s
        self._update_step_eur_mwh = config.update_step_eur_mwh

        count = len(self._markets)
        self._prices_eur_mwh: list[float] = [math.nan] * count
        # -inf: never seen, so stale against any time.
        self._price_ts_s: list[float] = [-math.inf] * count
        self._now_s = -math.inf
        self._now = datetime.min.replace(tzinfo=UTC)
        # A lower bound on the oldest price under any open opportunity. While the
        # freshness cut-off stays at or below it, no open opportunity can have
        # gone stale, so a tick need not look at pairs outside its market.
        self._oldest_open_price_ts_s = math.inf

        rights = config.transmission
        self._payoffs = None if rights is None else PayoffHistory(rights.directions())
        self._pricing = None if rights is None else RightsPricing(rights, self._payoffs)
        self._rights_month_end_s = -math.inf  # the right prices below are of the month before it
        self._right_prices: dict[tuple[int, int], float | None] = {}

        costs_eur_mwh = config.cost_matrix_eur_mwh()
        capacities_mw = config.capacity_matrix_mw()
        self._pairs: list[_Pair] = []
        self._links: list[list[tuple[_Pair, int]]] = [[] for _ in range(count)]
        for index_a in range(count):
            for index_b in range(index_a + 1, count):
                market_a, market_b = self._markets[index_a], self._markets[index_b]
                pair = _Pair(
                    index_a,
                    index_b,
                    costs_eur_mwh[market_a, market_b],
                    costs_eur_mwh[market_b, market_a],
                    capacities_mw.get((market_a, market_b)),
                    capacities_mw.get((market_b, market_a)),
                )
                self._pairs.append(pair)
                self._links[index_a].append((pair, index_b))
                self._links[index_b].append((pair, index_a))

    @property
    def markets(self) -> tuple[str, ...]:
        return self._markets

    def pair_count(self) -> int:
        """How many pairs are watched: n·(n−1)/2 for n markets."""
        return len(self._pairs)

    def on_tick(self, tick: PriceTick) -> list[SpreadOpportunity]:
        """Take one price tick; return the opportunity events it causes, if any."""
        kind = tick.kind
        if kind is PriceKind.DAY_AHEAD and self._payoffs is not None:
            step_us = (tick.delivery_minutes or 60) * US_PER_MINUTE
            period_us = to_us(tick.ts) // step_us * step_us
            self._payoffs.observe(tick.market, period_us, tick.price_eur_mwh)
        if kind is not self._kind and kind != self._kind:
            return []
        index = self._index_of.get(tick.market)
        if index is None:
            return []
        ts_s = tick.ts.timestamp()
        price_ts_s = self._price_ts_s
        if ts_s < price_ts_s[index]:
            return []  # older than the price we hold for this market
        self._prices_eur_mwh[index] = tick.price_eur_mwh
        price_ts_s[index] = ts_s
        if ts_s > self._now_s:
            self._now_s = ts_s
            self._now = tick.ts
        fresh_after_s = self._now_s - self._max_age_s
        events: list[SpreadOpportunity] = []

        if ts_s < fresh_after_s:
            # A late tick, already too old to trade on: it can only close.
            for pair, _other in self._links[index]:
                if pair.buy_index != _CLOSED:
                    events.append(self._close(pair))
            return events

        prices = self._prices_eur_mwh
        min_net = self._min_net_eur_mwh
        for pair, other in self._links[index]:
            if price_ts_s[other] < fresh_after_s:
                if pair.buy_index != _CLOSED:
                    events.append(self._close(pair))
                continue
            # net_spread() inlined: a call per pair is a fifth of the tick budget.
            # tests/engine/test_spreads.py checks the two agree.
            price_a = prices[pair.index_a]
            price_b = prices[pair.index_b]
            if price_a < price_b or (
                price_a == price_b and pair.cost_ab_eur_mwh <= pair.cost_ba_eur_mwh
            ):
                buy_index = pair.index_a
                net_eur_mwh = price_b - price_a - pair.cost_ab_eur_mwh
            else:
                buy_index = pair.index_b
                net_eur_mwh = price_a - price_b - pair.cost_ba_eur_mwh

            open_index = pair.buy_index
            if open_index == _CLOSED:
                if net_eur_mwh >= min_net:
                    events.append(self._open(pair, buy_index))
            elif open_index != buy_index:
                # The cheap side flipped: that is another trade, not an update.
                events.append(self._close(pair))
                if net_eur_mwh >= min_net:
                    events.append(self._open(pair, buy_index))
            elif net_eur_mwh < min_net:
                events.append(self._close(pair))
            elif abs(net_eur_mwh - pair.last_net_eur_mwh) >= self._update_step_eur_mwh:
                events.append(self._update(pair))

        if fresh_after_s > self._oldest_open_price_ts_s:
            events.extend(self._close_stale(fresh_after_s))
        return events

    def on_ticks(self, ticks: Iterable[PriceTick]) -> list[SpreadOpportunity]:
        """Take a batch of ticks in time order; return all their events in order."""
        events: list[SpreadOpportunity] = []
        for tick in ticks:
            found = self.on_tick(tick)
            if found:
                events.extend(found)
        return events

    # -- the kernel's Component protocol (engine.kernel) ------------------------------

    @property
    def name(self) -> str:
        return "spreads"

    def on_events(self, events: Sequence[Event], now: datetime) -> list[SpreadOpportunity]:
        """Take a validated batch; only its price ticks matter here.

        ``now`` is unused on purpose: a tick is judged against event time, so a
        replay gives the same opportunities whatever the clock says.
        Time-driven closing is :meth:`on_timer`'s job.
        """
        opportunities: list[SpreadOpportunity] = []
        for event in events:
            if type(event) is PriceTick:
                found = self.on_tick(event)
                if found:
                    opportunities.extend(found)
        return opportunities

    def on_timer(self, now: datetime) -> list[SpreadOpportunity]:
        """The kernel's about-once-a-second call: close what went stale."""
        return self.expire(now)

    def expire(self, now: datetime) -> list[SpreadOpportunity]:
        """Advance time to ``now`` without a tick; close what has gone stale.

        The kernel calls this from its clock when a feed falls silent, so an
        opportunity resting on a dead feed's last price does not stay open.
        Time never moves backwards: a ``now`` before the newest tick is ignored.
        """
        now_s = now.timestamp()
        if now_s > self._now_s:
            self._now_s = now_s
            self._now = now
        fresh_after_s = self._now_s - self._max_age_s
        if fresh_after_s > self._oldest_open_price_ts_s:
            return self._close_stale(fresh_after_s)
        return []

    def open_opportunities(self) -> list[SpreadOpportunity]:
        """The opportunities open now at current prices, best net spread first.

        For a view that attaches late: each carries the status of its last
        event, ``ts`` = the engine's now and the duration so far.
        """
        opened = [
            self._build(pair, pair.last_status, record=False)
            for pair in self._pairs
            if pair.buy_index != _CLOSED
        ]
        opened.sort(key=lambda opportunity: opportunity.net_spread_eur_mwh, reverse=True)
        return opened

    # -- lifecycle -----------------------------------------------------------------

    def _open(self, pair: _Pair, buy_index: int) -> SpreadOpportunity:
        pair.buy_index = buy_index
        pair.opened_at = self._now
        pair.opened_at_s = self._now_s
        pair.next_seq = 0
        oldest_ts_s = min(self._price_ts_s[pair.index_a], self._price_ts_s[pair.index_b])
        if oldest_ts_s < self._oldest_open_price_ts_s:
            self._oldest_open_price_ts_s = oldest_ts_s
        return self._build(pair, OpportunityStatus.OPENED)

    def _update(self, pair: _Pair) -> SpreadOpportunity:
        pair.last_status = OpportunityStatus.UPDATED
        return self._build(pair, OpportunityStatus.UPDATED)

    def _close(self, pair: _Pair) -> SpreadOpportunity:
        closed = self._build(pair, OpportunityStatus.CLOSED)
        pair.buy_index = _CLOSED
        pair.last_status = OpportunityStatus.OPENED
        return closed

    def _close_stale(self, fresh_after_s: float) -> list[SpreadOpportunity]:
        """Close every open opportunity with a price older than the cut-off."""
        closed: list[SpreadOpportunity] = []
        oldest_open_ts_s = math.inf
        price_ts_s = self._price_ts_s
        for pair in self._pairs:
            if pair.buy_index == _CLOSED:
                continue
            oldest_ts_s = min(price_ts_s[pair.index_a], price_ts_s[pair.index_b])
            if oldest_ts_s < fresh_after_s:
                closed.append(self._close(pair))
            elif oldest_ts_s < oldest_open_ts_s:
                oldest_open_ts_s = oldest_ts_s
        self._oldest_open_price_ts_s = oldest_open_ts_s
        return closed

    def _build(
        self, pair: _Pair, status: OpportunityStatus, *, record: bool = True
    ) -> SpreadOpportunity:
        """The event for ``pair`` in its open direction, at current prices.

        A ``closed`` event carries the prices that closed it, so its net spread
        (even its spread, when the cheap side flipped) may be below zero.
        """
        if pair.buy_index == pair.index_a:
            buy_index, sell_index = pair.index_a, pair.index_b
            cost_eur_mwh, capacity_mw = pair.cost_ab_eur_mwh, pair.cap_ab_mw
        else:
            buy_index, sell_index = pair.index_b, pair.index_a
            cost_eur_mwh, capacity_mw = pair.cost_ba_eur_mwh, pair.cap_ba_mw
        buy_price = self._prices_eur_mwh[buy_index]
        sell_price = self._prices_eur_mwh[sell_index]
        spread_eur_mwh = sell_price - buy_price
        net_eur_mwh = spread_eur_mwh - cost_eur_mwh
        right_eur_mwh = self._right_price(buy_index, sell_index)
        seq = pair.next_seq
        if record:
            pair.last_net_eur_mwh = net_eur_mwh
            pair.next_seq = seq + 1
        else:  # a restatement of the last event, not a new one
            seq -= 1
        return SpreadOpportunity(
            ts=self._now,
            buy_market=self._markets[buy_index],
            sell_market=self._markets[sell_index],
            buy_price_eur_mwh=buy_price,
            sell_price_eur_mwh=sell_price,
            spread_eur_mwh=spread_eur_mwh,
            transmission_cost_eur_mwh=cost_eur_mwh,
            net_spread_eur_mwh=net_eur_mwh,
            status=status,
            opened_at=pair.opened_at,
            duration_s=self._now_s - pair.opened_at_s,
            capacity_mw=capacity_mw,
            profit_eur_h=None if capacity_mw is None else net_eur_mwh * capacity_mw,
            seq=seq,
            right_price_eur_mwh=right_eur_mwh,
            net_of_right_eur_mwh=None
            if right_eur_mwh is None
            else max(spread_eur_mwh, 0.0) - right_eur_mwh,
        )

    def _right_price(self, buy_index: int, sell_index: int) -> float | None:
        """This month's price of a right buy→sell; None without a border or a price."""
        pricing = self._pricing
        if pricing is None:
            return None
        if self._now_s >= self._rights_month_end_s:  # a new month: new auction results
            month = month_of(self._now, pricing.config.timezone)
            self._rights_month_end_s = month_bounds(month, pricing.config.timezone)[1].timestamp()
            self._right_prices.clear()
        key = (buy_index, sell_index)
        if key not in self._right_prices:
            direction = (self._markets[buy_index], self._markets[sell_index])
            month = month_of(self._now, pricing.config.timezone)
            self._right_prices[key] = pricing.price_eur_mwh(direction, month, self._now)
        return self._right_prices[key]
