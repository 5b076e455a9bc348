"""LedgerFold: the capture ledger as the Batteries and Strategies panes show it.

The ledger is not an event: the app asks the client for it
(:meth:`gridtui.client.protocol.EngineClient.capture_ledger`) when a battery
state or a settlement arrived, at most once a second (:mod:`gridtui.tui.refresh`),
and hands the answer here.
"""

from __future__ import annotations

from engine.capture.rows import LedgerSnapshot
from engine.events import BatteryState, Trade
from gridtui.tui.views import LedgerView


class LedgerFold:
    """The newest ledger snapshot, and whether events since may have moved it."""

    def __init__(self) -> None:
        self._views: tuple[LedgerView, ...] = ()
        self.stale = True  # nothing asked yet: an engine already running has a ledger

    def on_event(self, event: BatteryState | Trade) -> None:
        if isinstance(event, BatteryState) or not event.is_fill:
            self.stale = True

    def on_snapshot(self, snapshot: LedgerSnapshot) -> None:
        self.stale = False
        self._views = tuple(
            LedgerView(
                owner=row.owner,
                kind=row.kind,
                market=row.market,
                window=row.window,
                realized_eur=row.realized_eur,
                optimum_eur=row.optimum_eur,
                captured_pct=row.captured_pct,
                forecast_error_eur=row.forecast_error_eur,
                execution_eur=row.execution_eur,
                information=f"{row.realized_information} vs {row.optimum_information}"
                if row.optimum_eur is not None
                else row.realized_information,
                note=row.note,
            )
            for row in snapshot.rows
        )

    def views(self) -> tuple[LedgerView, ...]:
        return self._views
