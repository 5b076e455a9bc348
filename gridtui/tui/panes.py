"""The dashboard's panes, each declared once: title, empty text, body, and how it reads a snapshot.

:class:`~gridtui.tui.screens.dashboard.DashboardScreen` builds its tab strip,
its pane bodies and their empty texts from :data:`PANES`, and on every snapshot
hands each pane its slice through the pane's ``show``. A new pane is one
:class:`PaneSpec` here (plus its widget and its fold), not an entry in four
tables of the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from textual.widget import Widget

from gridtui.tui.views import DashboardSnapshot
from gridtui.tui.widgets.alert_log import AlertLog
from gridtui.tui.widgets.backtest_table import BacktestTable
from gridtui.tui.widgets.battery_table import BatteryTable
from gridtui.tui.widgets.cockpit_table import CockpitTable
from gridtui.tui.widgets.feed_health_table import FeedHealthTable
from gridtui.tui.widgets.feed_market_table import FeedMarketTable
from gridtui.tui.widgets.fundamentals_chart import FundamentalsChart
from gridtui.tui.widgets.fundamentals_table import FundamentalsTable
from gridtui.tui.widgets.ledger_table import LedgerTable
from gridtui.tui.widgets.price_chart import PriceChart
from gridtui.tui.widgets.price_grid import PriceGrid
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.tui.widgets.spread_table import SpreadTable
from gridtui.tui.widgets.strategy_table import StrategyTable

# show(pane, snapshot, selected market) -> whether the pane has nothing to show
Show = Callable[[Widget, DashboardSnapshot, str], bool]


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """One pane of the dashboard.

    Attributes:
        id: the pane's widget id, and its name in keys, palette and tests.
        title: its border title and tab label.
        empty_text: what it says while it has nothing to show.
        body: builds its widgets (given the market time zone).
        show: hands the pane its slice of a snapshot; True while it is empty.
    """

    id: str
    title: str
    empty_text: str
    body: Callable[[ZoneInfo], tuple[Widget, ...]]
    show: Show


def show_price_chart(pane: Widget, snapshot: DashboardSnapshot, selected: str) -> None:
    """The selected market's chart (the first market's while none is selected)."""
    charts = snapshot.charts
    market = selected if selected in charts else next(iter(charts), "")
    pane.query_one(PriceChart).series = charts.get(market)


def _show_prices(pane: Widget, snapshot: DashboardSnapshot, selected: str) -> bool:
    pane.query_one(PriceTable).markets = snapshot.markets
    pane.query_one(PriceGrid).markets = snapshot.markets
    show_price_chart(pane, snapshot, selected)
    return all(m.price_eur_mwh is None for m in snapshot.markets)


def _show_spreads(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(SpreadTable).spreads = snapshot.spreads
    return all(s.spread_eur_mwh is None for s in snapshot.spreads)


def _show_alerts(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(AlertLog).show(snapshot.alerts, snapshot.frame)
    return not snapshot.alerts


def _show_strategies(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(StrategyTable).strategies = snapshot.strategies
    pane.query_one(LedgerTable).rows = snapshot.ledger
    return not snapshot.strategies


def _show_batteries(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(BatteryTable).batteries = snapshot.batteries
    pane.query_one(LedgerTable).rows = snapshot.ledger
    return not snapshot.batteries


def _show_backtests(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(BacktestTable).backtests = snapshot.backtests
    return not snapshot.backtests


def show_fundamentals(pane: Widget, snapshot: DashboardSnapshot, _selected: str = "") -> bool:
    """The table, and the chart of the market its cursor is on (else the first)."""
    table = pane.query_one(FundamentalsTable)
    table.fundamentals = snapshot.fundamentals
    charts = snapshot.fundamentals_charts
    market = table.cursor_key or ""
    pane.query_one(FundamentalsChart).series = charts.get(
        market if market in charts else next(iter(charts), "")
    )
    return not snapshot.fundamentals


def _show_feed_health(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(FeedHealthTable).feeds = snapshot.feeds
    pane.query_one(FeedMarketTable).markets = snapshot.market_feeds
    return not snapshot.feeds


def _show_gates(pane: Widget, snapshot: DashboardSnapshot, _selected: str) -> bool:
    pane.query_one(CockpitTable).gates = snapshot.gates
    return not snapshot.gates


# In display and Tab order.
PANES: Final = (
    PaneSpec(
        id="prices",
        title="Prices",
        empty_text="Waiting for the first prices from the feed…",
        body=lambda zone: (
            PriceTable(id="price-table"),
            PriceGrid(id="price-grid"),
            PriceChart(id="price-chart", market_zone=zone),
        ),
        show=_show_prices,
    ),
    PaneSpec(
        id="spreads",
        title="Spreads",
        empty_text="Waiting for prices: every pair of markets is listed here, "
        "best net opportunity first, once two markets have a price.",
        body=lambda _zone: (SpreadTable(id="spread-table"),),
        show=_show_spreads,
    ),
    PaneSpec(
        id="alerts",
        title="Alerts",
        empty_text="No alerts. Alerts from the engine's rules and feed-health "
        "changes scroll here, newest at the bottom.",
        body=lambda zone: (AlertLog(id="alert-log", market_zone=zone),),
        show=_show_alerts,
    ),
    PaneSpec(
        id="strategies",
        title="Strategies",
        empty_text="No strategies reporting. Strategies arrive with the strategy engine; "
        "they list here with their number key (press it twice, or once and y, to toggle).",
        body=lambda _zone: (
            StrategyTable(id="strategy-table"),
            LedgerTable(kind="strategy", id="strategy-ledger"),
        ),
        show=_show_strategies,
    ),
    PaneSpec(
        id="batteries",
        title="Batteries",
        empty_text="No batteries reporting yet. Each battery of [[battery.fleet]] in the config "
        "shows its charge, mode, power and revenue here once it dispatches its first hour.",
        body=lambda _zone: (
            BatteryTable(id="battery-table"),
            LedgerTable(kind="battery", id="battery-ledger"),
        ),
        show=_show_batteries,
    ),
    PaneSpec(
        id="backtests",
        title="Backtests",
        empty_text="No backtests yet. Press b for the new-backtest form; "
        "runs show here with progress, ETA and headline metrics.",
        body=lambda _zone: (BacktestTable(id="backtest-table"),),
        show=_show_backtests,
    ),
    PaneSpec(
        id="fundamentals",
        title="Fundamentals",
        empty_text="No fundamentals yet. Load, wind, solar and residual load per market "
        "show here once the feed sends them (the simulator every quarter-hour, ENTSO-E "
        "about an hour late, with feed.fundamentals on).",
        body=lambda _zone: (
            FundamentalsTable(id="fundamentals-table"),
            FundamentalsChart(id="fundamentals-chart"),
        ),
        show=show_fundamentals,
    ),
    PaneSpec(
        id="gates",
        title="Gates",
        empty_text="Waiting for the engine's gate-closure cockpit: each market's next "
        "day-ahead gate (12:00 CET on D−1) and intraday auction with a countdown, whether "
        "the last results are published, awaiting or late, and which strategies have "
        "orders in (✓) or not (✗). Not recorded: a rewound dashboard shows it empty.",
        body=lambda _zone: (CockpitTable(id="cockpit-table"),),
        show=_show_gates,
    ),
    PaneSpec(
        id="feed-health",
        title="Feed health",
        empty_text="Waiting for the feed's first health report: each feed's state "
        "(up, degraded, down) with its reason shows here, and each market's last tick.",
        body=lambda _zone: (
            FeedHealthTable(id="feed-health-table"),
            FeedMarketTable(id="feed-market-table"),
        ),
        show=_show_feed_health,
    ),
)

__all__ = ["PANES", "PaneSpec", "show_fundamentals", "show_price_chart"]
