"""CockpitTable on its own: the countdown, market time beside UTC, results, who is in.

Views as :class:`~gridtui.tui.folds.cockpit.CockpitFold` builds them from a real
GateBoard snapshot; the table is mounted in a bare app and read cell by cell.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from engine.cockpit.board import GateBoard
from engine.cockpit.orders import NoOrders
from engine.market.timeline import MarketTimeline
from gridtui.tui.folds.cockpit import CockpitFold
from gridtui.tui.views import GateView
from gridtui.tui.widgets.cockpit_table import CockpitTable, countdown

SUMMER = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # 11:30 CEST


class GatesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CockpitTable(id="gates")


def test_countdown_is_hours_minutes_seconds_and_stops_at_the_gate() -> None:
    assert [countdown(s) for s in (0, 59.9, 61, 3600, 23 * 3600 + 59 * 60 + 59, -5)] == [
        "0:00:00",
        "0:00:59",
        "0:01:01",
        "1:00:00",
        "23:59:59",
        "0:00:00",
    ]


async def test_rows_show_the_gate_in_market_time_beside_utc_and_the_results() -> None:
    board = GateBoard(MarketTimeline(), ("DE", "GB"), NoOrders())
    board.advance(SUMMER)
    fold = CockpitFold()
    fold.on_snapshot(board.snapshot(SUMMER))
    app = GatesApp()
    async with app.run_test(size=(140, 20)) as pilot:
        table = app.query_one(CockpitTable)
        table.gates = fold.views()
        await pilot.pause()
        assert table.row_keys == ("DE/DA", "DE/IDA1", "GB/DA")
        assert table.cell_text("DE/DA", "gate") == "12:00 CEST 10:00Z"
        assert table.cell_text("DE/DA", "countdown") == "0:30:00"
        assert table.cell_text("DE/IDA1", "countdown") == "3:30:00"
        assert table.cell_text("GB/DA", "gate") == "11:00 BST 10:00Z"
        # No day-ahead price seen, but the board just started: the feed's grace runs.
        assert table.cell_text("DE/DA", "results") == "07-01 awaiting"
        assert table.cell_text("DE/IDA1", "results") == ""
        assert table.cell_text("DE/DA", "orders") == "—"  # nobody bids


async def test_who_is_in_is_named_until_the_names_do_not_fit() -> None:
    gate = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    few = GateView("DE", "DA", "Europe/Brussels", "2026-07-02", gate, 60.0,
                   orders=(("battery", True), ("mining", False)))  # fmt: skip
    many = GateView("FR", "DA", "Europe/Brussels", "2026-07-02", gate, 60.0,
                    orders=(("battery", True), ("fundamental", True), ("technical", False),
                            ("mining", False)),
                    publication_day="2026-07-01", publication_status="late")  # fmt: skip
    app = GatesApp()
    async with app.run_test(size=(140, 20)) as pilot:
        table = app.query_one(CockpitTable)
        table.gates = (few, many)
        await pilot.pause()
        assert table.cell_text("DE/DA", "orders") == "battery ✓ mining ✗"
        assert table.cell_text("FR/DA", "orders") == "2/4 in ✗ technical mining"
        assert table.cell_text("FR/DA", "results") == "07-01 late"
