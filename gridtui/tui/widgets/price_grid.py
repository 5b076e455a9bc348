"""PriceGrid: every market's price in a few lines, grouped by region.

The compact view of the Prices pane (the ``grid`` key swaps it with the table):
with 40 zones the table is a scroll of 48 rows, while the grid fits them in a
dozen lines of ``CODE price`` cells, one block per region, so a trader sees the
whole continent at once. A stale market reads ``!`` beside its price (and dim),
one without a price a dash. It follows the dashboard's market filter like the
tables do.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.tui.views import MarketView
from gridtui.tui.widgets import formatting as fmt

CELL_WIDTH = 17  # "IT-CALA  1,234.56" and a space


class PriceGrid(Widget):
    """The Prices pane's compact grid: region by region, as many cells a line as fit."""

    DEFAULT_CSS = """
    PriceGrid {
        height: auto;
    }
    """

    markets: reactive[tuple[MarketView, ...]] = reactive((), init=False)
    market_filter: reactive[tuple[str, ...]] = reactive((), init=False)
    regions: Mapping[str, str] = {}

    def render(self) -> Text:
        per_line = max(1, (self.size.width - 8) // CELL_WIDTH)
        groups: dict[str, list[MarketView]] = {}
        for view in self.markets:
            region = self.regions.get(view.market)
            if fmt.zone_matches(view.market, region, self.market_filter):
                groups.setdefault(region or "other", []).append(view)
        out = Text(no_wrap=True, overflow="crop")
        for region, views in groups.items():
            for start in range(0, len(views), per_line):
                label = region if start == 0 else ""
                out.append(f"{label[:7]:<8}", style="bold")
                for view in views[start : start + per_line]:
                    out.append_text(self._cell(view))
                out.append("\n")
        out.rstrip()
        return out

    @staticmethod
    def _cell(view: MarketView) -> Text:
        price = fmt.price(view.price_eur_mwh, 8)
        style = "dim" if view.stale or view.price_eur_mwh is None else ""
        flag = "!" if view.stale else " "
        return Text.assemble((f"{view.market:<7}", "bold"), (price, style), (flag, "bold"), " ")
