"""AlertLog: a scrolling log of alerts with time and severity, newest at the bottom.

It is fed the model's last alerts as an attribute and appends only the lines it
has not written yet (each alert carries a sequence number), so a coalesced
snapshot never writes a line twice.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import RichLog

from engine.events import Severity
from gridtui.views import AlertView
from gridtui.widgets.formatting import Palette

LABELS = {
    Severity.INFO: "INFO",
    Severity.WARNING: "WARN",
    Severity.CRITICAL: "CRIT",
}


class AlertLog(RichLog):
    DEFAULT_CSS = """
    AlertLog { height: 1fr; background: transparent; }
    """

    alerts: reactive[tuple[AlertView, ...]] = reactive((), init=False)

    def __init__(self, *, id: str | None = None, max_lines: int = 500) -> None:
        super().__init__(id=id, max_lines=max_lines, wrap=True, markup=False, auto_scroll=True)
        self.last_seq = 0
        self.palette = Palette()

    def on_mount(self) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())

    def watch_alerts(self, alerts: tuple[AlertView, ...]) -> None:
        for alert in alerts:
            if alert.seq > self.last_seq:
                self.write(self.format(alert))
                self.last_seq = alert.seq

    def format(self, alert: AlertView) -> Text:
        style = {
            Severity.INFO: "dim",
            Severity.WARNING: f"bold {self.palette.warn}",
            Severity.CRITICAL: f"bold reverse {self.palette.bad}",
        }[alert.severity]
        where = f" {alert.market}" if alert.market else ""
        return Text.assemble(
            (alert.ts.strftime("%H:%M:%S"), "dim"),
            " ",
            (LABELS[alert.severity], style),
            " ",
            (f"{alert.rule}{where}", "bold"),
            f"  {alert.message}",
        )
