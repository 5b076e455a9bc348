"""CockpitFold: the gate-closure cockpit as the Gates pane shows it.

The cockpit is not an event: the app asks the client for it once a second
(:mod:`gridtui.tui.refresh`), since its countdowns move with the
engine's clock whether or not events arrive, and hands the answer here.
"""

from __future__ import annotations

from engine.cockpit.rows import CockpitSnapshot
from gridtui.tui.views import GateView


class CockpitFold:
    """The newest cockpit snapshot, one view per open auction and market."""

    def __init__(self) -> None:
        self._views: tuple[GateView, ...] = ()

    def on_snapshot(self, snapshot: CockpitSnapshot) -> None:
        views: list[GateView] = []
        for market in snapshot.markets:
            publication = market.publication
            for gate in market.gates:
                shows_results = gate.auction == "DA" and publication is not None
                views.append(
                    GateView(
                        market=market.market,
                        auction=gate.auction,
                        timezone=market.timezone,
                        delivery_day=gate.delivery_day.isoformat(),
                        gate_closure=gate.gate_closure,
                        seconds_to_gate=gate.seconds_to_gate,
                        orders=tuple((s.strategy, s.orders_in) for s in gate.strategies),
                        publication_day=publication.delivery_day.isoformat()
                        if shows_results and publication is not None
                        else "",
                        publication_status=publication.status
                        if shows_results and publication is not None
                        else "",
                    )
                )
        self._views = tuple(views)

    def views(self) -> tuple[GateView, ...]:
        return self._views
