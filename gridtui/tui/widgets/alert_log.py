"""AlertLog: a scrolling log of alerts with time and severity, newest at the bottom.

It is fed the model's last alerts as an attribute and appends only the lines it
has not written yet (each alert carries a sequence number), so a coalesced
snapshot never writes a line twice. Each line's time is in the market's zone
(``[ui] market_timezone``) with UTC beside it, as in the status bar, when the
log is wide enough (``14:05:12 CET · 13:05:12 UTC``); narrower, the UTC time
shortens (``13:05:12Z``) and then goes, the zone's name staying.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Final

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import RichLog

from gridtui.tui.views import AlertView, Severity
from gridtui.tui.widgets.formatting import Palette, market_times

LABELS = {
    Severity.INFO: "INFO",
    Severity.WARNING: "WARN",
    Severity.CRITICAL: "CRIT",
}
# Widths from which a line's time carries UTC in full, and UTC at all.
FULL_UTC_WIDTH: Final = 100
SHORT_UTC_WIDTH: Final = 50


def alert_time(ts_form: list[str], width: int) -> str:
    """The form of :func:`market_times` a log ``width`` cells wide has room for."""
    if width >= FULL_UTC_WIDTH or len(ts_form) < 3:
        return ts_form[0]
    return ts_form[1] if width >= SHORT_UTC_WIDTH else ts_form[2]


class AlertLog(RichLog):
    """The Alerts pane: a scrolling log of alerts, newest at the bottom."""

    DEFAULT_CSS = """
    AlertLog { height: 1fr; background: transparent; }
    """

    alerts: reactive[tuple[AlertView, ...]] = reactive((), init=False)

    def __init__(
        self, *, id: str | None = None, max_lines: int = 500, market_zone: tzinfo = UTC
    ) -> None:
        super().__init__(id=id, max_lines=max_lines, wrap=True, markup=False, auto_scroll=True)
        self.last_seq = 0
        self.frame = "live"
        self.palette = Palette()
        self.market_zone = market_zone

    def on_mount(self) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())

    def show(self, alerts: tuple[AlertView, ...], frame: str = "live") -> None:
        """The alerts of one stream (live, or a rewound instant): another stream starts over."""
        if frame == self.frame:
            self.alerts = alerts
            return
        self.frame = frame
        self.clear()
        self.last_seq = 0
        self.set_reactive(AlertLog.alerts, alerts)  # written here even when equal to the last
        self.watch_alerts(alerts)

    def watch_alerts(self, alerts: tuple[AlertView, ...]) -> None:
        for alert in alerts:
            if alert.seq > self.last_seq:
                self.write(self.format(alert))
                self.last_seq = alert.seq

    def format(self, alert: AlertView, width: int | None = None) -> Text:
        """One alert's line for a log ``width`` cells wide (default: this log's).

        A log on a tab not shown yet has no width: it will have the terminal's.
        """
        if width is None:
            width = self.size.width or (self.app.size.width if self.is_attached else 0)
        when = alert_time(market_times(alert.ts, self.market_zone, seconds=True), width)
        style = {
            Severity.INFO: "dim",
            Severity.WARNING: f"bold {self.palette.warn}",
            Severity.CRITICAL: f"bold reverse {self.palette.bad}",
        }[alert.severity]
        where = f" {alert.market}" if alert.market else ""
        return Text.assemble(
            (when, "dim"),
            " ",
            (LABELS[alert.severity], style),
            " ",
            (f"{alert.rule}{where}", "bold"),
            f"  {alert.message}",
        )
