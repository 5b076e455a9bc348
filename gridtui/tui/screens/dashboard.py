"""DashboardScreen: the cockpit — its panes, the status bar, the filter bar, the footer.

The app hands this screen one :class:`~gridtui.tui.views.DashboardSnapshot` at a
time (``snapshot``) plus the UI state it owns (``paused``, ``armed``); the screen
passes each pane its slice (the panes are declared once, in
:mod:`gridtui.tui.panes`). Widgets report upward with messages
(the filter changed, a market row was highlighted) and the screen turns them
into attributes again.

Layout follows the terminal: the panes in two or three columns on large
terminals; on small ones (80x24 over SSH) one pane at a time with a tab strip,
Tab / Shift+Tab moving between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Final
from zoneinfo import ZoneInfo

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.events import DescendantFocus, Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer

from gridtui.tui.panes import PANES, show_fundamentals, show_price_chart
from gridtui.tui.views import EMPTY_SNAPSHOT, DashboardSnapshot
from gridtui.tui.widgets.battery_table import BatteryTable
from gridtui.tui.widgets.cockpit_table import CockpitTable
from gridtui.tui.widgets.dash_table import DashTable, MarketFilteredTable
from gridtui.tui.widgets.feed_market_table import FeedMarketTable
from gridtui.tui.widgets.fundamentals_table import FundamentalsTable
from gridtui.tui.widgets.market_filter import MarketFilter
from gridtui.tui.widgets.notice_area import Notice, NoticeArea
from gridtui.tui.widgets.pane import Pane
from gridtui.tui.widgets.pane_tabs import PaneTabs
from gridtui.tui.widgets.price_grid import PriceGrid
from gridtui.tui.widgets.price_table import GROUP_PREFIX, PriceTable
from gridtui.tui.widgets.spread_table import SpreadTable
from gridtui.tui.widgets.status_bar import StatusBar
from gridtui.tui.widgets.strategy_table import StrategyTable

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
    """The cockpit screen: status bar, filter, the panes of :mod:`gridtui.tui.panes`, notices and
    footer.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "cycle_pane(1)", "Next pane", show=False),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False),
    ]

    # ``var``, not ``reactive``: a reactive on the screen repaints the whole screen
    # when it changes, so every frame was a full 160x48 render (22 ms median, 34 p90
    # at 40 zones under a flood). The watchers below hand the values to the widgets,
    # which repaint just themselves.
    snapshot: var[DashboardSnapshot] = var(EMPTY_SNAPSHOT, init=False)
    paused: var[bool] = var(False, init=False)
    rewind_at: var[datetime | None] = var(None, init=False)  # None: live
    armed: var[tuple[str, str] | None] = var(None, init=False)
    """``(strategy, prompt)`` while a strategy toggle waits for confirmation."""
    market_filter: var[tuple[str, ...]] = var((), init=False)
    layout_mode: var[str] = var("medium")
    current_pane: var[str] = var("prices")
    selected_market: var[str] = var("", init=False)

    def __init__(
        self,
        *,
        store: str = "",
        bus: str = "",
        clock_mode: str = "live",
        market_timezone: str = "Europe/Brussels",
        strategy_keys: tuple[str, ...] = (),
        regions: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._regions = dict(regions or {})
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
        tabs.titles = tuple((spec.id, spec.title) for spec in PANES)
        yield tabs
        with Grid(id="panes"):
            for spec in PANES:
                yield Pane(
                    *spec.body(self._market_zone),
                    title=spec.title,
                    empty_text=spec.empty_text,
                    id=spec.id,
                )
        yield NoticeArea(id="notices")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(StrategyTable).slot_keys = self._strategy_keys
        for table in self.query(MarketFilteredTable):
            table.regions = self._regions
        self.query_one(PriceGrid).regions = self._regions
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

        for spec in PANES:
            pane = self.pane(spec.id)
            pane.empty = spec.show(pane, snapshot, self.selected_market)

    def watch_paused(self, paused: bool) -> None:
        self.query_one(StatusBar).paused = paused

    def watch_rewind_at(self, rewind_at: datetime | None) -> None:
        self.query_one(StatusBar).rewind = rewind_at is not None
        self.set_class(rewind_at is not None, "-rewind")

    def watch_armed(self, armed: tuple[str, str] | None) -> None:
        self.query_one(StrategyTable).armed = armed

    def watch_market_filter(self, terms: tuple[str, ...]) -> None:
        self.query_one(StatusBar).market_filter = terms
        self.query_one(PriceTable).market_filter = terms
        self.query_one(PriceGrid).market_filter = terms
        self.query_one(SpreadTable).market_filter = terms
        self.query_one(BatteryTable).market_filter = terms
        self.query_one(FundamentalsTable).market_filter = terms
        self.query_one(FeedMarketTable).market_filter = terms
        self.query_one(CockpitTable).market_filter = terms

    def toggle_price_grid(self) -> None:
        """Swap the Prices pane's table for the compact grid of every market, and back."""
        self.pane("prices").toggle_class("-grid")

    def watch_selected_market(self) -> None:
        self._update_chart()

    def _update_chart(self) -> None:
        show_price_chart(self.pane("prices"), self.snapshot, self.selected_market)

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
        if not event.key.startswith(GROUP_PREFIX):  # a region's header row: keep the chart
            self.selected_market = event.key

    @on(DashTable.RowHighlighted, "#fundamentals-table")
    def _fundamentals_highlighted(self, _event: DashTable.RowHighlighted) -> None:
        show_fundamentals(self.pane("fundamentals"), self.snapshot)

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
        ids = [spec.id for spec in PANES]
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
