"""FundamentalsTable: per market, load, wind, solar, residual load and what the strategy sees.

Residual load (load − wind − solar) is what thermal plants, hydro and imports
must cover, the single number that moves prices most. "Ld fcst" is the
feed's day-ahead load forecast of the same interval (ENTSO-E publishes one;
the simulator does not: "—"). "RE sh" and "GW" are the fundamental strategy's
inputs from the same event (renewables share and load in GW); the last column
says what that strategy does in the zone. The highlighted row picks the
market the chart below it draws.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import FundamentalsView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import MarketFilteredTable, Row


class FundamentalsTable(MarketFilteredTable):
    """One row per market with fundamentals; reads ``fundamentals`` views."""

    CURSOR_WHEN_BLURRED = True

    COLUMNS = (
        ("market", "Mkt", 3),
        ("load", "Load MW", 7),
        ("load_forecast", "Ld fcst", 7),
        ("wind", "Wind", 6),
        ("solar", "Solar", 6),
        ("residual", "Residual", 8),
        ("share", "RE sh", 5),
        ("load_gw", "GW", 5),
        ("age", "Age", 6),
        ("strategy", "Strategy", 30),
    )

    fundamentals: reactive[tuple[FundamentalsView, ...]] = reactive((), init=False)

    def watch_fundamentals(self) -> None:
        self.rebuild()

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        for view in self.fundamentals:
            if not self.passes(view.market):
                continue
            muted = "dim" if view.load_mw is None else ""
            share = "—" if view.strategy_share is None else f"{view.strategy_share:.0%}"
            load_gw = "—" if view.strategy_load_gw is None else f"{view.strategy_load_gw:.1f}"
            residual_style = (
                palette.good if view.residual_mw is not None and view.residual_mw < 0 else "bold"
            )
            rows.append(
                (
                    view.market,
                    (
                        Text(view.market, style="bold"),
                        Text(fmt.mw(view.load_mw, 7), style=muted),
                        Text(fmt.mw(view.load_forecast_mw, 7), style="dim"),
                        Text(fmt.mw(view.wind_mw, 6), style=palette.accent),
                        Text(fmt.mw(view.solar_mw, 6), style=palette.warn),
                        Text(fmt.mw(view.residual_mw, 8), style=residual_style),
                        Text(share.rjust(5)),
                        Text(load_gw.rjust(5)),
                        Text(
                            "waiting…" if view.ts is None else fmt.age(view.age_s),
                            style="dim italic" if view.ts is None else "dim",
                        ),
                        Text(view.strategy_line or "— not running", style="dim"),
                    ),
                )
            )
        return rows
