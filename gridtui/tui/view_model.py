"""The dashboard's model: folds engine events into what the panes show.

The app's one subscription worker hands every batch it gets from the
:class:`~gridtui.client.protocol.EngineClient` to one :class:`DashboardModel`, and at most
``ui.refresh_hz`` times a second takes an immutable
:class:`~gridtui.tui.views.DashboardSnapshot`
that flows down into the panes as attributes. Folding costs one dict write per
event, so a flood of ticks costs the UI little, and the screen is redrawn at most
ten times a second however fast the feed runs.

Time is the engine's: "now" is the newest feed-health or tick time seen, never
the wall clock, so a replay at 60x and a test with a frozen clock render alike.
Nothing here imports Textual; tests fold events and read snapshots directly.

This module dispatches events; each pane's folding lives in :mod:`gridtui.tui.folds`.
The feed's health (status bar and Feed-health pane) is the kernel's one
FeedHealth per feed (:mod:`gridtui.tui.folds.feed_health`); its changes reach the
Alerts pane as the engine's ``feed_down``/``feed_recovered`` alerts, not as a
second verdict of this model's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.capture.rows import LedgerSnapshot
from engine.cockpit.rows import CockpitSnapshot
from engine.events import (
    Alert,
    BacktestProgress,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    Fundamentals,
    PriceTick,
    SpreadOpportunity,
    StrategyStatus,
    Trade,
)
from engine.market.timeline import MarketTimeline
from gridtui.tui.folds.alerts import AlertFold
from gridtui.tui.folds.backtests import BacktestFold
from gridtui.tui.folds.batteries import BatteryFold
from gridtui.tui.folds.clock import EngineClock, age
from gridtui.tui.folds.cockpit import CockpitFold
from gridtui.tui.folds.feed_health import FeedHealthFold
from gridtui.tui.folds.fundamentals import FundamentalsFold
from gridtui.tui.folds.ledger import LedgerFold
from gridtui.tui.folds.prices import ForecasterNeeds, PriceFold
from gridtui.tui.folds.spreads import SpreadFold
from gridtui.tui.folds.strategies import StrategyFold
from gridtui.tui.views import DashboardSnapshot, FeedView


class DashboardModel:
    """Folds events; hands out snapshots. Owned by the app's subscription worker.

    Args:
        markets: the markets configured on the engine, in display order.
        transmission_costs: EUR/MWh per ordered pair, for indicative spreads.
        stale_after_s: engine seconds after which a market's price is stale.
        chart_hours: hours of history kept for the chart.
        forecasters: the engine's forecast models (the Prices pane's warm-up hint
            and which forecasts are the next day's curve).
        timeline: market rules, for the MTU of a market whose ticks do not say.
    """

    def __init__(
        self,
        markets: Sequence[str],
        transmission_costs: Mapping[tuple[str, str], float] | None = None,
        *,
        stale_after_s: float = 60.0,
        chart_hours: float = 6.0,
        forecasters: Sequence[ForecasterNeeds] = (),
        timeline: MarketTimeline | None = None,
    ) -> None:
        self._clock = EngineClock()
        self._prices = PriceFold(
            markets,
            self._clock,
            stale_after_s=stale_after_s,
            chart_hours=chart_hours,
            forecasters=forecasters,
        )
        self._fundamentals = FundamentalsFold(markets, self._clock)
        self._spreads = SpreadFold(self._prices, self._clock, transmission_costs)
        self._batteries = BatteryFold()
        self._ledger = LedgerFold()
        self._cockpit = CockpitFold()
        self._strategies = StrategyFold()
        self._backtests = BacktestFold()
        self._alerts = AlertFold()
        self._feeds = FeedHealthFold(
            self._clock, timeline or MarketTimeline(), stale_after_s=stale_after_s
        )
        self.events_applied = 0
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            PriceTick: self._on_price,
            SpreadOpportunity: self._spreads.on_spread,
            FeedHealth: self._on_health,
            BatteryState: self._on_battery,
            Trade: self._ledger.on_event,
            StrategyStatus: self._on_strategy,
            BacktestProgress: self._backtests.on_backtest,
            Alert: self._alerts.on_alert,
            Forecast: self._prices.on_forecast,
            Fundamentals: self._fundamentals.on_fundamentals,
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

    def _on_strategy(self, status: StrategyStatus) -> None:
        self._strategies.on_strategy(status)
        self._fundamentals.on_strategy(status)

    def _on_price(self, tick: PriceTick) -> None:
        self._prices.on_price(tick)
        self._feeds.on_price(tick)

    def _on_health(self, health: FeedHealth) -> None:
        self._clock.advance(health.ts)
        self._feeds.on_health(health)

    def _on_battery(self, state: BatteryState) -> None:
        self._batteries.on_battery(state)
        self._ledger.on_event(state)

    @property
    def ledger_stale(self) -> bool:
        """Whether a battery delivered or a strategy settled since the last ledger."""
        return self._ledger.stale

    def set_ledger(self, snapshot: LedgerSnapshot) -> None:
        """The capture ledger as the client answered it (:mod:`gridtui.tui.refresh`)."""
        self._ledger.on_snapshot(snapshot)

    def set_cockpit(self, snapshot: CockpitSnapshot) -> None:
        """The gate-closure cockpit as the client answered it (``gridtui.tui.refresh``)."""
        self._cockpit.on_snapshot(snapshot)

    def hold_at(self, instant: datetime) -> None:
        """Hold "now" at ``instant`` (a rewound frame: the state there, ages measured from it)."""
        self._clock.advance(instant)

    def set_backtest_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Headline metrics of a finished run (fetched by the app from the store)."""
        self._backtests.set_metrics(run_id, metrics)

    # -- reading ---------------------------------------------------------------

    @property
    def now(self) -> datetime | None:
        return self._clock.now

    @property
    def market_names(self) -> tuple[str, ...]:
        """Markets in display order: the configured ones, then any the engine streamed."""
        return self._prices.market_names

    def strategy_names(self) -> tuple[str, ...]:
        """Strategies in row order (the order the number keys follow)."""
        return self._strategies.names()

    def strategy_state(self, name: str) -> str | None:
        return self._strategies.state(name)

    def snapshot(self, feed: FeedView | None = None) -> DashboardSnapshot:
        """An immutable picture of everything, for the panes."""
        base_feed = feed or FeedView()
        health = self._feeds.latest
        feed_view = FeedView(
            source=health.source if health else base_feed.source,
            state=health.state if health else base_feed.state,
            last_tick_age_s=age(self._clock.now_s, self._prices.latest_tick_s()),
            events_per_s=base_feed.events_per_s,
            store_up=base_feed.store_up,
            store_pending=base_feed.store_pending,
            dropped_for_viewer=base_feed.dropped_for_viewer,
        )
        return DashboardSnapshot(
            now=self._clock.now,
            markets=self._prices.market_views(),
            charts=self._prices.charts(),
            spreads=self._spreads.views(),
            batteries=self._batteries.views(),
            strategies=self._strategies.views(),
            backtests=self._backtests.views(),
            alerts=self._alerts.views(),
            feed=feed_view,
            events_applied=self.events_applied,
            fundamentals=self._fundamentals.views() if not self._fundamentals.empty else (),
            fundamentals_charts=self._fundamentals.charts(),
            feeds=self._feeds.feed_views(),
            market_feeds=self._feeds.market_views(self._prices.market_names),
            ledger=self._ledger.views(),
            gates=self._cockpit.views(),
        )
