"""Strategy toggles, armed then confirmed, and the kill switch: the app's trading keys.

A toggle trades, so a number key only arms it (the row shows the warning and a
timer runs ``ui.confirm_timeout_s``); the same key or the confirm key does it,
the cancel key or the timer disarms it. The kill switch stops every strategy at
once, unarmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridtui.client.protocol import NotAvailable

if TYPE_CHECKING:
    from textual.app import App
    from textual.timer import Timer

    from gridtui.client.protocol import EngineClient
    from gridtui.settings.interface import KeySettings, UiSettings
    from gridtui.tui.screens.dashboard import DashboardScreen
    from gridtui.tui.view_model import DashboardModel


@dataclass(frozen=True, slots=True)
class ArmedToggle:
    """A strategy toggle waiting for its confirmation."""

    slot: int
    strategy: str
    turn_on: bool


class StrategyToggles:
    """The strategy keys of the dashboard: arm a toggle, confirm it, cancel it, the kill switch.

    :class:`~gridtui.tui.app.GridApp` owns one and routes its ``strategy(slot)``,
    ``confirm``, ``cancel`` and ``kill_switch`` actions here. It is given what it
    uses: the app (notifications, timers, workers), the client, the model, the
    key and UI settings, and the dashboard screen (which shows the armed toggle).
    """

    def __init__(
        self,
        app: App[int],
        client: EngineClient,
        model: DashboardModel,
        dashboard: DashboardScreen,
        *,
        keys: KeySettings,
        ui: UiSettings,
    ) -> None:
        self._app = app
        self.client = client
        self.model = model
        self.dashboard = dashboard
        self.keys = keys
        self.ui = ui
        self.armed: ArmedToggle | None = None
        self._arm_timer: Timer | None = None

    def strategy(self, slot: int) -> None:
        """A number key: arm the toggle of the strategy in that row; the same key confirms."""
        names = self.model.strategy_names()
        key = self.keys.strategies[slot] if slot < len(self.keys.strategies) else str(slot + 1)
        if slot >= len(names):
            why = (
                "no strategy is reporting: strategies arrive with the strategy engine"
                if not names
                else f"only {len(names)} strateg{'y' if len(names) == 1 else 'ies'} listed"
            )
            self._app.notify(f"Nothing on key {key}: {why}.", severity="warning")
            return
        if self.armed is not None and self.armed.slot == slot:
            self.confirm()
            return
        name = names[slot]
        turn_on = self.model.strategy_state(name) != "running"
        self._arm(ArmedToggle(slot, name, turn_on), key)

    def _arm(self, toggle: ArmedToggle, key: str) -> None:
        self._disarm()
        self.armed = toggle
        verb = "START" if toggle.turn_on else "STOP"
        confirm = self.keys.confirm.split(",")[0]
        self.dashboard.armed = (toggle.strategy, f"⚠ {verb}? {key} or {confirm}")
        self._arm_timer = self._app.set_timer(self.ui.confirm_timeout_s, self._arm_expired)
        self._app.notify(
            f"Press {key} again or {confirm} to {verb.lower()} {toggle.strategy}; "
            f"{self.keys.cancel.split(',')[0]} cancels.",
            title="Confirm strategy toggle",
            severity="warning",
            timeout=self.ui.confirm_timeout_s,
        )

    def _disarm(self) -> None:
        if self._arm_timer is not None:
            self._arm_timer.stop()
            self._arm_timer = None
        self.armed = None
        self.dashboard.armed = None

    def cancel(self) -> bool:
        """Disarm an armed toggle, saying so; False if none was armed."""
        if self.armed is None:
            return False
        self._app.notify(f"Toggle of {self.armed.strategy} cancelled.")
        self._disarm()
        return True

    def _arm_expired(self) -> None:
        if self.armed is not None:
            self._app.notify(f"Toggle of {self.armed.strategy} not confirmed: nothing changed.")
        self._disarm()

    def confirm(self) -> None:
        toggle = self.armed
        if toggle is None:
            self._app.notify("Nothing to confirm: press a strategy's number key first.")
            return
        self._disarm()
        self._app.run_worker(self._toggle(toggle), group="commands")

    async def _toggle(self, toggle: ArmedToggle) -> None:
        verb = "start" if toggle.turn_on else "stop"
        try:
            await self.client.toggle_strategy(toggle.strategy, toggle.turn_on)
        except NotAvailable as exc:
            self._app.notify(str(exc), title="Not available", severity="error")
            return
        except (KeyError, ValueError, ConnectionError) as exc:
            self._app.notify(f"Could not {verb} {toggle.strategy}: {exc}", severity="error")
            return
        self._app.notify(f"Asked the engine to {verb} {toggle.strategy}.")

    def kill_switch(self) -> None:
        self._disarm()
        self._app.run_worker(self._kill(), group="commands")

    async def _kill(self) -> None:
        try:
            await self.client.stop_all_strategies()
        except NotAvailable as exc:
            self._app.notify(str(exc), title="Kill switch", severity="error")
            return
        except ConnectionError as exc:
            self._app.notify(f"Kill switch failed: {exc}", severity="error", timeout=30)
            return
        self._app.notify("Stop sent to every strategy.", title="Kill switch", severity="warning")
