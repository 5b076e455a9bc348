"""StatusBar: feed source and health, the engine's date and time, tick age and rate,
store and bus, pause.

One line at the top. The clock names the mode (``live``, ``sim 360×``, ``replay
60×``) and shows the engine's time with its date in the market's local zone
beside UTC, at every width: when the terminal is narrow the right-hand detail
goes first, then the clock gets shorter (the year, then the mode word, which the
right-hand end still shows); the time itself is never dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.tui.views import FeedView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.formatting import Palette

FEED_GLYPHS = {"up": "●", "degraded": "◐", "down": "○", "ended": "○"}


def clock_texts(mode: str, now: datetime | None, zone: ZoneInfo) -> list[str]:
    """The clock segment from the longest to the shortest form; all keep the time.

    ``"sim 360× 2026-12-02 14:05 CET · 13:05 UTC"``; when UTC is on another day
    than the market, its date is shown too (``… 00:00 CET · 12-31 23:00 UTC``).
    """
    if now is None:
        return [f"{mode} {fmt.DASH}", fmt.DASH]
    local = now.astimezone(zone)
    utc = now.astimezone(UTC)
    utc_day = f"{utc:%m-%d} " if utc.date() != local.date() else ""
    utc_text = f"{utc_day}{utc:%H:%M} UTC"
    return [
        f"{mode} {local:%Y-%m-%d %H:%M %Z} · {utc_text}",
        f"{mode} {local:%m-%d %H:%M %Z} · {utc_text}",
        f"{local:%m-%d %H:%M %Z} · {utc_text}",
        f"{local:%m-%d %H:%M %Z} {utc:%H:%M}Z",
        f"{local:%H:%M %Z} {utc:%H:%M}Z",
    ]


class StatusBar(Widget):
    """The top line: feed state, clock mode, market-local and UTC time, store and bus."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; color: $foreground; }
    """

    feed: reactive[FeedView] = reactive(FeedView)
    store: reactive[str] = reactive("")
    bus: reactive[str] = reactive("")
    clock_mode: reactive[str] = reactive("live")
    """``live``, ``sim 360×``, ``replay 60×`` (:func:`gridtui.client.protocol.clock_mode`)."""
    now: reactive[datetime | None] = reactive(None)
    market_zone: reactive[ZoneInfo] = reactive(lambda: ZoneInfo("Europe/Brussels"))
    paused: reactive[bool] = reactive(False)
    rewind: reactive[bool] = reactive(False)  # the clock shows a recorded instant
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
        if feed.state in ("waiting", "recorded"):
            state_style = "dim"
        glyph = Text(f" {FEED_GLYPHS.get(feed.state, '…')} ", style=state_style)
        head = glyph + Text.assemble(
            (feed.source or "feed", "bold"), " ", (feed.state, state_style)
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
        if self.market_filter:
            segments.append(Text(f"filter {' '.join(self.market_filter)}", style="bold"))

        # The right-hand end: pause state, or what kind of time runs (LIVE, SIM, REPLAY).
        mode_word = (self.clock_mode.split() or ["live"])[0].upper()
        if self.rewind:  # first: a rewound frame must never pass for the present
            tail = Text(" ◀◀ REWIND ", style=f"bold reverse {palette.bad}")
        elif self.paused:
            tail = Text(" ⏸ PAUSED ", style=f"bold reverse {palette.warn}")
        else:
            tail = Text(f" ▶ {mode_word} ", style="bold")
        width = self.size.width
        separator = Text(" │ ", style="dim")
        clock, head = self._fit_clock(width - tail.cell_len - separator.cell_len, head, glyph)
        line = head + separator + clock
        budget = width - line.cell_len - tail.cell_len
        if self.notice and budget > 2:
            notice = Text(f" {self.notice} ", style=f"bold {palette.warn}")
            notice.truncate(budget, overflow="ellipsis")
            tail = notice + tail
            budget -= notice.cell_len
        for segment in segments:
            piece = separator + segment
            if piece.cell_len > budget:
                break
            line.append_text(piece)
            budget -= piece.cell_len
        line.append(" " * max(0, budget))
        line.append_text(tail)
        line.truncate(width)
        return line

    def _fit_clock(self, budget: int, head: Text, glyph: Text) -> tuple[Text, Text]:
        """The longest clock that fits beside ``head``; beside the glyph alone if need be."""
        texts = clock_texts(self.clock_mode, self.now, self.market_zone)
        for lead in (head, glyph):
            for text in texts:
                if lead.cell_len + cell_len(text) <= budget:
                    return Text(text, style="bold"), lead
        return Text(texts[-1], style="bold"), glyph
