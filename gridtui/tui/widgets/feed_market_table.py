"""FeedMarketTable: per market the last tick's age, its MTU (15 or 60 minutes), kind and
source — where each market's price on the dashboard comes from, and how fresh it is."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import MarketFeedView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import MarketFilteredTable, Row


class FeedMarketTable(MarketFilteredTable):
    """One row per market: last tick age, MTU, price kind, source."""

    COLUMNS = (
        ("market", "Market", 6),
        ("age", "Last tick", 13),
        ("mtu", "MTU", 6),
        ("kind", "Kind", 10),
        ("source", "Source", 14),
    )

    markets: reactive[tuple[MarketFeedView, ...]] = reactive((), init=False)

    def watch_markets(self) -> None:
        self.rebuild()

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        for view in self.markets:
            if not self.passes(view.market):
                continue
            if view.last_tick_age_s is None:
                age = Text(fmt.DASH, style="dim")
            elif view.stale:
                age = Text(f"{fmt.age(view.last_tick_age_s)} stale", style=f"bold {palette.warn}")
            else:
                age = Text(fmt.age(view.last_tick_age_s))
            mtu = f"{view.mtu_minutes} min" if view.mtu_minutes else fmt.DASH
            rows.append(
                (
                    view.market,
                    (
                        Text(view.market, style="bold"),
                        age,
                        Text(mtu, style="" if view.mtu_minutes else "dim"),
                        Text(view.kind or fmt.DASH, style="dim"),
                        Text(view.source or fmt.DASH, style="" if view.source else "dim"),
                    ),
                )
            )
        return rows
