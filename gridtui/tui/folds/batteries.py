"""BatteryFold: the Batteries pane — the latest state of each battery."""

from __future__ import annotations

from engine.events import BatteryState
from gridtui.tui.views import BatteryView


class BatteryFold:
    """Keeps each battery's newest state; rows sorted by battery id."""

    def __init__(self) -> None:
        self._batteries: dict[str, BatteryState] = {}

    def on_battery(self, state: BatteryState) -> None:
        self._batteries[state.battery_id] = state

    def views(self) -> tuple[BatteryView, ...]:
        return tuple(
            BatteryView(
                battery_id=b.battery_id,
                market=b.market,
                soc_fraction=b.soc_fraction,
                soc_mwh=b.soc_mwh,
                power_mw=b.power_mw,
                mode=b.mode,
                revenue_eur=b.revenue_eur,
            )
            for _, b in sorted(self._batteries.items())
        )
