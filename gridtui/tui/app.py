"""GridApp: the Textual dashboard over an :class:`~gridtui.client.protocol.EngineClient`.

The app owns three things and nothing else:

* the **one subscription worker**: it pulls batches with ``client.next_events``,
  folds them into a :class:`~gridtui.tui.view_model.DashboardModel`, and posts a
  :class:`~gridtui.tui.messages.DashboardUpdate` at most ``ui.refresh_hz`` times a
  second (stale updates replace each other in the queue);
* the **actions** behind every key (bound from ``[keys]`` in the TOML config,
  offered in the command palette, listed by ``?``): strategy toggles armed
  then confirmed, the kill switch, the new-backtest form, filter, pause, zoom
  (the key table is :mod:`gridtui.tui.keymap`; the strategy keys are written in
  :mod:`gridtui.tui.strategy_toggles`, the backtest key in
  :mod:`gridtui.tui.backtest_actions`);
* the engine client's lifecycle: started on mount, closed (store flushed) on quit.

Panes get data only through the screen's attributes; what the engine cannot do
yet (strategies, backtests) it says so, and the app shows that as it is.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from engine.events import PriceKind
from gridtui.client.protocol import EngineClient
from gridtui.settings.interface import KeySettings, UiSettings
from gridtui.tui.audit_actions import AuditActions
from gridtui.tui.backtest_actions import BacktestActions
from gridtui.tui.folds.prices import ForecasterNeeds
from gridtui.tui.help_rows import help_rows
from gridtui.tui.keymap import COMMANDS, STRATEGY_SLOTS, binding_id, default_bindings, keymap_for
from gridtui.tui.messages import DashboardUpdate, EngineStopped
from gridtui.tui.panes import PANES
from gridtui.tui.refresh import Refresher
from gridtui.tui.rerun_actions import RerunActions
from gridtui.tui.rewind import DAY, HOUR, Rewind
from gridtui.tui.screens.dashboard import DashboardScreen
from gridtui.tui.screens.help import HelpScreen
from gridtui.tui.strategy_toggles import ArmedToggle, StrategyToggles
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.views import FeedView
from gridtui.tui.widgets.backtest_table import BacktestTable
from gridtui.tui.widgets.formatting import literal_markup
from gridtui.tui.widgets.notice_area import Notice
from gridtui.tui.widgets.status_bar import StatusBar

log = logging.getLogger(__name__)
YOUNG_GC_THRESHOLD = 50_000
"""Objects the garbage collector lets pile up before a young collection (default 700)."""

PREFILL_TICKS: Final = 2_000


class GridApp(App[int]):
    """The gridtui dashboard. ``GridApp(client).run()``; returns the exit status."""

    # Absolute, so subclasses defined elsewhere (benchmarks) find it too.
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "gridtui"
    BINDINGS: ClassVar[list[BindingType]] = default_bindings()

    def __init__(
        self,
        client: EngineClient,
        *,
        ui: UiSettings | None = None,
        keys: KeySettings | None = None,
        freeze_gc: bool = False,
    ) -> None:
        """``freeze_gc``: once started, move every object alive then out of the
        garbage collector's sight and collect the young generation less often
        (the process owns the dashboard: set by the
        ``dashboard`` command, left off in tests that start many apps)."""
        super().__init__()
        self.client = client
        self.freeze_gc = freeze_gc
        self.ui = ui or UiSettings()
        self.keys = keys or KeySettings()
        self.set_keymap(keymap_for(self.keys))
        info = client.info
        self.model = self.new_model()
        self.dashboard = DashboardScreen(
            store=info.store,
            bus=info.bus,
            clock_mode=info.clock,
            market_timezone=self.ui.market_timezone,
            strategy_keys=self.keys.strategies[:STRATEGY_SLOTS],
            regions=info.regions,
        )
        self.paused = False
        self.frames_applied = 0
        self._quitting = False
        # The keys that act on the engine, each a small object given what it needs.
        self.toggles = StrategyToggles(
            self, client, self.model, self.dashboard, keys=self.keys, ui=self.ui
        )
        self.backtests = BacktestActions(self, client, self.model)
        self.audit = AuditActions(self, client)
        self.ledger = Refresher(
            "capture ledger",
            client.capture_ledger,
            self.model.set_ledger,
            due=lambda: self.model.ledger_stale,  # only once it may have moved
        )
        self.cockpit = Refresher("cockpit", client.cockpit, self.model.set_cockpit)
        self.rewind = Rewind(
            self,
            self.dashboard,
            self.model,
            self.post_frame,
            client,
            self.new_model,
            ZoneInfo(self.ui.market_timezone),
        )
        self.reruns = RerunActions(
            self, self.rewind, self.keys, self.model, client, ZoneInfo(self.ui.market_timezone)
        )

    def new_model(self) -> DashboardModel:
        """An empty dashboard model for this engine (the live one, or a rewound frame's)."""
        info = self.client.info
        return DashboardModel(
            info.markets,
            self.client.transmission_costs(),
            stale_after_s=self.ui.stale_after_s,
            chart_hours=self.ui.chart_hours,
            forecasters=[
                ForecasterNeeds(
                    f.model_id, f.task, f.step_s, f.warmup_steps, f.decision_time, f.timezone
                )
                for f in info.forecasters
            ],
        )

    @property
    def armed(self) -> ArmedToggle | None:
        """The strategy toggle waiting for its confirmation, if any."""
        return self.toggles.armed

    # -- the actions the controllers own ----------------------------------------------

    def action_strategy(self, slot: int) -> None:
        self.toggles.strategy(slot)

    def action_confirm(self) -> None:
        self.toggles.confirm()

    def action_kill_switch(self) -> None:
        self.toggles.kill_switch()

    def action_new_backtest(self) -> None:
        self.backtests.new_backtest()

    def on_backtest_table_run_selected(self, message: BacktestTable.RunSelected) -> None:
        self.backtests.open_run(message)

    def action_audit(self) -> None:
        self.audit.open()

    def action_rewind(self) -> None:
        self.rewind.toggle()

    def action_rewind_tick_back(self) -> None:
        self.rewind.step_tick(forward=False)

    def action_rewind_tick_forward(self) -> None:
        self.rewind.step_tick(forward=True)

    def action_rewind_hour_back(self) -> None:
        self.rewind.step(-HOUR)

    def action_rewind_hour_forward(self) -> None:
        self.rewind.step(HOUR)

    def action_rewind_day_back(self) -> None:
        self.rewind.step(-DAY)

    def action_rewind_day_forward(self) -> None:
        self.rewind.step(DAY)

    def action_go_to(self) -> None:
        self.rewind.go_to()

    def action_rerun(self) -> None:
        self.reruns.open()

    # -- lifecycle -------------------------------------------------------------------

    def on_mount(self) -> None:
        self.theme = self.ui.theme
        self.push_screen(self.dashboard)
        self.run_worker(self._run_engine(), name="engine-events", group="engine", exclusive=True)

    async def _run_engine(self) -> None:
        try:
            await self.client.start()
        except Exception as exc:  # StoreError, BusError, ConnectionError: the text says what to do
            log.exception("engine failed to start")
            self.exit(1, return_code=1, message=f"gridtui: cannot start the engine: {exc}")
            return
        await self._prefill()
        if self.freeze_gc:
            # A full collection walks the ~200k objects of Textual, numpy and the
            # engine and stalls the loop for ~80 ms; frozen, it walks only what is new.
            gc.collect()
            gc.freeze()
            # A young collection every 700 new objects moves each frame's views and
            # rows (alive for a frame, ~0.2 s) into the old generation, and under a
            # flood that set off a full collection every ~0.5 s, 12-136 ms each
            # (bench/tui_latency.py --zones 40). With this many they die young.
            _, middle, old = gc.get_threshold()
            gc.set_threshold(YOUNG_GC_THRESHOLD, middle, old)
        await self._pump()

    async def _prefill(self) -> None:
        """Load the recent history and current state, so the panes start full."""
        for market in self.model.market_names:
            for kind, limit in ((PriceKind.INTRADAY, PREFILL_TICKS), (PriceKind.DAY_AHEAD, 300)):
                try:
                    self.model.apply(await self.client.price_history(market, limit, kind))
                except Exception:
                    log.exception("could not load %s %s history; going on", market, kind.value)
        try:  # alerts, batteries, backtests…: the state an engine already running holds
            self.model.apply(await self.client.initial_events())
        except Exception:
            log.exception("could not load the engine's current state; going on")
        await self.ledger.maybe()
        await self.cockpit.maybe()

    async def _pump(self) -> None:
        """The one subscription worker: fold every batch, post at most refresh_hz frames."""
        frame_s = 1.0 / self.ui.refresh_hz
        next_frame_s = 0.0
        while True:
            try:
                events = await self.client.next_events(timeout=1.0)
                self.model.apply(events)
                wait_s = next_frame_s - time.monotonic()
                if wait_s > 0:
                    # Too early for a frame: let events pile up, then take them all at once.
                    await asyncio.sleep(wait_s)
                    self.model.apply(await self.client.next_events(timeout=0))
                await self.ledger.maybe()
                await self.cockpit.maybe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._quitting:
                    self.post_message(EngineStopped(str(exc) or type(exc).__name__))
                return
            if not self.paused:
                self.post_frame()
            next_frame_s = time.monotonic() + frame_s

    def post_frame(self) -> None:
        stats = self.client.stats()
        feed = FeedView(
            source=self.client.info.feed,
            events_per_s=stats.events_per_s,
            store_up=stats.store_up,
            store_pending=stats.pending,
            dropped_for_viewer=stats.dropped_for_viewer,
        )
        self.post_message(DashboardUpdate(self.model.snapshot(feed)))

    @property
    def status_bar(self) -> StatusBar:
        return self.dashboard.query_one(StatusBar)

    def on_dashboard_update(self, message: DashboardUpdate) -> None:
        if self.paused or self.rewind.active:  # a rewound frame stays until live again
            return
        self.dashboard.snapshot = message.snapshot
        self.frames_applied += 1
        self.backtests.ask_metrics(message.snapshot.backtests)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification; plain text unless ``markup`` (Textual's default is markup).

        Our toasts carry engine and exception text verbatim ("[ui] …", "[/]"), which
        Textual would parse as tags and crash on; none of ours is styled by markup.
        It shows in the dashboard's notice strip, not as a toast: toasts float over
        the panes (at 80×24, over the one table on screen). Textual still records
        it (``app.notifications``).
        """
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        if self.dashboard.is_mounted:
            timeout_s = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
            notice = Notice(message, title, severity, timeout_s, markup)
            self.dashboard.show_notice(notice)

    def on_engine_stopped(self, message: EngineStopped) -> None:
        self.status_bar.notice = f"engine stopped: {message.reason}"
        self.notify(message.reason, title="Engine stopped", severity="error", timeout=30)

    # -- actions ---------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit cleanly: stop the worker, close the client (flushes the store), exit 0."""
        if self._quitting:
            return
        self._quitting = True
        self.status_bar.notice = "closing: flushing the store…"
        self.workers.cancel_group(self, "engine")
        try:
            await self.client.close()
        except Exception as exc:
            log.exception("error while closing the engine")
            self.exit(1, return_code=1, message=f"gridtui: error while closing: {exc}")
            return
        self.exit(0, return_code=0)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows()))

    def action_filter(self) -> None:
        self.dashboard.open_filter()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.dashboard.paused = self.paused
        if not self.paused:
            self.post_frame()  # catch up at once with what was collected meanwhile

    def action_zoom(self) -> None:
        self.dashboard.toggle_zoom()

    def action_toggle_grid(self) -> None:
        self.dashboard.toggle_price_grid()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_cancel(self) -> None:
        """Escape: disarm a toggle; else restore a zoomed pane; else clear the filter."""
        if self.toggles.cancel():
            return
        if self.dashboard.maximized is not None:
            self.dashboard.minimize()
        else:
            self.dashboard.clear_filter()

    # -- keys, help, palette -----------------------------------------------------------

    def get_key_display(self, binding: Binding) -> str:
        if binding.id == binding_id("strategy_1") and len(self.keys.strategies) > 1:
            first, last = self.keys.strategies[0], self.keys.strategies[-1]
            return f"{super().get_key_display(binding)}…{last}" if first == "1" else first
        return super().get_key_display(binding)

    def keys_label(self, keys: str) -> str:
        return " ".join(self.get_key_display(Binding(key.strip(), "")) for key in keys.split(","))

    def help_rows(self) -> list[tuple[str, str]]:
        """``(keys, what they do)`` for the help screen, from the live key settings."""
        return help_rows(self.keys, self.keys_label)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in COMMANDS:
            callback = getattr(self, f"action_{command.action}")
            keys = self.keys_label(getattr(self.keys, command.key_field))
            # The palette reads names and help as markup, where "[/]" (the filter key) is a tag.
            yield SystemCommand(command.label, literal_markup(f"{command.help} [{keys}]"), callback)
        for slot, name in enumerate(self.model.strategy_names()[:STRATEGY_SLOTS]):
            yield SystemCommand(
                literal_markup(f"Toggle strategy {name}"),
                "Arms the toggle; confirm with the confirm key",
                partial(self.action_strategy, slot),
            )
        for pane in PANES:
            yield SystemCommand(
                f"Go to {pane.title}",
                f"Focus the {pane.title} pane",
                partial(self.dashboard.focus_pane, pane.id),
            )
