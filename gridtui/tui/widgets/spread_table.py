"""SpreadTable: every pair of markets, best net opportunity first.

Open opportunities (from the engine's spread events) read ``● OPEN`` with how
long they have been open; other pairs show the indicative net from the latest
prices. Profitable rows are bold and coloured; losing ones are dim.

Two columns tell the spread from what a trader can earn of it: "Congestion"
is the spread sell − buy, which under market coupling goes to the TSOs;
"Net of right" is what a transmission right on the border earns this period
after its price (— where the pair has no interconnector or no price yet).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import SpreadView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import Cell, MarketFilteredTable, Row
from gridtui.tui.widgets.formatting import Palette

MORE_KEY = "…more"
"""The key of the last row when pairs are left out (no pair key has an ellipsis)."""


class SpreadTable(MarketFilteredTable):
    """The Spreads pane's table: every pair of markets, best net opportunity first."""

    COLUMNS = (
        ("pair", "Buy→Sell", 8),
        ("spread", "Congestion", 10),
        ("net_right", "Net of right", 12),
        ("open", "Open for", 13),
        ("buy", "Buy €", 8),
        ("sell", "Sell €", 8),
        ("right", "Right", 6),
        ("net", "Net €/MWh", 9),
        ("cost", "Cost", 4),
        ("profit", "€/h", 8),
    )
    # Dropped in this order when the pane is narrow: the inputs of the net first,
    # then congestion (it goes to the TSOs); the pair, the net and €/h always show.
    DROP_ORDER = ("right", "cost", "buy", "sell", "spread", "net_right", "open")

    # 40 zones make 780 pairs: building every row each frame costs ~60 ms of the
    # event loop (bench/tui_latency.py --zones 40), and nobody reads row 500. The
    # best MAX_ROWS (the views come best net first) are shown, then one line saying
    # how many more there are; the market filter (/) reaches any pair.
    MAX_ROWS = 60

    spreads: reactive[tuple[SpreadView, ...]] = reactive((), init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # pair → (the view, the palette, the cells made of them): the fold hands the
        # same view object back while nothing shown of the pair changed.
        self._made: dict[str, tuple[SpreadView, Palette, tuple[Cell, ...]]] = {}

    def watch_spreads(self) -> None:
        self.rebuild()

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        hidden = 0
        for view in self.spreads:
            if self.market_filter and not (
                self.passes(view.buy_market) or self.passes(view.sell_market)
            ):
                continue
            if len(rows) >= self.MAX_ROWS:
                hidden += 1
                continue
            key = "|".join(sorted((view.buy_market, view.sell_market)))
            held = self._made.get(key)
            if held is not None and held[0] is view and held[1] is palette:
                rows.append((key, held[2]))  # the same view in the same colours: same cells
                continue
            if view.is_open:
                style = f"bold {palette.good}"
            elif view.profitable and not view.stale:
                style = palette.good
            else:
                style = "dim"
            cost = view.transmission_cost_eur_mwh
            right = view.right_price_eur_mwh
            net_right = view.net_of_right_eur_mwh
            right_style = (
                "dim" if net_right is None else palette.good if net_right > 0 else palette.bad
            )
            opened = (
                Text(f"● OPEN {fmt.duration(view.open_for_s)}", style=f"bold {palette.good}")
                if view.is_open
                else Text("stale price", style=f"italic {palette.warn}")
                if view.stale
                else Text(fmt.DASH, style="dim")
            )
            cells = (
                Text(f"{view.buy_market}→{view.sell_market}", style=style),
                Text(fmt.price(view.spread_eur_mwh, 10), style=style),
                Text(fmt.price(net_right, 12), style=right_style),
                opened,
                Text(fmt.price(view.buy_price_eur_mwh, 8), style=style),
                Text(fmt.price(view.sell_price_eur_mwh, 8), style=style),
                Text(fmt.price(right, 6), style="dim"),
                Text(fmt.price(view.net_spread_eur_mwh, 9), style=style),
                Text(fmt.DASH if cost is None else f"{cost:4.1f}", style="dim"),
                Text(
                    fmt.DASH if view.profit_eur_h is None else f"{view.profit_eur_h:8,.0f}",
                    style=style,
                ),
            )
            self._made[key] = (view, palette, cells)
            rows.append((key, cells))
        if hidden:
            # Spread over the first cells: each is cut at its column's width.
            words = (f"+{hidden}", "more pairs", "/ to filter")
            more = tuple(Text(word, style="dim italic") for word in words)
            rows.append((MORE_KEY, (*more, *([""] * (len(self.COLUMNS) - len(more))))))
        return rows
