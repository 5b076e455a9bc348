"""Settings sections for how gridtui shows itself: ``[log]``, ``[ui]`` and ``[keys]``.

The dashboard's refresh, colours, market time zone and key bindings, and the
log's level and format. The top-level :class:`gridtui.settings.loader.Settings`
holds one of each.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from gridtui.settings.data import Seconds

LOG_LEVELS = "(?i)^(debug|info|warn|warning|error|critical)$"


class LogSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Logging: ``level`` (DEBUG, INFO, WARNING …), ``format`` ``text`` or ``json``."""

    level: Annotated[str, msgspec.Meta(pattern=LOG_LEVELS)] = "INFO"
    format: str = "text"


class UiSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the dashboard looks and paces itself.

    Attributes:
        refresh_hz: at most this many screen updates a second (events in between
            are folded into the next update, so a flood never floods the screen).
        stale_after_s: a market whose last intraday tick is older than this (on
            the engine's clock) is marked STALE.
        chart_hours: hours of history the price chart shows; a third as much
            again of the future (day-ahead curve, forecasts) is shown after "now".
        confirm_timeout_s: an armed strategy toggle is disarmed after this long.
        theme: a Textual theme name (``textual-dark``, ``textual-light``, …).
        market_timezone: the IANA time zone of the market's local time, shown with
            the date beside UTC in the status bar (``Europe/Brussels`` is CET/CEST,
            the time of the coupled European day-ahead and intraday markets).
    """

    refresh_hz: Annotated[float, msgspec.Meta(gt=0, le=1_000)] = 10.0
    stale_after_s: Seconds = 60.0
    chart_hours: Annotated[float, msgspec.Meta(gt=0, le=8_784)] = 6.0
    confirm_timeout_s: Seconds = 5.0
    theme: str = "textual-dark"
    market_timezone: str = "Europe/Brussels"

    def __post_init__(self) -> None:
        if not 0.5 <= self.refresh_hz <= 60:
            raise ValueError(f"ui.refresh_hz must be within 0.5..60, got {self.refresh_hz}")
        for name in ("stale_after_s", "chart_hours", "confirm_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ui.{name} must be > 0, got {getattr(self, name)}")


class KeySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Dashboard keys, as Textual key names: ``"q"``, ``"?"``, ``"K"``, ``"ctrl+k"``,
    ``"f5"``. A comma list binds several keys to one action (``"?,f1"``).

    Attributes:
        quit: quit cleanly (the store is flushed first).
        help: the help screen listing every key.
        pause: pause / resume rendering (events keep being collected).
        filter: filter markets by name.
        kill_switch: stop every strategy at once (no confirmation: it only stops).
        new_backtest: open the new-backtest form.
        audit: the audit log (who started, stopped or traded what, newest first).
        confirm: confirm an armed strategy toggle.
        cancel: disarm an armed toggle.
        zoom: maximise the focused pane / restore the layout.
        theme: switch between the dark and the light theme.
        grid: the Prices pane as a compact grid of every market, by region
            (for many zones), and back to the table.
        rewind: rewind the dashboard to the engine's present (the flight recorder),
            and back to live.
        rewind_tick_back / rewind_tick_forward: one recorded tick back / forward.
        rewind_hour_back / rewind_hour_forward: an hour back / forward.
        rewind_day_back / rewind_day_forward: a day back / forward.
        go_to: rewind to a date and time (market-local, or UTC with ``Z``).
        rerun: in rewind, re-run strategies from the rewound instant over the
            recording and show the result beside what happened live.
        strategies: one key per strategy row, in row order; a press arms the
            toggle, a second press (or ``confirm``) carries it out.
    """

    quit: str = "q"
    help: str = "?,f1"
    pause: str = "p"
    filter: str = "/"
    kill_switch: str = "K"
    new_backtest: str = "b"
    audit: str = "a"
    confirm: str = "y"
    cancel: str = "escape"
    zoom: str = "z"
    theme: str = "t"
    grid: str = "m"
    rewind: str = "r"
    rewind_tick_back: str = "comma"
    rewind_tick_forward: str = "full_stop"
    rewind_hour_back: str = "left_square_bracket"
    rewind_hour_forward: str = "right_square_bracket"
    rewind_day_back: str = "left_curly_bracket"
    rewind_day_forward: str = "right_curly_bracket"
    go_to: str = "g"
    rerun: str = "R"
    strategies: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9")

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        singles = [
            (name, getattr(self, name)) for name in self.__struct_fields__ if name != "strategies"
        ]
        numbered = [(f"strategies[{i}]", key) for i, key in enumerate(self.strategies)]
        for name, keys in singles + numbered:
            for key in (part.strip() for part in keys.split(",")):
                if not key:
                    raise ValueError(f"keys.{name} is empty")
                if key in seen:
                    raise ValueError(f"key {key!r} is bound to both keys.{seen[key]} and {name}")
                seen[key] = name


__all__ = ["KeySettings", "LogSettings", "UiSettings"]
