"""The dashboard's pieces on their own: the model that folds events, the chart, formatting.

No Textual app runs here except where a widget is mounted to read its rows.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from textual.app import App, ComposeResult

from engine.events import (
    FeedHealth,
    Forecast,
    OpportunityStatus,
    PriceKind,
    PriceTick,
    SpreadOpportunity,
)
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.views import EMPTY_SNAPSHOT, FeedView, MarketView, SpreadView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.formatting import Palette
from gridtui.tui.widgets.price_chart import render_chart
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.tui.widgets.spread_table import SpreadTable
from tests.stubs.builders import T0, tick
from tests.stubs.scripted_client import NOW, dashboard_script

COSTS = {("DE", "FR"): 1.0, ("FR", "DE"): 1.0}


def opportunity(status: OpportunityStatus, *, buy="FR", sell="DE", net=9.0, at=T0):
    return SpreadOpportunity(
        ts=at,
        buy_market=buy,
        sell_market=sell,
        buy_price_eur_mwh=50.0,
        sell_price_eur_mwh=60.0,
        spread_eur_mwh=10.0,
        transmission_cost_eur_mwh=1.0,
        net_spread_eur_mwh=net,
        status=status,
        opened_at=T0,
    )


def test_model_keeps_latest_price_change_and_staleness():
    model = DashboardModel(("DE", "FR"), COSTS, stale_after_s=60)
    model.apply(
        [
            tick("DE", 40.0),
            tick("DE", 45.0, seconds=3600),
            tick("FR", 50.0),
            FeedHealth(ts=T0 + timedelta(seconds=3630), source="mock", state="up"),
        ]
    )
    de, fr = model.snapshot().markets
    assert de.price_eur_mwh == 45.0
    assert de.change_1h_eur_mwh == pytest.approx(5.0)
    assert de.last_tick_age_s == pytest.approx(30.0)
    assert not de.stale
    assert fr.stale and fr.last_tick_age_s == pytest.approx(3630.0)


def test_model_ignores_late_ticks_and_unknown_events():
    model = DashboardModel(("DE",))
    model.apply([tick("DE", 40.0, seconds=10), tick("DE", 99.0, seconds=5), object()])  # type: ignore[list-item]
    assert model.snapshot().markets[0].price_eur_mwh == 40.0
    assert model.events_applied == 3


def test_day_ahead_and_forecast_show_for_the_current_quarter():
    model = DashboardModel(("DE",))
    model.apply(
        [
            tick("DE", 70.0, kind=PriceKind.DAY_AHEAD),
            tick("DE", 80.0, kind=PriceKind.DAY_AHEAD, seconds=900),
            tick("DE", 72.0, seconds=60),
            Forecast(
                ts=T0,
                market="DE",
                target_ts=T0 + timedelta(minutes=15),
                horizon_steps=1,
                price_eur_mwh=75.0,
            ),
        ]
    )
    view = model.snapshot().markets[0]
    assert view.day_ahead_eur_mwh == 70.0  # delivery_minutes missing: an hour
    assert view.forecast_eur_mwh == 75.0
    chart = model.snapshot().charts["DE"]
    assert chart.day_ahead[0][:2] == (T0.timestamp(), T0.timestamp() + 3600)
    assert chart.forecast[0][1] == 75.0


def test_spreads_list_every_pair_open_ones_from_the_engine():
    model = DashboardModel(("DE", "FR", "NL"), {**COSTS, ("DE", "NL"): 1.0, ("NL", "DE"): 1.0})
    model.apply([tick("DE", 60.0), tick("FR", 50.0), tick("NL", 55.0)])
    model.apply([opportunity(OpportunityStatus.OPENED, at=T0 + timedelta(seconds=90))])
    spreads = model.snapshot().spreads
    assert len(spreads) == 3
    top = spreads[0]
    assert (top.buy_market, top.sell_market, top.is_open) == ("FR", "DE", True)
    assert top.open_for_s == pytest.approx(90.0)
    indicative = next(s for s in spreads if {s.buy_market, s.sell_market} == {"DE", "NL"})
    assert (indicative.buy_market, indicative.net_spread_eur_mwh) == ("NL", 4.0)
    no_cost = next(s for s in spreads if {s.buy_market, s.sell_market} == {"FR", "NL"})
    assert no_cost.net_spread_eur_mwh is None and no_cost.spread_eur_mwh == 5.0


def test_an_open_pairs_view_is_made_again_when_its_shown_second_or_its_event_changes():
    model = DashboardModel(("DE", "FR"), COSTS)
    model.apply([tick("DE", 60.0), tick("FR", 50.0)])
    model.apply([opportunity(OpportunityStatus.OPENED, at=T0 + timedelta(seconds=90))])
    first = model.snapshot().spreads[0]
    model.hold_at(T0 + timedelta(seconds=90.6))  # still second 90: the same view
    assert model.snapshot().spreads[0] is first
    model.hold_at(T0 + timedelta(seconds=91.2))
    later = model.snapshot().spreads[0]
    assert later is not first and later.open_for_s == pytest.approx(91.2)
    model.apply([opportunity(OpportunityStatus.UPDATED, net=12.0, at=T0 + timedelta(seconds=91.3))])
    updated = model.snapshot().spreads[0]
    assert updated.net_spread_eur_mwh == 12.0


def test_spreads_show_the_congestion_spread_and_its_value_net_of_the_right():
    model = DashboardModel(("DE", "FR"), COSTS)
    model.apply([tick("DE", 60.0), tick("FR", 50.0)])
    priced = msgspec.structs.replace(
        opportunity(OpportunityStatus.OPENED), right_price_eur_mwh=4.0, net_of_right_eur_mwh=6.0
    )
    model.apply([priced])
    [row] = model.snapshot().spreads
    assert (row.spread_eur_mwh, row.right_price_eur_mwh, row.net_of_right_eur_mwh) == (
        10.0,
        4.0,
        6.0,
    )
    # Closed, the pair turns indicative and keeps the right's last price: 10 − 4.
    model.apply([opportunity(OpportunityStatus.CLOSED)])
    [row] = model.snapshot().spreads
    assert not row.is_open and row.net_of_right_eur_mwh == pytest.approx(6.0)
    labels = [label for _, label, _ in SpreadTable.COLUMNS]
    assert labels[1:3] == ["Congestion", "Net of right"]


def test_a_closed_opportunity_leaves_but_a_flipped_one_stays():
    model = DashboardModel(("DE", "FR"), COSTS)
    model.apply([tick("DE", 60.0), tick("FR", 50.0)])
    model.apply([opportunity(OpportunityStatus.OPENED)])
    # The cheap side flipped: the engine opens DE→FR; a late close of FR→DE must not drop it.
    model.apply([opportunity(OpportunityStatus.OPENED, buy="DE", sell="FR")])
    model.apply([opportunity(OpportunityStatus.CLOSED)])
    assert model.snapshot().spreads[0].is_open
    model.apply([opportunity(OpportunityStatus.CLOSED, buy="DE", sell="FR")])
    assert not model.snapshot().spreads[0].is_open


def test_feed_health_is_the_kernels_one_state_and_no_second_verdict_in_alerts():
    """The feed's changes reach Alerts as the engine's feed_down/feed_recovered alerts
    only; the model adding its own "feed … is up" line was half of issue 15's item 5."""
    model = DashboardModel(("DE",))
    for seconds, state in enumerate(("up", "down", "up")):
        reason = "HTTP 503" if state == "down" else ""
        health = FeedHealth(ts=T0 + timedelta(seconds=seconds), source="mock", state=state)
        model.apply([msgspec.structs.replace(health, message=reason, since=health.ts)])
        snapshot = model.snapshot()
        assert (snapshot.feed.source, snapshot.feed.state) == ("mock", state)
        assert [(f.source, f.state, f.reason) for f in snapshot.feeds] == [("mock", state, reason)]
    assert model.snapshot().alerts == ()


def test_snapshot_carries_the_client_stats():
    model = DashboardModel(("DE",))
    model.apply([tick("DE", 1.0)])
    feed = model.snapshot(FeedView(source="mock", events_per_s=10.0, store_pending=3)).feed
    assert (feed.events_per_s, feed.store_pending, feed.last_tick_age_s) == (10.0, 3, 0.0)


def test_chart_draws_intraday_day_ahead_forecast_and_now():
    model = DashboardModel(("DE",), chart_hours=6)
    model.apply(dashboard_script(markets=("DE",)))
    series = model.snapshot().charts["DE"]
    text = render_chart(series, 80, 16, Palette()).plain
    lines = text.splitlines()
    assert len(lines) == 16
    assert all(len(line) <= 80 for line in lines)
    assert any("\u2800" < ch <= "\u28ff" for ch in text)  # braille intraday line
    assert "─" in text and "•" in text and "┊" in text
    assert lines[-1].strip().startswith("└") and "now" in lines[-1]
    assert lines[0].startswith("DE")


def test_chart_says_what_it_waits_for():
    model = DashboardModel(("DE",))
    series = model.snapshot().charts["DE"]
    assert "waiting" in render_chart(series, 80, 10, Palette()).plain
    assert "Select a market" in render_chart(None, 80, 10, Palette()).plain
    model.apply([tick("DE", 1.0)])
    small = render_chart(model.snapshot().charts["DE"], 12, 3, Palette()).plain
    assert "larger pane" in small


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (5, "5s"), (192, "3m12s"), (3840, "1h04m"), (2 * 86400 + 3 * 3600, "2d03h")],
)
def test_durations_read_like_a_trader_says_them(seconds, text):
    assert fmt.duration(seconds) == text


def test_glyphs_carry_meaning_without_colour():
    assert fmt.signed(2.5) == "▲ 2.50"
    assert fmt.signed(-2.5) == "▼ 2.50"
    assert fmt.signed(0.001) == "= 0.00"
    assert fmt.gauge(0.5, 10) == "█████░░░░░"
    assert fmt.gauge(1.2, 4) == "████"
    assert fmt.sparkline([1, 2, 3], 8) == "▁▅█"
    assert fmt.sparkline([5, 5], 8) == "▄▄"
    assert fmt.count(950) == "950"
    assert fmt.count(12_345) == "12.3k"
    assert fmt.count(4_500_000) == "4.5M"


def test_market_filter_terms_are_prefixes_and_case_blind():
    assert fmt.parse_market_filter("de, fr  nl") == ("DE", "FR", "NL")
    assert fmt.market_matches("IT-NORD", ("IT",))
    assert not fmt.market_matches("FR", ("DE",))
    assert fmt.market_matches("FR", ())


def test_palette_reads_theme_colours_and_falls_back():
    palette = Palette.from_variables({"text-success": "#00ff00aa", "error": "#ff0000"})
    assert (palette.good, palette.bad, palette.warn) == ("#00ff00", "#ff0000", "yellow")


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PriceTable(id="prices")
        yield SpreadTable(id="spreads")


async def test_tables_update_cells_in_place_and_keep_the_cursor():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(PriceTable)
        table.markets = (MarketView("DE", 50.0), MarketView("FR", 40.0))
        await pilot.pause()
        table.move_cursor(row=1)
        table.markets = (MarketView("DE", 51.0), MarketView("FR", 41.0))
        await pilot.pause()
        assert table.cursor_row == 1
        assert table.cell_text("DE", "price").strip() == "51.00"
        spreads = app.query_one(SpreadTable)
        spreads.spreads = (SpreadView("FR", "DE", 40.0, 50.0, 10.0, 1.0, 9.0, is_open=True),)
        await pilot.pause()
        spreads.market_filter = ("NL",)
        await pilot.pause()
        assert spreads.row_keys == ()
        assert EMPTY_SNAPSHOT.events_applied == 0


def test_scripted_dashboard_ends_at_now():
    assert max(event.ts for event in dashboard_script() if isinstance(event, PriceTick)) > NOW


def test_a_day_ahead_only_feed_still_shows_prices_and_spreads():
    model = DashboardModel(("DE", "FR"), COSTS)
    model.apply(
        [
            tick("DE", 70.0, kind=PriceKind.DAY_AHEAD),
            tick("FR", 60.0, kind=PriceKind.DAY_AHEAD),
            FeedHealth(ts=T0 + timedelta(minutes=5), source="replay", state="up"),
        ]
    )
    snapshot = model.snapshot()
    de = snapshot.markets[0]
    assert (de.price_eur_mwh, de.from_day_ahead, de.stale) == (70.0, True, False)
    assert snapshot.spreads[0].net_spread_eur_mwh == pytest.approx(9.0)
