"""StatusBar: feed source and health, tick age and rate, store and bus, clock, pause.

One line at the top. Segments are dropped from the right-hand detail first when
the terminal is narrow, so the feed's health and the pause state always show.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.views import FeedView
from gridtui.widgets import formatting as fmt
from gridtui.widgets.formatting import Palette

FEED_GLYPHS = {"up": "●", "degraded": "◐", "down": "○", "ended": "○"}


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; color: $foreground; }
    """

    feed: reactive[FeedView] = reactive(FeedView)
    store: reactive[str] = reactive("")
    bus: reactive[str] = reactive("")
    clock_mode: reactive[str] = reactive("live")
    now: reactive[datetime | None] = reactive(None)
    paused: reactive[bool] = reactive(False)
    market_filter: reactive[tuple[str, ...]] = reactive(())
    notice: reactive[str] = reactive("")
    """A transient word for the operator: "closing…", "engine stopped: …"."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.palette = Palette()

    def on_mount(self) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())

    def render(self) -> Text:
        palette = self.palette
        feed = self.feed
        state_style = {
            "up": f"bold {palette.good}",
            "degraded": f"bold {palette.warn}",
        }.get(feed.state, f"bold {palette.bad}")
        if feed.state == "waiting":
            state_style = "dim"
        head = Text.assemble(
            (f" {FEED_GLYPHS.get(feed.state, '…')} ", state_style),
            (feed.source or "feed", "bold"),
            " ",
            (feed.state, state_style),
        )
        segments: list[Text] = [
            Text(f"tick {fmt.age(feed.last_tick_age_s)} ago"),
            Text(f"{fmt.count(feed.events_per_s)} ev/s"),
        ]
        if feed.dropped_for_viewer:
            segments.append(Text(f"skipped {fmt.count(feed.dropped_for_viewer)}", style="dim"))
        store_ok = "✓" if feed.store_up else "✖ DOWN"
        store = Text.assemble(
            f"store {self.store} ",
            (store_ok, palette.good if feed.store_up else f"bold {palette.bad}"),
        )
        if feed.store_pending > 10_000:
            store.append(f" {fmt.count(feed.store_pending)} queued", style=palette.warn)
        segments += [store, Text(f"bus {self.bus}")]
        clock = self.clock_mode
        if self.now is not None:
            clock += f" {self.now:%H:%M:%S} UTC"
        segments.append(Text(clock))
        if self.market_filter:
            segments.append(Text(f"filter {' '.join(self.market_filter)}", style="bold"))

        tail = (
            Text(" ⏸ PAUSED ", style=f"bold reverse {palette.warn}")
            if self.paused
            else Text(" ▶ LIVE ", style="bold")
        )
        if self.notice:
            tail = Text.assemble((f" {self.notice} ", f"bold {palette.warn}"), tail)

        budget = self.size.width - head.cell_len - tail.cell_len
        line = head.copy()
        for segment in segments:
            piece = Text(" │ ", style="dim") + segment
            if piece.cell_len > budget:
                break
            line.append_text(piece)
            budget -= piece.cell_len
        line.append(" " * max(0, budget))
        line.append_text(tail)
        line.truncate(self.size.width)
        return line
