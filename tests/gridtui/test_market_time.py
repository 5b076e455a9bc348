"""Market-local time beside UTC in the alert log and on the price chart's axis.

The same forms as the status bar's clock (``14:05 CET · 13:05 UTC``), shortened
where there is less room; the zone comes from ``[ui] market_timezone``.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from engine.events import Alert, Severity
from gridtui.settings.interface import UiSettings
from gridtui.tui.app import GridApp
from gridtui.tui.views import ChartSeries
from gridtui.tui.widgets.alert_log import AlertLog, alert_time
from gridtui.tui.widgets.formatting import Palette, market_times
from tests.stubs.scripted_client import ScriptedClient, settle

BRUSSELS = ZoneInfo("Europe/Brussels")
WINTER = datetime(2026, 12, 2, 13, 5, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 2, 13, 5, 12, tzinfo=UTC)


def test_market_time_goes_beside_utc_from_the_longest_form_to_the_shortest() -> None:
    assert market_times(WINTER, BRUSSELS) == [
        "14:05 CET · 13:05 UTC",
        "14:05 CET 13:05Z",
        "14:05 CET",
        "14:05",
    ]
    assert market_times(SUMMER, BRUSSELS, seconds=True)[0] == "15:05:12 CEST · 13:05:12 UTC"
    assert market_times(WINTER, ZoneInfo("Europe/London"))[0] == "13:05 GMT · 13:05 UTC"
    assert market_times(WINTER, UTC) == ["13:05 UTC", "13:05"]


@pytest.mark.parametrize(
    ("width", "shown"),
    [(120, "14:05:12 CET · 13:05:12 UTC"), (60, "14:05:12 CET 13:05:12Z"), (40, "14:05:12 CET")],
)
def test_an_alert_line_keeps_the_market_time_and_drops_utc_first(width: int, shown: str) -> None:
    assert alert_time(market_times(WINTER, BRUSSELS, seconds=True), width) == shown


@pytest.mark.parametrize(
    ("size", "shown"),
    [((160, 48), "14:05:12 CET 13:05:12Z"), ((80, 24), "14:05:12 CET 13:05:12Z")],
)
async def test_the_alert_log_shows_market_time_beside_utc(
    size: tuple[int, int], shown: str
) -> None:
    alert = Alert(
        ts=WINTER,
        rule="price_spike",
        severity=Severity.WARNING,
        message="DE jumped €40.00/MWh in 5 minutes",
        market="DE",
    )
    client = ScriptedClient([alert], markets=("DE",))
    app = GridApp(client, ui=UiSettings(market_timezone="Europe/Brussels"))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        log = app.dashboard.query_one(AlertLog)
        (view,) = app.model.snapshot().alerts
        assert log.format(view).plain.startswith(f"{shown} WARN price_spike DE")
        written = [strip.text for strip in log.lines if "price_spike" in strip.text]
        assert all(line.startswith(shown) for line in written)  # none while its tab is hidden


def axis_of(series: ChartSeries, width: int, zone: tzinfo) -> str:
    from gridtui.tui.widgets.price_chart import render_chart

    return render_chart(series, width, 12, Palette(), zone).plain.splitlines()[-1]


def test_the_chart_axis_reads_in_market_time_with_utc_where_there_is_room() -> None:
    now_s = WINTER.timestamp()
    series = ChartSeries(
        market="DE",
        start_s=now_s - 6 * 3600,
        now_s=now_s,
        end_s=now_s + 2 * 3600,
        intraday=((now_s - 600, 90.0),),
    )
    wide = axis_of(series, 120, BRUSSELS)
    assert "08:05 CET · 07:05 UTC" in wide and "16:05 CET · 15:05 UTC" in wide
    assert "now" in wide
    narrower = axis_of(series, 60, BRUSSELS)
    assert "08:05 CET" in narrower and "16:05 CET" in narrower and "UTC" not in narrower
    narrowest = axis_of(series, 40, BRUSSELS)  # the legend still names the zone
    assert "08:05" in narrowest and "16:05" in narrowest and "CET" not in narrowest
    from gridtui.tui.widgets.price_chart import render_chart

    legend = render_chart(series, 120, 12, Palette(), BRUSSELS).plain.splitlines()[0]
    assert legend.endswith("€/MWh, CET")
    assert axis_of(series, 120, UTC).count("UTC") == 2  # a UTC market: one time each
