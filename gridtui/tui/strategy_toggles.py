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

    _AppBase = App[int]
else:  # a plain mixin at run time: GridApp's CSS and bindings stay exactly Textual's App's
    _AppBase = object


@dataclass(frozen=True, slots=True)
class ArmedToggle:
    """A strategy toggle waiting for its confirmation."""

    slot: int
    strategy: str
    turn_on: bool


class StrategyToggleActions(_AppBase):
    """The ``strategy(slot)``, ``confirm`` and ``kill_switch`` actions of :class:`GridApp`."""

    client: EngineClient
    model: DashboardModel
    dashboard: DashboardScreen
    ui: UiSettings
    keys: KeySettings
    armed: ArmedToggle | None
    _arm_timer: Timer | None

    def action_strategy(self, slot: int) -> None:
        """A number key: arm the toggle of the strategy in that row; the same key confirms."""
        names = self.model.strategy_names()
        key = self.keys.strategies[slot] if slot < len(self.keys.strategies) else str(slot + 1)
        if slot >= len(names):
            why = (
                "no strategy is reporting: strategies arrive with the strategy engine"
                if not names
                else f"only {len(names)} strateg{'y' if len(names) == 1 else 'ies'} listed"
            )
            self.notify(f"Nothing on key {key}: {why}.", severity="warning")
            return
        if self.armed is not None and self.armed.slot == slot:
            self.action_confirm()
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
        self._arm_timer = self.set_timer(self.ui.confirm_timeout_s, self._arm_expired)
        self.notify(
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

    def _arm_expired(self) -> None:
        if self.armed is not None:
            self.notify(f"Toggle of {self.armed.strategy} not confirmed: nothing changed.")
        self._disarm()

    def action_confirm(self) -> None:
        toggle = self.armed
        if toggle is None:
            self.notify("Nothing to confirm: press a strategy's number key first.")
            return
        self._disarm()
        self.run_worker(self._toggle(toggle), group="commands")

    async def _toggle(self, toggle: ArmedToggle) -> None:
        verb = "start" if toggle.turn_on else "stop"
        try:
            await self.client.toggle_strategy(toggle.strategy, toggle.turn_on)
        except NotAvailable as exc:
            self.notify(str(exc), title="Not available", severity="error")
            return
        except (KeyError, ValueError, ConnectionError) as exc:
            self.notify(f"Could not {verb} {toggle.strategy}: {exc}", severity="error")
            return
        self.notify(f"Asked the engine to {verb} {toggle.strategy}.")

    def action_kill_switch(self) -> None:
        self._disarm()
        self.run_worker(self._kill(), group="commands")

    async def _kill(self) -> None:
        try:
            await self.client.stop_all_strategies()
        except NotAvailable as exc:
            self.notify(str(exc), title="Kill switch", severity="error")
            return
        except ConnectionError as exc:
            self.notify(f"Kill switch failed: {exc}", severity="error", timeout=30)
            return
        self.notify("Stop sent to every strategy.", title="Kill switch", severity="warning")
