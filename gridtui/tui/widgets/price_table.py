"""PriceTable: one row per market — price, change, day-ahead, forecast, trend, age.

The forecast says how far ahead its target is (``+45m``); while the intraday
forecaster warms up the column says so, with the steps closed and needed.

The highlighted row picks the market the chart below it draws (the screen
listens for the table's ``RowHighlighted``). A market whose last tick is
older than ``ui.stale_after_s`` reads STALE in words, not only in colour.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import MarketView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import MarketFilteredTable, Row

GROUP_PREFIX = "§"
"""Region header rows are keyed ``§Nordic``: no market code starts with ``§``."""


class PriceTable(MarketFilteredTable):
    """The Prices pane's table: each market's price, change, forecast and age."""

    CURSOR_WHEN_BLURRED = True

    COLUMNS = (
        ("market", "Mkt", 3),
        ("price", "€/MWh", 8),
        ("change", "Δ 1h", 8),
        ("day_ahead", "DA now", 7),
        ("forecast", "Fcst", 7),
        ("ahead", "ahead", 5),
        ("age", "Age", 13),  # "⚠ STALE 1h04m" in full
        ("trend", "Trend", 8),
    )
    # Dropped in this order when the pane is narrow: the sparkline first (the
    # chart below draws the trend), then the forecast with its horizon; market,
    # price and age stay.
    DROP_ORDER = ("trend", "ahead", "forecast", "day_ahead", "change")

    # From this many markets on, rows are grouped by region under a header row
    # (the six default markets read better as one plain list).
    GROUP_FROM = 9

    markets: reactive[tuple[MarketView, ...]] = reactive((), init=False)

    def watch_markets(self) -> None:
        # Zone codes such as IT-NORD are wider than the three cells DE needs.
        widest = max((len(view.market) for view in self.markets), default=0)
        if self._grouped():
            widest = max(widest, *(len(region) for region in self.regions.values()))
        self.widen_column("market", widest)
        self.rebuild()

    def _grouped(self) -> bool:
        return len(self.markets) >= self.GROUP_FROM and bool(self.regions)

    def _in_groups(self) -> list[MarketView]:
        """The markets in region order (each region where its first market is listed)."""
        order: dict[str, int] = {}
        for view in self.markets:
            order.setdefault(self.regions.get(view.market, ""), len(order))
        return sorted(self.markets, key=lambda view: order[self.regions.get(view.market, "")])

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        grouped = self._grouped()
        region_shown: str | None = None
        for view in self._in_groups() if grouped else self.markets:
            if not self.passes(view.market):
                continue
            region = self.regions.get(view.market, "other")
            if grouped and region != region_shown:
                region_shown = region
                header = Text(region, style=f"bold {palette.accent}")
                rows.append((GROUP_PREFIX + region, (header, *([""] * (len(self.COLUMNS) - 1)))))
            muted = "dim" if view.stale or view.price_eur_mwh is None else ""
            change = view.change_1h_eur_mwh
            change_style = (
                ""
                if change is None or abs(change) < 0.005
                else palette.good
                if change > 0
                else palette.bad
            )
            if view.price_eur_mwh is None:
                age = Text("waiting…", style="dim italic")
            elif view.from_day_ahead:
                age = Text("day-ahead", style="dim italic")
            elif view.stale:
                age = Text(
                    f"⚠ STALE {fmt.coarse_duration(view.last_tick_age_s)}",
                    style=f"bold {palette.warn}",
                )
            else:
                age = Text(fmt.age(view.last_tick_age_s), style="dim")
            rows.append(
                (
                    view.market,
                    (
                        Text(view.market, style="bold"),
                        Text(fmt.price(view.price_eur_mwh, 8), style=f"bold {muted}".strip()),
                        Text(fmt.signed(change).rjust(8), style=change_style),
                        Text(fmt.price(view.day_ahead_eur_mwh, 7), style=muted),
                        *self._forecast_cells(view, muted),
                        age,
                        Text(fmt.sparkline(view.trend, 8), style=palette.accent),
                    ),
                )
            )
        return rows

    @staticmethod
    def _forecast_cells(view: MarketView, muted: str) -> tuple[Text, Text]:
        """The forecast and how far ahead it is, or "warm-up" with closed/needed steps."""
        if view.forecast_eur_mwh is None and view.forecast_warmup is not None:
            closed, needed = view.forecast_warmup
            unit = "h" if view.forecast_step_s == 3600 else ""
            return (
                Text("warm-up", style="dim italic"),
                Text(f"{closed}/{needed}{unit}".rjust(5), style="dim"),
            )
        return (
            Text(fmt.price(view.forecast_eur_mwh, 7), style=muted),
            Text(fmt.ahead(view.forecast_in_s).rjust(5), style="dim"),
        )
