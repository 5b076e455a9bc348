"""BatteryTable: per battery, a state-of-charge gauge, mode, power and revenue."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import BatteryView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import MarketFilteredTable, Row

MODES = {
    "charging": ("▲ charging", "good"),
    "discharging": ("▼ discharging", "warn"),
    "idle": ("■ idle", "muted"),
}


class BatteryTable(MarketFilteredTable):
    """The Batteries pane's table: charge, mode, power and revenue per battery."""

    COLUMNS = (
        ("battery", "Battery", 10),
        ("market", "Mkt", 4),
        ("soc", "State of charge", 16),
        ("mode", "Mode", 13),
        ("power", "MW", 7),
        ("revenue", "Revenue €", 10),
    )
    # Dropped in this order when the pane is narrow (the market is in most
    # battery names); the battery, its charge and its mode always show.
    DROP_ORDER = ("market", "power", "revenue")

    batteries: reactive[tuple[BatteryView, ...]] = reactive((), init=False)

    def watch_batteries(self) -> None:
        self.rebuild()

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        for view in self.batteries:
            if not self.passes(view.market):
                continue
            label, tone = MODES.get(view.mode, (view.mode, "muted"))
            mode_style = {"good": palette.good, "warn": palette.warn, "muted": "dim"}[tone]
            soc = view.soc_fraction
            soc_style = palette.warn if soc < 0.15 or soc > 0.85 else palette.accent
            rows.append(
                (
                    view.battery_id,
                    (
                        Text(view.battery_id, style="bold"),
                        Text(view.market),
                        Text.assemble((fmt.gauge(soc, 10), soc_style), f" {soc:4.0%}"),
                        Text(label, style=mode_style),
                        Text(f"{view.power_mw:7.1f}"),
                        Text(
                            f"{view.revenue_eur:10,.0f}",
                            style=palette.good if view.revenue_eur >= 0 else palette.bad,
                        ),
                    ),
                )
            )
        return rows
