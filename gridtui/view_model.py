"""The dashboard's model: folds engine events into what the panes show.

The app's one subscription worker hands every batch it gets from the
:class:`~gridtui.client.EngineClient` to one :class:`DashboardModel`, and at most
``ui.refresh_hz`` times a second takes an immutable
:class:`~gridtui.views.DashboardSnapshot`
that flows down into the panes as attributes. Folding costs one dict write per
event, so a flood of ticks costs the UI little, and the screen is redrawn at most
ten times a second however fast the feed runs.

Time is the engine's: "now" is the newest feed-health or tick time seen, never
the wall clock, so a replay at 60x and a test with a frozen clock render alike.
Nothing here imports Textual; tests fold events and read snapshots directly.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from engine.events import (
    Alert,
    BacktestProgress,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    Severity,
    SpreadOpportunity,
    StrategyStatus,
)
from gridtui.views import (
    AlertView,
    BacktestView,
    BatteryView,
    ChartSeries,
    DashboardSnapshot,
    FeedView,
    MarketView,
    SpreadView,
    StrategyView,
)

TREND_POINTS: Final = 24
MAX_ALERTS: Final = 200
_HOUR_S: Final = 3600.0


class _MarketState:
    """What the model keeps per market: the last tick and chart buckets."""

    __slots__ = ("buckets", "day_ahead", "forecasts", "last_price", "last_ts_s")

    def __init__(self, bucket_limit: int) -> None:
        self.last_price: float | None = None
        self.last_ts_s = -math.inf
        # [bucket_start_s, last price in the bucket], oldest first.
        self.buckets: deque[list[float]] = deque(maxlen=bucket_limit)
        self.day_ahead: dict[float, tuple[float, float]] = {}  # start_s → (end_s, price)
        self.forecasts: dict[float, tuple[float, float | None, float | None]] = {}


class DashboardModel:
    """Folds events; hands out snapshots. Owned by the app's subscription worker.

    Args:
        markets: the markets configured on the engine, in display order.
        transmission_costs: EUR/MWh per ordered pair, for indicative spreads.
        stale_after_s: engine seconds after which a market's price is stale.
        chart_hours: hours of history kept for the chart.
    """

    def __init__(
        self,
        markets: Sequence[str],
        transmission_costs: Mapping[tuple[str, str], float] | None = None,
        *,
        stale_after_s: float = 60.0,
        chart_hours: float = 6.0,
    ) -> None:
        self.market_names = tuple(markets)
        self.costs = dict(transmission_costs or {})
        self.stale_after_s = stale_after_s
        self.past_s = chart_hours * _HOUR_S
        self.future_s = self.past_s / 3
        # About 360 points of history: finer than any terminal is wide.
        self.bucket_s = max(1.0, self.past_s / 360)
        self._bucket_limit = int(self.past_s / self.bucket_s) + 2
        self._markets: dict[str, _MarketState] = {
            name: _MarketState(self._bucket_limit) for name in self.market_names
        }
        self._open: dict[tuple[str, str], SpreadOpportunity] = {}
        self._batteries: dict[str, BatteryState] = {}
        self._strategies: dict[str, StrategyStatus] = {}
        self._backtests: dict[str, tuple[BacktestProgress, float]] = {}
        self._backtest_metrics: dict[str, tuple[tuple[str, float], ...]] = {}
        self._alerts: deque[AlertView] = deque(maxlen=MAX_ALERTS)
        self._alert_seq = 0
        self._feed_source = ""
        self._feed_state = "waiting"
        self._now_s = -math.inf
        self._now: datetime | None = None
        self.events_applied = 0
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            PriceTick: self._on_price,
            SpreadOpportunity: self._on_spread,
            FeedHealth: self._on_health,
            BatteryState: self._on_battery,
            StrategyStatus: self._on_strategy,
            BacktestProgress: self._on_backtest,
            Alert: self._on_alert,
            Forecast: self._on_forecast,
        }

    # -- folding ---------------------------------------------------------------

    def apply(self, events: Iterable[Event]) -> None:
        """Fold a batch of events in arrival order. Unknown event types are skipped."""
        handlers = self._handlers
        count = 0
        for event in events:
            count += 1
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
        self.events_applied += count

    def _advance(self, ts: datetime) -> None:
        ts_s = ts.timestamp()
        if ts_s > self._now_s:
            self._now_s = ts_s
            self._now = ts

    def _state(self, market: str) -> _MarketState:
        state = self._markets.get(market)
        if state is None:  # a market the engine streams but was not configured here
            state = self._markets[market] = _MarketState(self._bucket_limit)
            self.market_names = (*self.market_names, market)
        return state

    def _on_price(self, tick: PriceTick) -> None:
        state = self._state(tick.market)
        ts_s = tick.ts.timestamp()
        if tick.kind is PriceKind.DAY_AHEAD:
            minutes = tick.delivery_minutes or 60
            state.day_ahead[ts_s] = (ts_s + minutes * 60, tick.price_eur_mwh)
            if len(state.day_ahead) > 1_000:
                self._prune_day_ahead(state)
            return
        self._advance(tick.ts)
        if ts_s < state.last_ts_s:
            return  # late tick: the newer price stays
        state.last_ts_s = ts_s
        state.last_price = tick.price_eur_mwh
        bucket_start_s = ts_s - ts_s % self.bucket_s
        buckets = state.buckets
        if buckets and buckets[-1][0] == bucket_start_s:
            buckets[-1][1] = tick.price_eur_mwh
        else:
            buckets.append([bucket_start_s, tick.price_eur_mwh])

    def _prune_day_ahead(self, state: _MarketState) -> None:
        cutoff_s = self._now_s - self.past_s
        for start_s in [s for s, (end_s, _) in state.day_ahead.items() if end_s < cutoff_s]:
            del state.day_ahead[start_s]

    def _on_spread(self, opportunity: SpreadOpportunity) -> None:
        self._advance(opportunity.ts)
        key = _pair_key(opportunity.buy_market, opportunity.sell_market)
        if opportunity.status is OpportunityStatus.CLOSED:
            held = self._open.get(key)
            if held is not None and held.buy_market == opportunity.buy_market:
                del self._open[key]
        else:
            self._open[key] = opportunity

    def _on_health(self, health: FeedHealth) -> None:
        self._advance(health.ts)
        if self._feed_source and health.state != self._feed_state:
            severity = Severity.INFO if health.state == "up" else Severity.WARNING
            detail = f": {health.message}" if health.message and health.state != "up" else ""
            self._log(
                health.ts, severity, "feed", f"feed {health.source} is {health.state}{detail}"
            )
        self._feed_source = health.source
        self._feed_state = health.state

    def _on_battery(self, state: BatteryState) -> None:
        self._batteries[state.battery_id] = state

    def _on_strategy(self, status: StrategyStatus) -> None:
        self._strategies[status.strategy] = status

    def _on_backtest(self, progress: BacktestProgress) -> None:
        first_seen_s = self._backtests.get(progress.run_id, (progress, progress.ts.timestamp()))[1]
        self._backtests[progress.run_id] = (progress, first_seen_s)

    def set_backtest_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Headline metrics of a finished run (fetched by the app from the store)."""
        self._backtest_metrics[run_id] = tuple(metrics.items())

    def _on_alert(self, alert: Alert) -> None:
        self._log(alert.ts, alert.severity, alert.rule, alert.message, alert.market)

    def _on_forecast(self, forecast: Forecast) -> None:
        state = self._state(forecast.market)
        target_s = forecast.target_ts.timestamp()
        state.forecasts[target_s] = (
            forecast.price_eur_mwh,
            forecast.lower_eur_mwh,
            forecast.upper_eur_mwh,
        )
        if len(state.forecasts) > 1_000:
            cutoff_s = self._now_s - self.past_s
            for old_s in [s for s in state.forecasts if s < cutoff_s]:
                del state.forecasts[old_s]

    def _log(
        self,
        ts: datetime,
        severity: Severity,
        rule: str,
        message: str,
        market: str | None = None,
    ) -> None:
        self._alert_seq += 1
        self._alerts.append(AlertView(self._alert_seq, ts, severity, rule, message, market))

    # -- reading ---------------------------------------------------------------

    @property
    def now(self) -> datetime | None:
        return self._now

    def strategy_names(self) -> tuple[str, ...]:
        """Strategies in row order (the order the number keys follow)."""
        return tuple(sorted(self._strategies))

    def strategy_state(self, name: str) -> str | None:
        status = self._strategies.get(name)
        return None if status is None else status.state

    def snapshot(self, feed: FeedView | None = None) -> DashboardSnapshot:
        """An immutable picture of everything, for the panes."""
        now_s = self._now_s
        latest_tick_s = max((s.last_ts_s for s in self._markets.values()), default=-math.inf)
        base_feed = feed or FeedView()
        feed_view = FeedView(
            source=self._feed_source or base_feed.source,
            state=self._feed_state,
            last_tick_age_s=_age(now_s, latest_tick_s),
            events_per_s=base_feed.events_per_s,
            store_up=base_feed.store_up,
            store_pending=base_feed.store_pending,
            dropped_for_viewer=base_feed.dropped_for_viewer,
        )
        return DashboardSnapshot(
            now=self._now,
            markets=tuple(self._market_view(name) for name in self.market_names),
            charts={name: self._chart(name) for name in self.market_names},
            spreads=self._spreads(),
            batteries=tuple(
                BatteryView(
                    battery_id=b.battery_id,
                    market=b.market,
                    soc_fraction=b.soc_fraction,
                    soc_mwh=b.soc_mwh,
                    power_mw=b.power_mw,
                    mode=b.mode,
                    revenue_eur=b.revenue_eur,
                )
                for _, b in sorted(self._batteries.items())
            ),
            strategies=tuple(
                StrategyView(s.strategy, s.state, s.pnl_eur, s.trades, s.last_action)
                for _, s in sorted(self._strategies.items())
            ),
            backtests=self._backtest_views(),
            alerts=tuple(self._alerts),
            feed=feed_view,
            events_applied=self.events_applied,
        )

    def _market_view(self, name: str) -> MarketView:
        state = self._markets[name]
        now_s = self._now_s
        age_s = _age(now_s, state.last_ts_s)
        closes = [price for _, price in state.buckets]
        day_ahead = _day_ahead_at(state, now_s)
        if state.last_price is None and day_ahead is not None:
            return MarketView(
                market=name,
                price_eur_mwh=day_ahead,
                day_ahead_eur_mwh=day_ahead,
                forecast_eur_mwh=_next_forecast(state, now_s),
                from_day_ahead=True,
            )
        change = None
        if state.last_price is not None and state.buckets:
            reference = state.buckets[0][1]
            for start_s, price in reversed(state.buckets):
                if start_s <= state.last_ts_s - _HOUR_S:
                    reference = price
                    break
            change = state.last_price - reference
        return MarketView(
            market=name,
            price_eur_mwh=state.last_price,
            change_1h_eur_mwh=change,
            last_tick_age_s=age_s,
            stale=age_s is not None and age_s > self.stale_after_s,
            day_ahead_eur_mwh=day_ahead,
            forecast_eur_mwh=_next_forecast(state, now_s),
            trend=tuple(closes[-TREND_POINTS:]),
        )

    def _chart(self, name: str) -> ChartSeries:
        state = self._markets[name]
        now_s = self._now_s if math.isfinite(self._now_s) else 0.0
        start_s, end_s = now_s - self.past_s, now_s + self.future_s
        return ChartSeries(
            market=name,
            start_s=start_s,
            now_s=now_s,
            end_s=end_s,
            bucket_s=self.bucket_s,
            intraday=tuple((s, p) for s, p in state.buckets if s >= start_s),
            day_ahead=tuple(
                (s, e, p)
                for s, (e, p) in sorted(state.day_ahead.items())
                if e > start_s and s < end_s
            ),
            forecast=tuple(
                (t, p, lo, hi)
                for t, (p, lo, hi) in sorted(state.forecasts.items())
                if now_s <= t <= end_s
            ),
        )

    def _spreads(self) -> tuple[SpreadView, ...]:
        names = self.market_names
        now_s = self._now_s
        views: list[SpreadView] = []
        for i, market_a in enumerate(names):
            for market_b in names[i + 1 :]:
                opportunity = self._open.get(_pair_key(market_a, market_b))
                if opportunity is not None:
                    views.append(_open_view(opportunity, now_s))
                else:
                    views.append(self._indicative(market_a, market_b))
        views.sort(key=_by_net_desc)
        return tuple(views)

    def _indicative(self, market_a: str, market_b: str) -> SpreadView:
        state_a, state_b = self._markets[market_a], self._markets[market_b]
        price_a, price_b = state_a.last_price, state_b.last_price
        stale = False
        if price_a is None and price_b is None:
            # A day-ahead-only feed: the spread between this period's auction prices.
            price_a = _day_ahead_at(state_a, self._now_s)
            price_b = _day_ahead_at(state_b, self._now_s)
        elif price_a is not None and price_b is not None:
            oldest_s = min(state_a.last_ts_s, state_b.last_ts_s)
            stale = self._now_s - oldest_s > self.stale_after_s
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
            candidates.append(
                SpreadView(buy, sell, buy_price, sell_price, spread, cost, net, stale=stale)
            )
        return max(candidates, key=_indicative_rank)

    def _backtest_views(self) -> tuple[BacktestView, ...]:
        views = [
            BacktestView(
                run_id=progress.run_id,
                state=progress.state,
                percent=progress.percent,
                events_done=progress.events_done,
                events_total=progress.events_total,
                eta_s=progress.eta_s,
                elapsed_s=max(0.0, progress.ts.timestamp() - first_seen_s),
                metrics=self._backtest_metrics.get(progress.run_id, ()),
            )
            for progress, first_seen_s in self._backtests.values()
        ]
        views.sort(key=lambda v: (v.state != "running", v.run_id))
        return tuple(views)


def _pair_key(market_a: str, market_b: str) -> tuple[str, str]:
    return (market_a, market_b) if market_a <= market_b else (market_b, market_a)


def _age(now_s: float, then_s: float) -> float | None:
    if not math.isfinite(then_s) or not math.isfinite(now_s):
        return None
    return max(0.0, now_s - then_s)


def _day_ahead_at(state: _MarketState, now_s: float) -> float | None:
    for start_s, (end_s, price) in state.day_ahead.items():
        if start_s <= now_s < end_s:
            return price
    return None


def _next_forecast(state: _MarketState, now_s: float) -> float | None:
    upcoming = [t for t in state.forecasts if t >= now_s]
    return state.forecasts[min(upcoming)][0] if upcoming else None


def _open_view(opportunity: SpreadOpportunity, now_s: float) -> SpreadView:
    opened_s = opportunity.opened_at.timestamp()
    return SpreadView(
        buy_market=opportunity.buy_market,
        sell_market=opportunity.sell_market,
        buy_price_eur_mwh=opportunity.buy_price_eur_mwh,
        sell_price_eur_mwh=opportunity.sell_price_eur_mwh,
        spread_eur_mwh=opportunity.spread_eur_mwh,
        transmission_cost_eur_mwh=opportunity.transmission_cost_eur_mwh,
        net_spread_eur_mwh=opportunity.net_spread_eur_mwh,
        profit_eur_h=opportunity.profit_eur_h,
        is_open=True,
        open_for_s=max(opportunity.duration_s, now_s - opened_s)
        if math.isfinite(now_s)
        else opportunity.duration_s,
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
