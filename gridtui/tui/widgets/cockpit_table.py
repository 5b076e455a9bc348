"""CockpitTable: each market's next gate closures, their countdowns, and who is in.

One row per market and open auction (the day-ahead gate, and the next intraday
auction where the feed has them): the delivery day, the gate closure in the
market's time with UTC beside it, the countdown (h:mm:ss), for the day-ahead row
the last closed auction's publication status (awaiting, published, late), and
each running strategy that bids there with ✓ (orders in) or ✗ (none yet).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import GateView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import MarketFilteredTable, Row

ORDERS_WIDTH = 26


def countdown(seconds: float) -> str:
    """``h:mm:ss`` to the gate; ``0:00:00`` once it has closed."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def gate_time(gate: datetime, timezone: str) -> str:
    """``12:00 CET 11:00Z``: the market's time with UTC beside it."""
    return fmt.market_times(gate, ZoneInfo(timezone))[1 if timezone != "UTC" else 0]


class CockpitTable(MarketFilteredTable):
    """The Gates pane's table (module docstring)."""

    COLUMNS = (
        ("market", "Market", 6),
        ("auction", "Auction", 7),
        ("delivery", "Delivery", 10),
        ("gate", "Gate closes", 16),
        ("countdown", "In", 8),
        ("results", "Last results", 16),
        ("orders", "Orders in", ORDERS_WIDTH),
    )
    # Narrow panes keep what closes, when, whether results came, and who is in.
    DROP_ORDER = ("delivery", "gate")

    gates: reactive[tuple[GateView, ...]] = reactive((), init=False)

    def watch_gates(self) -> None:
        self.rebuild()

    def _results(self, view: GateView) -> Text:
        palette = self.palette
        if not view.publication_status:
            return Text("")
        style = {
            "published": palette.good,
            "awaiting": palette.warn,
            "late": f"bold {palette.bad}",
        }.get(view.publication_status, "dim")
        return Text(f"{view.publication_day[5:]} {view.publication_status}", style=style)

    def _orders(self, view: GateView) -> Text:
        palette = self.palette
        if not view.orders:
            return Text(fmt.DASH, style="dim")
        full = Text()
        for name, orders_in in view.orders:
            if full:
                full.append(" ")
            full.append(name)
            full.append(
                " ✓" if orders_in else " ✗", style=palette.good if orders_in else palette.bad
            )
        if full.cell_len <= ORDERS_WIDTH:
            return full
        # Too many to name: how many are in, and who is not.
        missing = [name for name, orders_in in view.orders if not orders_in]
        short = Text(f"{len(view.orders) - len(missing)}/{len(view.orders)} in")
        if missing:
            short.append(" ✗ " + " ".join(missing), style=palette.bad)
        return short

    def build_rows(self) -> list[Row]:
        rows: list[Row] = []
        for view in self.gates:
            if not self.passes(view.market):
                continue
            soon = view.seconds_to_gate < 3600
            rows.append(
                (
                    f"{view.market}/{view.auction}",
                    (
                        Text(view.market, style="bold"),
                        Text(view.auction),
                        Text(view.delivery_day, style="dim"),
                        Text(gate_time(view.gate_closure, view.timezone)),
                        Text(
                            countdown(view.seconds_to_gate),
                            style=f"bold {self.palette.warn}" if soon else "bold",
                        ),
                        self._results(view),
                        self._orders(view),
                    ),
                )
            )
        return rows
