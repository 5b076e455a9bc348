"""Rewind: the dashboard's flight-recorder mode — every pane as it was at a recorded instant.

The store keeps every event the engine published, so the past is one query
away (:meth:`~gridtui.client.protocol.EngineClient.state_at`, in-process or
from a daemon's ``/api/v1/recorder/state``). A rewound frame is drawn by the
live code path: the recorded events are folded into a fresh
:class:`~gridtui.tui.view_model.DashboardModel` whose clock is held at the
instant, and its snapshot goes to the same panes. Meanwhile the live model
keeps folding the live stream, so going back to live is instant and loses
nothing.

Keys (``[keys]`` in the config): ``r`` enters rewind at the engine's present
and returns to live; ``,`` / ``.`` step one recorded tick back / forward,
``[`` / ``]`` an hour, ``{`` / ``}`` a day (a step key while live enters rewind
first); ``g`` asks for a date and time (market-local, or UTC with ``Z``). The
status bar says ``◀◀ REWIND`` and its clock shows the instant, market time
beside UTC; stepping past either end of the recording stops at the end and
says so.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from textual.app import App

from engine.events import PriceKind, PriceTick
from engine.store.recording import RecordingSpan
from gridtui.client.protocol import EngineClient
from gridtui.tui.screens.dashboard import DashboardScreen
from gridtui.tui.screens.go_to import GoToPrompt
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.views import FeedView

log = logging.getLogger(__name__)

HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)


class Rewind:
    """The rewind keys of one app: where the dashboard stands (``at``; None = live) and how it
    moves.

    Args:
        app: the dashboard app (notifications, workers, the screen stack).
        dashboard: the screen whose panes show the rewound frame.
        live_model: the live model (its "now" is where ``r`` enters rewind).
        redraw_live: draws the live frame again (back to live).
        client: the engine client the recording is read through.
        new_model: a fresh, empty model configured like the live one.
        zone: the market time zone of the "go to" prompt.
    """

    def __init__(
        self,
        app: App[int],
        dashboard: DashboardScreen,
        live_model: DashboardModel,
        redraw_live: Callable[[], None],
        client: EngineClient,
        new_model: Callable[[], DashboardModel],
        zone: ZoneInfo,
    ) -> None:
        self.app = app
        self.dashboard = dashboard
        self.live_model = live_model
        self.redraw_live = redraw_live
        self.client = client
        self.new_model = new_model
        self.zone = zone
        self.at: datetime | None = None
        self.model: DashboardModel | None = None  # the rewound frame's model
        self.span: RecordingSpan | None = None
        self._ticks: list[datetime] = []  # the recorded tick instants around ``at``

    @property
    def active(self) -> bool:
        return self.at is not None

    # -- the keys ---------------------------------------------------------------------

    def toggle(self) -> None:
        """``r``: rewind at the present, or back to live."""
        if self.active:
            self.live()
        else:
            self._go(lambda _at: self._present())

    def step(self, delta: timedelta) -> None:
        self._go(lambda at: at + delta)

    def step_tick(self, forward: bool) -> None:
        self._go(lambda at: self._next_tick(at) if forward else self._previous_tick(at))

    def go_to(self) -> None:
        shown = self.at or self._present()
        span = self.span
        where = (
            f"recorded {_shown(span.first, self.zone)} … {_shown(span.last, self.zone)}"
            if span is not None
            else "(the recording's span is read when you go)"
        )
        today = (shown or datetime.now(self.zone)).astimezone(self.zone).date()
        prompt = GoToPrompt(self.zone, today, where)
        self.app.push_screen(prompt, self._went_to)

    def _went_to(self, instant: datetime | None) -> None:
        if instant is not None:
            self._go(lambda _at: instant)

    def live(self) -> None:
        """Back to the live stream: the live model never stopped folding."""
        self.at = None
        self.model = None
        self.dashboard.rewind_at = None
        self.redraw_live()

    # -- moving -----------------------------------------------------------------------

    def _present(self) -> datetime | None:
        return self.live_model.now

    def _go(self, target: Callable[[datetime], datetime | None]) -> None:
        base = self.at or self._present()
        if base is None:
            self.app.notify("nothing recorded yet: wait for the first prices", severity="warning")
            return
        instant = target(base)
        if instant is None:
            return
        self.app.run_worker(self.show(instant), group="rewind", exclusive=True)

    async def show(self, instant: datetime) -> None:
        """Draw every pane as it was at ``instant`` (kept inside the recording)."""
        try:
            span = self.span = await self.client.recording_span()
            if span is None:
                self.app.notify("nothing is recorded yet", severity="warning")
                return
            if instant < span.first or instant > span.last:
                edge = span.first if instant < span.first else span.last
                which = "start" if edge == span.first else "end"
                self.app.notify(
                    f"the recording {which}s at {_shown(edge, self.zone)}; "
                    "press r to go back to live",
                    severity="warning",
                )
                instant = edge
            events = await self.client.state_at(instant)
        except Exception as exc:  # a daemon that went away, a store that failed: say so
            log.exception("rewind to %s failed", instant)
            self.app.notify(f"cannot rewind: {exc}", severity="error")
            return
        model = self.new_model()
        model.apply(events)
        model.hold_at(instant)
        self._ticks = sorted(
            {e.ts for e in events if isinstance(e, PriceTick) and e.kind is PriceKind.INTRADAY}
        )
        self.at, self.model = instant, model
        dashboard = self.dashboard
        dashboard.rewind_at = instant
        frame = model.snapshot(FeedView(source=self.client.info.feed, state="recorded"))
        dashboard.snapshot = replace(frame, frame=instant.isoformat())

    def _previous_tick(self, at: datetime) -> datetime | None:
        i = bisect.bisect_left(self._ticks, at)
        if i > 0:
            return self._ticks[i - 1]
        return at - self._spacing()

    def _next_tick(self, at: datetime) -> datetime:
        # Ticks after ``at`` are not in its state (it knows nothing later): one
        # step is the spacing of the recorded ticks up to it.
        return at + self._spacing()

    def _spacing(self) -> timedelta:
        if len(self._ticks) >= 2:
            return max(self._ticks[-1] - self._ticks[-2], timedelta(microseconds=1))
        return timedelta(seconds=10)  # the simulator's default tick


def _shown(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return (
        f"{local:%Y-%m-%d %H:%M} {local.tzname()} · {instant.astimezone(ZoneInfo('UTC')):%H:%M} UTC"
    )
