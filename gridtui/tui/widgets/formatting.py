"""Number, time and glyph formatting shared by the panes, plus the colour palette.

Every meaning a colour carries is also carried by a glyph or a word (▲▼, OPEN,
STALE, CRIT), so the dashboard reads the same with ``NO_COLOR`` set and on a
light theme. Colours come from the running Textual theme, never hard-coded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Final

DASH: Final = "—"
SPARK_CHARS: Final = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich styles for meanings, resolved from the app's theme variables."""

    good: str = "green"
    bad: str = "red"
    warn: str = "yellow"
    accent: str = "cyan"
    muted: str = "dim"

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        def pick(*names: str, fallback: str) -> str:
            for name in names:
                value = variables.get(name, "")
                if value.startswith("#"):
                    return value[:7]
            return fallback

        return cls(
            good=pick("text-success", "success", fallback="green"),
            bad=pick("text-error", "error", fallback="red"),
            warn=pick("text-warning", "warning", fallback="yellow"),
            accent=pick("text-primary", "primary", fallback="cyan"),
        )


def price(value: float | None, width: int = 0) -> str:
    """``84.21`` — EUR/MWh with two decimals; a dash when unknown."""
    text = DASH if value is None else f"{value:,.2f}"
    return text.rjust(width) if width else text


def signed(value: float | None) -> str:
    """``▲ 2.13`` / ``▼ 2.13`` / ``= 0.00``: the direction in a glyph, not only in colour."""
    if value is None:
        return DASH
    if abs(value) < 0.005:
        return "= 0.00"
    return f"{'▲' if value > 0 else '▼'} {abs(value):,.2f}"


def duration(seconds: float | None) -> str:
    """``42s``, ``3m12s``, ``1h04m``, ``2d03h``."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    total = int(max(0.0, seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def wall_time(seconds: float | None) -> str:
    """What a run took on the clock on the wall: ``9.8 s`` under a minute, else ``3m12s``."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    return f"{seconds:.1f} s" if seconds < 60 else duration(seconds)


def ahead(seconds: float | None) -> str:
    """How far ahead a forecast's target is: ``+45m``, ``+1h``, ``+2h30``, ``+26h``.

    ``now`` for a target period already in progress (a negative distance).
    """
    if seconds is None or not math.isfinite(seconds):
        return DASH
    if seconds < 0:
        return "now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"+{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"+{hours}h{minutes:02d}" if minutes and hours < 10 else f"+{hours}h"


def is_utc(zone: tzinfo) -> bool:
    """Whether ``zone`` keeps UTC all year (then the time needs no second copy)."""
    return zone is UTC or str(zone) in {"UTC", "Etc/UTC", "Z"}


def market_times(ts: datetime, zone: tzinfo, *, seconds: bool = False) -> list[str]:
    """The time in the market's zone with UTC beside it, from the longest form to the shortest.

    The status bar's clock without its date: ``14:05 CET · 13:05 UTC``,
    ``14:05 CET 13:05Z``, ``14:05 CET``, ``14:05``; ``seconds`` adds them
    (``14:05:12 CET · 13:05:12 UTC``). A UTC market zone reads ``13:05 UTC``, ``13:05``.
    """
    pattern = "%H:%M:%S" if seconds else "%H:%M"
    utc = ts.astimezone(UTC).strftime(pattern)
    if is_utc(zone):
        return [f"{utc} UTC", utc]
    local = ts.astimezone(zone)
    clock, name = local.strftime(pattern), local.strftime("%Z")
    return [f"{clock} {name} · {utc} UTC", f"{clock} {name} {utc}Z", f"{clock} {name}", clock]


def zone_name(ts: datetime, zone: tzinfo) -> str:
    """``CET``, ``CEST``, ``UTC``: the zone's abbreviation at ``ts``."""
    return "UTC" if is_utc(zone) else ts.astimezone(zone).strftime("%Z")


def mw(value: float | None, width: int = 0) -> str:
    """``52,310`` MW, rounded to the megawatt; a dash when unknown."""
    text = DASH if value is None else f"{value:,.0f}"
    return text.rjust(width) if width else text


def coarse_duration(seconds: float | None) -> str:
    """At most five cells: ``42s``, ``12m``, ``1h04m``, ``2d03h`` (minutes lose their seconds)."""
    if seconds is not None and 60 <= seconds < 3_600:
        return f"{int(seconds) // 60}m"
    return duration(seconds)


def age(seconds: float | None) -> str:
    """How old a value is: ``0.4s``, ``12s``, ``3m12s``."""
    if seconds is None:
        return DASH
    if seconds < 10:
        return f"{seconds:.1f}s"
    return duration(seconds)


def count(value: float) -> str:
    """``950``, ``12.3k``, ``4.5M``."""
    if value < 1_000:
        return f"{value:,.0f}"
    if value < 1_000_000:
        return f"{value / 1_000:,.1f}k"
    return f"{value / 1_000_000:,.1f}M"


def gauge(fraction: float, width: int) -> str:
    """A horizontal bar, ``███████░░░``, in eighths of a cell."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")
    return bar + "░" * (width - len(bar))


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values as block heights, scaled to their own range."""
    points = list(values)[-width:]
    if not points:
        return ""
    low, high = min(points), max(points)
    span = high - low
    if span <= 0:
        return SPARK_CHARS[3] * len(points)
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round((value - low) / span * top)] for value in points)


def parse_market_filter(text: str) -> tuple[str, ...]:
    """``"de, fr nl"`` → ``("DE", "FR", "NL")``: terms split on commas and spaces."""
    return tuple(term for term in text.upper().replace(",", " ").split() if term)


def market_matches(market: str, market_filter: Sequence[str]) -> bool:
    """A market passes the filter when it starts with any filter term (case-blind)."""
    if not market_filter:
        return True
    name = market.upper()
    return any(name.startswith(term) for term in market_filter)


def zone_matches(market: str, region: str | None, market_filter: Sequence[str]) -> bool:
    """A market passes when its code starts with a term or a term names its region
    in full (``nordic``, ``cwe``, ``gb/ie``; case-blind)."""
    if market_matches(market, market_filter):
        return True
    return region is not None and region.upper() in market_filter


def literal_markup(text: str) -> str:
    """``text`` as Textual content markup that shows exactly ``text``.

    Textual reads command-palette names and help as markup, where any ``[`` opens a
    tag (``[/]`` raises, ``[K]`` silently eats the K). Its own ``escape`` only
    covers lower-case tags, so every ``[`` is escaped here.
    """
    return text.replace("[", "\\[")
