"""The capture ledger's component, built from the batteries the engine runs.

``gridtui.wiring.build_components`` calls :func:`capture_component` with the
components built before it: it follows every battery of the fleet and every
battery strategy (whose realized money is its settlements), and every other
strategy's realized money (:mod:`engine.capture.book`).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.battery.fleet import BatteryFleet
from engine.battery.physics import BatterySpec
from engine.capture.book import CaptureBook
from engine.capture.component import CaptureComponent
from engine.strategies.battery import BatteryStrategy
from engine.strategies.manager import StrategyManager
from gridtui.settings.loader import Settings


def capture_component(settings: Settings, components: Sequence[object]) -> CaptureComponent:
    """A :class:`CaptureComponent` over the fleet's and the strategies' batteries."""
    specs: dict[str, BatterySpec] = {}
    owners: dict[str, str] = {}
    for component in components:
        if isinstance(component, BatteryFleet):
            specs.update({unit.spec.battery_id: unit.spec for unit in component.units})
        elif isinstance(component, StrategyManager):
            for name in component.names:
                strategy = component.strategy(name)
                if isinstance(strategy, BatteryStrategy):
                    specs[strategy.spec.battery_id] = strategy.spec
                    owners[name] = strategy.spec.battery_id
    book = CaptureBook(
        specs.values(),
        fee_eur_mwh=settings.strategies.execution.fee_eur_mwh,
        strategy_batteries=owners,
        step_minutes=settings.battery.step_minutes,
    )
    return CaptureComponent(book)


def find_capture(components: Sequence[object]) -> CaptureComponent | None:
    """The engine's capture component, if it runs one."""
    for component in components:
        if isinstance(component, CaptureComponent):
            return component
    return None


__all__ = ["capture_component", "find_capture"]
