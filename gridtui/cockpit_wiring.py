"""The gate-closure cockpit's component, built from the settings and the strategy manager.

``gridtui.wiring.build_components`` calls :func:`cockpit_component` with the
components built before it; the in-process client and the daemon's
``GET /api/v1/cockpit`` find it again with :func:`find_cockpit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from engine.cockpit.board import GateBoard
from engine.cockpit.component import CockpitComponent
from engine.cockpit.config import CockpitConfig
from engine.cockpit.orders import ManagerOrders, NoOrders, OrderDesk
from engine.market.timeline import MarketTimeline
from engine.strategies.manager import StrategyManager
from gridtui.settings.loader import Settings


def cockpit_component(settings: Settings, components: Sequence[object]) -> CockpitComponent:
    """A :class:`CockpitComponent` over the configured markets and the strategies.

    ``auto``: only the simulator prices the intraday auctions (the real price
    files and ENTSO-E's day-ahead documents have none), and a replay of history
    hands over each day-ahead price at its delivery, not at its publication, so
    its publications are not watched. ENTSO-E is polled: its grace is one poll
    interval longer, since a publication shows only at the next poll.
    """
    section = settings.cockpit
    grace_s = section.late_grace_minutes * 60
    if settings.feed.kind == "entsoe":  # a polled feed sees a publication at its next poll
        grace_s += settings.entsoe.poll_interval_s
    desk: OrderDesk = NoOrders()
    for component in components:
        if isinstance(component, StrategyManager):
            desk = ManagerOrders(component)
    board = GateBoard(
        MarketTimeline(settings.market),
        settings.markets,
        desk,
        late_grace=timedelta(seconds=grace_s),
        intraday_auctions=CockpitConfig.resolve(
            section.intraday_auctions, settings.feed.kind == "mock"
        ),
        publications=CockpitConfig.resolve(section.publications, settings.feed.kind != "replay"),
    )
    return CockpitComponent(board)


def find_cockpit(components: Sequence[object]) -> CockpitComponent | None:
    """The engine's cockpit component, if it runs one."""
    for component in components:
        if isinstance(component, CockpitComponent):
            return component
    return None


__all__ = ["cockpit_component", "find_cockpit"]
