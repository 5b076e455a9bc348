"""AlertFold: the Alerts log — engine alerts and feed state changes, newest last."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Final

from engine.events import Alert, Severity
from gridtui.tui.views import AlertView

MAX_ALERTS: Final = 200


class AlertFold:
    """The last :data:`MAX_ALERTS` log lines, each numbered in arrival order."""

    def __init__(self) -> None:
        self._alerts: deque[AlertView] = deque(maxlen=MAX_ALERTS)
        self._alert_seq = 0

    def on_alert(self, alert: Alert) -> None:
        self.log(alert.ts, alert.severity, alert.rule, alert.message, alert.market)

    def log(
        self,
        ts: datetime,
        severity: Severity,
        rule: str,
        message: str,
        market: str | None = None,
    ) -> None:
        self._alert_seq += 1
        self._alerts.append(AlertView(self._alert_seq, ts, severity, rule, message, market))

    def views(self) -> tuple[AlertView, ...]:
        return tuple(self._alerts)
