"""The view objects the dashboard's panes are given: immutable pictures of the engine.

:class:`~gridtui.tui.view_model.DashboardModel` builds them from engine events; the
screen hands each pane its slice as attributes. They hold plain numbers and
strings (and the engine's Severity), so widgets never touch an engine object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from engine.events import (
    Severity as Severity,
)  # re-exported: widgets name severities through the views


@dataclass(frozen=True, slots=True)
class MarketView:
    """One row of the Prices pane."""

    market: str
    price_eur_mwh: float | None = None
    change_1h_eur_mwh: float | None = None
    last_tick_age_s: float | None = None
    stale: bool = False
    day_ahead_eur_mwh: float | None = None
    forecast_eur_mwh: float | None = None
    forecast_in_s: float | None = None
    """How far ahead of "now" the forecast shown is (its target time − now)."""
    forecast_warmup: tuple[int, int] | None = None
    """``(closed, needed)`` steps while the intraday forecaster warms up and no
    forecast of this market has arrived yet; None once one has (or no forecaster)."""
    forecast_step_s: int = 0
    """The warming-up forecaster's step (3600: it counts closed hours)."""
    trend: tuple[float, ...] = ()
    from_day_ahead: bool = False
    """No intraday tick yet (a day-ahead-only feed such as a replay of auction
    results): the price shown is the day-ahead price of the current period."""


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """What the price chart draws for one market; times are epoch seconds.

    ``intraday`` holds ``(bucket_start_s, last_price)``, ``day_ahead``
    ``(delivery_start_s, delivery_end_s, price)`` and ``forecast``
    ``(target_s, price, lower, upper)``; ``day_ahead_forecast`` the same for
    the day-ahead forecaster's curve of the next delivery day (once made).
    ``warmup`` is the Prices pane's "warming up" line, empty once forecasts come.
    ``day_ahead_due_s`` is when the day-ahead forecaster's curve of tomorrow is
    due while it is not there yet (else None), ``day_ahead_waits_for`` what it
    waits for (its decision time, or a closed hour of fundamentals).
    """

    market: str
    start_s: float
    now_s: float
    end_s: float
    bucket_s: float = 60.0
    intraday: tuple[tuple[float, float], ...] = ()
    day_ahead: tuple[tuple[float, float, float], ...] = ()
    forecast: tuple[tuple[float, float, float | None, float | None], ...] = ()
    day_ahead_forecast: tuple[tuple[float, float, float | None, float | None], ...] = ()
    warmup: str = ""
    day_ahead_due_s: float | None = None
    day_ahead_waits_for: str = ""


@dataclass(frozen=True, slots=True)
class FundamentalsView:
    """One row of the Fundamentals pane: a zone's demand and renewable supply, in MW.

    ``residual_mw`` = load − wind − solar: what thermal plants, hydro and imports
    must cover. ``load_forecast_mw`` is the feed's day-ahead forecast of the
    same interval's load (None: this feed publishes none). ``strategy_share``
    and ``strategy_load_gw`` are the fundamental strategy's two inputs computed
    from the same event it holds; ``strategy_line`` says what that strategy
    does in the zone (its state and holding), empty when none reports.
    """

    market: str
    ts: datetime | None = None
    source: str = ""
    age_s: float | None = None
    load_mw: float | None = None
    wind_mw: float | None = None
    solar_mw: float | None = None
    residual_mw: float | None = None
    load_forecast_mw: float | None = None
    strategy_share: float | None = None
    strategy_load_gw: float | None = None
    strategy_line: str = ""


@dataclass(frozen=True, slots=True)
class FundamentalsSeries:
    """The recent history of one zone's fundamentals, for the pane's chart (epoch s, MW)."""

    market: str
    points: tuple[tuple[float, float, float, float], ...] = ()
    """``(ts_s, load, wind, solar)``, oldest first."""


@dataclass(frozen=True, slots=True)
class SpreadView:
    """One pair of markets, in its better direction (buy low, sell high).

    ``is_open`` rows come from the engine's opportunity events; the others are
    indicative, from the latest prices and the border's transmission cost.
    ``spread_eur_mwh`` is the congestion spread (sell − buy); a trader earns it
    only through a transmission right, whose price this month is
    ``right_price_eur_mwh`` (None: no interconnector, or not priced) and
    ``net_of_right_eur_mwh`` = max(0, spread) − that price.
    """

    buy_market: str
    sell_market: str
    buy_price_eur_mwh: float | None = None
    sell_price_eur_mwh: float | None = None
    spread_eur_mwh: float | None = None
    transmission_cost_eur_mwh: float | None = None
    net_spread_eur_mwh: float | None = None
    profit_eur_h: float | None = None
    is_open: bool = False
    open_for_s: float | None = None
    stale: bool = False
    """An indicative row resting on a stale price: not tradable as shown."""
    right_price_eur_mwh: float | None = None
    net_of_right_eur_mwh: float | None = None

    @property
    def profitable(self) -> bool:
        return self.net_spread_eur_mwh is not None and self.net_spread_eur_mwh > 0


@dataclass(frozen=True, slots=True)
class BatteryView:
    """One battery as the Batteries pane shows it."""

    battery_id: str
    market: str
    soc_fraction: float
    soc_mwh: float
    power_mw: float
    mode: str
    revenue_eur: float


@dataclass(frozen=True, slots=True)
class LedgerView:
    """One ledger row (owner × window) as the Batteries and Strategies panes show it.

    None where the owner has no perfect-foresight model (``note`` says so);
    ``information`` names what the realized and the optimum figures knew.
    """

    owner: str
    kind: str
    market: str
    window: str
    realized_eur: float
    optimum_eur: float | None
    captured_pct: float | None
    forecast_error_eur: float | None
    execution_eur: float | None
    information: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class StrategyView:
    """One strategy as the Strategies pane shows it."""

    name: str
    state: str
    pnl_eur: float
    trades: int
    last_action: str
    open_mwh: tuple[tuple[str, float], ...] = ()
    """Net energy held per market, not yet delivered (its positions), in market order."""


@dataclass(frozen=True, slots=True)
class BacktestView:
    """One backtest run as the Backtests pane shows it."""

    run_id: str
    state: str
    percent: float
    events_done: int
    events_total: int
    eta_s: float | None
    elapsed_s: float
    """Simulated time the run has covered (event time): days, not what it took."""
    metrics: tuple[tuple[str, float], ...] = ()
    wall_s: float | None = None
    """Real seconds the run has taken (None: the engine did not say)."""


@dataclass(frozen=True, slots=True)
class StrategyTradesView:
    """One strategy's trades in a backtest's result: fills, volume, PnL, fees, win rate."""

    name: str
    fills: int
    volume_mwh: float
    pnl_eur: float
    fees_eur: float
    win_rate: float | None
    open_periods: int = 0


@dataclass(frozen=True, slots=True)
class BacktestResultView:
    """A stored backtest as its result screen shows it (built from the store's record).

    ``metrics`` are the report's ten headline metrics as ``(label, value text,
    tone)``, tone ``good``/``bad``/``""``; a metric that does not apply reads "n/a".
    """

    run_id: str
    state: str
    window: str
    data: str
    wall_s: float | None
    simulated_s: float | None
    metrics: tuple[tuple[str, str, str], ...]
    strategies: tuple[StrategyTradesView, ...]
    equity: tuple[tuple[float, float], ...]
    report_path: str | None
    total_trades: int = 0


@dataclass(frozen=True, slots=True)
class RerunTradeView:
    """One trade that only one side of a re-run comparison made."""

    ts: datetime
    market: str
    side: str
    volume_mwh: float
    price_eur_mwh: float
    pnl_eur: float


@dataclass(frozen=True, slots=True)
class RerunStrategyView:
    """One strategy of the re-run screen: live beside re-run, and the difference."""

    name: str
    live_trades: int
    rerun_trades: int
    same_trades: int
    live_pnl_eur: float
    rerun_pnl_eur: float
    pnl_diff_eur: float
    only_live: tuple[RerunTradeView, ...]
    only_rerun: tuple[RerunTradeView, ...]
    only_live_count: int
    only_rerun_count: int
    live_status_pnl_eur: float | None = None
    live_state_at_start: str = ""
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class RerunView:
    """The re-run comparison screen: a backtest on the recording beside what happened live."""

    run_id: str
    since: datetime
    until: datetime
    strategies: tuple[RerunStrategyView, ...]
    ticks_replayed: int = 0

    @property
    def pnl_diff_eur(self) -> float:
        return sum(s.pnl_diff_eur for s in self.strategies)


@dataclass(frozen=True, slots=True)
class AlertView:
    """One line of the alert log; ``seq`` grows by one per line ever logged."""

    seq: int
    ts: datetime
    severity: Severity
    rule: str
    message: str
    market: str | None = None


@dataclass(frozen=True, slots=True)
class FeedView:
    """The feed half of the status bar."""

    source: str = ""
    state: str = "waiting"
    last_tick_age_s: float | None = None
    events_per_s: float = 0.0
    store_up: bool = True
    store_pending: int = 0
    dropped_for_viewer: int = 0


@dataclass(frozen=True, slots=True)
class FeedHealthView:
    """One feed's row of the Feed-health pane: its one health state and the API's figures."""

    source: str
    state: str
    reason: str = ""
    since_age_s: float | None = None
    last_success_age_s: float | None = None
    budget_used: int | None = None
    budget_limit: int | None = None
    retries: int = 0
    errors: int = 0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class MarketFeedView:
    """One market's row of the Feed-health pane: where its last tick came from, how old."""

    market: str
    last_tick_age_s: float | None = None
    mtu_minutes: int | None = None
    source: str = ""
    kind: str = ""
    stale: bool = False


@dataclass(frozen=True, slots=True)
class GateView:
    """One row of the Gates pane: an auction still open in one market.

    ``orders`` names each running strategy that bids there and whether its
    orders are in; the day-ahead row also carries the last closed day-ahead
    auction's delivery day and publication status (awaiting, published, late,
    untracked).
    """

    market: str
    auction: str
    timezone: str
    delivery_day: str
    gate_closure: datetime
    seconds_to_gate: float
    orders: tuple[tuple[str, bool], ...] = ()
    publication_day: str = ""
    publication_status: str = ""


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """Everything the dashboard shows at one instant. Built by :meth:`DashboardModel.snapshot`."""

    now: datetime | None
    markets: tuple[MarketView, ...]
    charts: Mapping[str, ChartSeries]
    spreads: tuple[SpreadView, ...]
    batteries: tuple[BatteryView, ...]
    strategies: tuple[StrategyView, ...]
    backtests: tuple[BacktestView, ...]
    alerts: tuple[AlertView, ...]
    feed: FeedView
    events_applied: int
    fundamentals: tuple[FundamentalsView, ...] = ()
    fundamentals_charts: Mapping[str, FundamentalsSeries] = field(default_factory=dict)
    feeds: tuple[FeedHealthView, ...] = ()
    market_feeds: tuple[MarketFeedView, ...] = ()
    ledger: tuple[LedgerView, ...] = ()
    gates: tuple[GateView, ...] = ()
    frame: str = "live"
    """Which stream the picture comes from: "live", or the recorded instant of a rewound frame
    (a log pane starts over when it changes)."""


EMPTY_SNAPSHOT: Final = DashboardSnapshot(
    now=None,
    markets=(),
    charts={},
    spreads=(),
    batteries=(),
    strategies=(),
    backtests=(),
    alerts=(),
    feed=FeedView(),
    events_applied=0,
)
