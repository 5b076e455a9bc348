"""DashboardScreen: the cockpit — seven panes, the status bar, the filter bar, the footer.

The app hands this screen one :class:`~gridtui.tui.views.DashboardSnapshot` at a
time (``snapshot``) plus the UI state it owns (``paused``, ``armed``); the screen
passes each pane its slice as attributes. Widgets report upward with messages
(the filter changed, a market row was highlighted) and the screen turns them
into attributes again.

Layout follows the terminal: the panes in two or three columns on large
terminals; on small ones (80x24 over SSH) one pane at a time with a tab strip,
Tab / Shift+Tab moving between them.
"""

from __future__ import annotations

from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.events import DescendantFocus, Resize
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from gridtui.tui.views import EMPTY_SNAPSHOT, DashboardSnapshot
from gridtui.tui.widgets.alert_log import AlertLog
from gridtui.tui.widgets.backtest_table import BacktestTable
from gridtui.tui.widgets.battery_table import BatteryTable
from gridtui.tui.widgets.dash_table import DashTable
from gridtui.tui.widgets.feed_health_table import FeedHealthTable
from gridtui.tui.widgets.feed_market_table import FeedMarketTable
from gridtui.tui.widgets.fundamentals_chart import FundamentalsChart
from gridtui.tui.widgets.fundamentals_table import FundamentalsTable
from gridtui.tui.widgets.market_filter import MarketFilter
from gridtui.tui.widgets.notice_area import Notice, NoticeArea
from gridtui.tui.widgets.pane import Pane
from gridtui.tui.widgets.pane_tabs import PaneTabs
from gridtui.tui.widgets.price_chart import PriceChart
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.tui.widgets.spread_table import SpreadTable
from gridtui.tui.widgets.status_bar import StatusBar
from gridtui.tui.widgets.strategy_table import StrategyTable

# (id, title) in display and Tab order.
PANES: Final = (
    ("prices", "Prices"),
    ("spreads", "Spreads"),
    ("alerts", "Alerts"),
    ("strategies", "Strategies"),
    ("batteries", "Batteries"),
    ("backtests", "Backtests"),
    ("fundamentals", "Fundamentals"),
    ("feed-health", "Feed health"),
)

EMPTY_TEXT: Final = {
    "prices": "Waiting for the first prices from the feed…",
    "spreads": "Waiting for prices: every pair of markets is listed here, "
    "best net opportunity first, once two markets have a price.",
    "alerts": "No alerts. Alerts from the engine's rules and feed-health "
    "changes scroll here, newest at the bottom.",
    "strategies": "No strategies reporting. Strategies arrive with the strategy engine; "
    "they list here with their number key (press it twice, or once and y, to toggle).",
    "batteries": "No batteries reporting yet. Each battery of [[battery.fleet]] in the config "
    "shows its charge, mode, power and revenue here once it dispatches its first hour.",
    "backtests": "No backtests yet. Press b for the new-backtest form; "
    "runs show here with progress, ETA and headline metrics.",
    "fundamentals": "No fundamentals yet. Load, wind, solar and residual load per market "
    "show here once the feed sends them (the simulator every quarter-hour, ENTSO-E "
    "about an hour late, with feed.fundamentals on).",
    "feed-health": "Waiting for the feed's first health report: each feed's state "
    "(up, degraded, down) with its reason shows here, and each market's last tick.",
}

COMPACT_BELOW: Final = (120, 30)
WIDE_FROM: Final = (200, 45)


def layout_for(width: int, height: int) -> str:
    """``compact`` (one pane, tabs), ``medium`` (two columns) or ``wide`` (three)."""
    if width < COMPACT_BELOW[0] or height < COMPACT_BELOW[1]:
        return "compact"
    if width >= WIDE_FROM[0] and height >= WIDE_FROM[1]:
        return "wide"
    return "medium"


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "cycle_pane(1)", "Next pane", show=False),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False),
    ]

    snapshot: reactive[DashboardSnapshot] = reactive(EMPTY_SNAPSHOT, init=False)
    paused: reactive[bool] = reactive(False, init=False)
    armed: reactive[tuple[str, str] | None] = reactive(None, init=False)
    """``(strategy, prompt)`` while a strategy toggle waits for confirmation."""
    market_filter: reactive[tuple[str, ...]] = reactive((), init=False)
    layout_mode: reactive[str] = reactive("medium")
    current_pane: reactive[str] = reactive("prices")
    selected_market: reactive[str] = reactive("", init=False)

    def __init__(
        self,
        *,
        store: str = "",
        bus: str = "",
        clock_mode: str = "live",
        market_timezone: str = "Europe/Brussels",
        strategy_keys: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self._store = store
        self._bus = bus
        self._clock_mode = clock_mode
        self._market_zone = ZoneInfo(market_timezone)
        self._strategy_keys = strategy_keys

    def compose(self) -> ComposeResult:
        status = StatusBar(id="status")
        status.store, status.bus, status.clock_mode = self._store, self._bus, self._clock_mode
        status.market_zone = self._market_zone
        yield status
        yield MarketFilter(id="market-filter")
        tabs = PaneTabs(id="pane-tabs")
        tabs.titles = PANES
        yield tabs
        bodies: dict[str, tuple[Widget, ...]] = {
            "prices": (
                PriceTable(id="price-table"),
                PriceChart(id="price-chart", market_zone=self._market_zone),
            ),
            "spreads": (SpreadTable(id="spread-table"),),
            "alerts": (AlertLog(id="alert-log", market_zone=self._market_zone),),
            "strategies": (StrategyTable(id="strategy-table"),),
            "batteries": (BatteryTable(id="battery-table"),),
            "backtests": (BacktestTable(id="backtest-table"),),
            "fundamentals": (
                FundamentalsTable(id="fundamentals-table"),
                FundamentalsChart(id="fundamentals-chart"),
            ),
            "feed-health": (
                FeedHealthTable(id="feed-health-table"),
                FeedMarketTable(id="feed-market-table"),
            ),
        }
        with Grid(id="panes"):
            for pane_id, title in PANES:
                yield Pane(
                    *bodies[pane_id], title=title, empty_text=EMPTY_TEXT[pane_id], id=pane_id
                )
        yield NoticeArea(id="notices")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(StrategyTable).slot_keys = self._strategy_keys
        self.layout_mode = layout_for(self.size.width, self.size.height)
        self.watch_current_pane(self.current_pane)
        self.focus_pane(self.current_pane)
        if self.snapshot is not EMPTY_SNAPSHOT:
            self.watch_snapshot(self.snapshot)

    # -- attributes down ---------------------------------------------------------

    def watch_snapshot(self, snapshot: DashboardSnapshot) -> None:
        if not self.query(StatusBar):
            return  # a frame before compose (a fast feed): on_mount shows it
        status = self.query_one(StatusBar)
        status.feed = snapshot.feed
        status.now = snapshot.now

        self.query_one(PriceTable).markets = snapshot.markets
        self.pane("prices").empty = all(m.price_eur_mwh is None for m in snapshot.markets)
        self._update_chart()

        self.query_one(SpreadTable).spreads = snapshot.spreads
        self.pane("spreads").empty = all(s.spread_eur_mwh is None for s in snapshot.spreads)
        self.query_one(AlertLog).alerts = snapshot.alerts
        self.pane("alerts").empty = not snapshot.alerts
        self.query_one(StrategyTable).strategies = snapshot.strategies
        self.pane("strategies").empty = not snapshot.strategies
        self.query_one(BatteryTable).batteries = snapshot.batteries
        self.pane("batteries").empty = not snapshot.batteries
        self.query_one(BacktestTable).backtests = snapshot.backtests
        self.pane("backtests").empty = not snapshot.backtests
        self._update_fundamentals(snapshot)
        self.query_one(FeedHealthTable).feeds = snapshot.feeds
        self.query_one(FeedMarketTable).markets = snapshot.market_feeds
        self.pane("feed-health").empty = not snapshot.feeds

    def watch_paused(self, paused: bool) -> None:
        self.query_one(StatusBar).paused = paused

    def watch_armed(self, armed: tuple[str, str] | None) -> None:
        self.query_one(StrategyTable).armed = armed

    def watch_market_filter(self, terms: tuple[str, ...]) -> None:
        self.query_one(StatusBar).market_filter = terms
        self.query_one(PriceTable).market_filter = terms
        self.query_one(SpreadTable).market_filter = terms
        self.query_one(BatteryTable).market_filter = terms
        self.query_one(FundamentalsTable).market_filter = terms
        self.query_one(FeedMarketTable).market_filter = terms

    def watch_selected_market(self) -> None:
        self._update_chart()

    def _update_chart(self) -> None:
        charts = self.snapshot.charts
        market = self.selected_market if self.selected_market in charts else next(iter(charts), "")
        self.query_one(PriceChart).series = charts.get(market)

    def _update_fundamentals(self, snapshot: DashboardSnapshot) -> None:
        table = self.query_one(FundamentalsTable)
        table.fundamentals = snapshot.fundamentals
        self.pane("fundamentals").empty = not snapshot.fundamentals
        charts = snapshot.fundamentals_charts
        market = table.cursor_key or ""
        self.query_one(FundamentalsChart).series = charts.get(
            market if market in charts else next(iter(charts), "")
        )

    def watch_layout_mode(self, previous: str, mode: str) -> None:
        self.remove_class(f"-{previous}")
        self.add_class(f"-{mode}")
        self.query_one(PaneTabs).display = mode == "compact"

    def watch_current_pane(self, current: str) -> None:
        for pane in self.query(Pane):
            pane.set_class(pane.id == current, "-current")
        self.query_one(PaneTabs).current = current

    # -- messages up ---------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self.layout_mode = layout_for(event.size.width, event.size.height)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        for node in event.widget.ancestors_with_self:
            if isinstance(node, Pane) and node.id:
                self.current_pane = node.id
                return

    @on(DashTable.RowHighlighted, "#price-table")
    def _market_highlighted(self, event: DashTable.RowHighlighted) -> None:
        self.selected_market = event.key

    @on(DashTable.RowHighlighted, "#fundamentals-table")
    def _fundamentals_highlighted(self, _event: DashTable.RowHighlighted) -> None:
        self._update_fundamentals(self.snapshot)

    def on_market_filter_changed(self, event: MarketFilter.Changed) -> None:
        self.market_filter = event.terms

    def on_market_filter_closed(self, _event: MarketFilter.Closed) -> None:
        self.focus_pane(self.current_pane)

    # -- actions -------------------------------------------------------------------

    def pane(self, pane_id: str) -> Pane:
        return self.query_one(f"#{pane_id}", Pane)

    def focus_pane(self, pane_id: str) -> None:
        """Make ``pane_id`` current and focus its table or log."""
        self.current_pane = pane_id
        target = self.pane(pane_id).query("DashTable, AlertLog").first()
        target.focus(scroll_visible=False)

    def action_cycle_pane(self, step: int) -> None:
        ids = [pane_id for pane_id, _ in PANES]
        index = ids.index(self.current_pane) if self.current_pane in ids else 0
        if self.maximized is not None:
            self.minimize()
        self.focus_pane(ids[(index + step) % len(ids)])

    def show_notice(self, notice: Notice) -> None:
        """Show a notification in the strip above the footer (never over a pane)."""
        self.query_one(NoticeArea).show(notice)

    def open_filter(self) -> None:
        self.query_one(MarketFilter).open()

    def clear_filter(self) -> bool:
        """Clear an active filter; True if there was one."""
        if not self.market_filter:
            return False
        self.query_one(MarketFilter).action_clear()
        return True

    def toggle_zoom(self) -> None:
        """Maximise the current pane, or restore the layout."""
        if self.maximized is not None:
            self.minimize()
        else:
            self.maximize(self.pane(self.current_pane), container=False)
