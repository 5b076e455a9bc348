"""Line and bar charts as inline SVG, for the backtest report (``gridtui.report.html``).

A small drawing kit rather than a plotting library: the report needs four kinds
of chart, and matplotlib would be a 40 MB dependency for them (the report's
module docstring says more). :class:`Chart` maps data to a fixed canvas with
"nice" axis ticks (:func:`nice_ticks`), thins long series to what a screen can
show, and writes SVG elements with the palette below.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

WIDTH: Final = 960
HEIGHT: Final = 300
MARGIN_LEFT: Final = 70
MARGIN_RIGHT: Final = 70
MARGIN_TOP: Final = 20
MARGIN_BOTTOM: Final = 40
MAX_POINTS: Final = 1500
PALETTE: Final = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
GOOD: Final = "#2ca02c"
BAD: Final = "#d62728"


@dataclass(frozen=True, slots=True)
class Axis:
    """One chart axis: its range and how its ticks are labelled."""

    low: float
    high: float
    start_px: float
    end_px: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        if span <= 0:
            return (self.start_px + self.end_px) / 2
        return self.start_px + (value - self.low) / span * (self.end_px - self.start_px)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _money(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:,.1f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:,.0f}k"
    return f"{value:,.0f}"


def _thin(
    points: Sequence[tuple[float, float]], limit: int = MAX_POINTS
) -> list[tuple[float, float]]:
    """At most ``limit`` points, keeping each bucket's lowest and highest (shape survives)."""
    if len(points) <= limit:
        return list(points)
    bucket = math.ceil(len(points) / (limit / 2))
    thinned: list[tuple[float, float]] = []
    for i in range(0, len(points), bucket):
        chunk = points[i : i + bucket]
        low = min(chunk, key=lambda p: p[1])
        high = max(chunk, key=lambda p: p[1])
        thinned.extend(sorted({low, high}))
    return thinned


class Chart:
    """One SVG chart with a time axis and a left (and optionally a right) value axis."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        left: tuple[float, float],
        *,
        right: tuple[float, float] | None = None,
        height: int = HEIGHT,
        left_label: str = "",
        right_label: str = "",
        money: bool = False,
    ) -> None:
        self.start_s = start.timestamp()
        self.end_s = max(end.timestamp(), self.start_s + 1)
        self.height = height
        self.x = Axis(self.start_s, self.end_s, MARGIN_LEFT, WIDTH - MARGIN_RIGHT)
        self.y = Axis(*_padded(left), height - MARGIN_BOTTOM, MARGIN_TOP)
        self.y2 = Axis(*_padded(right), height - MARGIN_BOTTOM, MARGIN_TOP) if right else None
        self.parts: list[str] = []
        self._axes(left_label, right_label, money)

    def _axes(self, left_label: str, right_label: str, money: bool) -> None:
        x, y, parts = self.x, self.y, self.parts
        bottom, top = self.height - MARGIN_BOTTOM, MARGIN_TOP
        for value in nice_ticks(y.low, y.high):
            py = y(value)
            text = _money(value) if money else f"{value:,.4g}"
            parts.append(
                f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
                f'class="grid"/><text x="{MARGIN_LEFT - 6}" y="{py + 4:.1f}" text-anchor="end">'
                f"{html.escape(text)}</text>"
            )
        if self.y2 is not None:
            for value in nice_ticks(self.y2.low, self.y2.high):
                py = self.y2(value)
                parts.append(
                    f'<text x="{WIDTH - MARGIN_RIGHT + 6}" y="{py + 4:.1f}">{value:,.4g}</text>'
                )
        span_days = (self.end_s - self.start_s) / 86400
        for ts_s in _time_ticks(self.start_s, self.end_s):
            px = x(ts_s)
            moment = datetime.fromtimestamp(ts_s, tz=UTC)
            label = moment.strftime("%d %b %H:%M" if span_days <= 3 else "%d %b %Y")
            parts.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{top}" y2="{bottom}" class="grid"/>'
                f'<text x="{px:.1f}" y="{bottom + 16}" text-anchor="middle">{label}</text>'
            )
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{bottom}" y2="{bottom}" '
            'class="axis"/>'
        )
        if left_label:
            parts.append(
                f'<text x="14" y="{(top + bottom) / 2:.0f}" class="label" '
                f'transform="rotate(-90 14 {(top + bottom) / 2:.0f})" text-anchor="middle">'
                f"{html.escape(left_label)}</text>"
            )
        if right_label:
            cx = WIDTH - 12
            parts.append(
                f'<text x="{cx}" y="{(top + bottom) / 2:.0f}" class="label" '
                f'transform="rotate(90 {cx} {(top + bottom) / 2:.0f})" text-anchor="middle">'
                f"{html.escape(right_label)}</text>"
            )
        if y.low < 0 < y.high:
            parts.append(
                f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y(0):.1f}" '
                f'y2="{y(0):.1f}" class="zero"/>'
            )

    def line(
        self,
        points: Sequence[tuple[float, float]],
        color: str,
        *,
        width: float = 1.5,
        right: bool = False,
        dash: str = "",
    ) -> None:
        axis = self.y2 if right and self.y2 is not None else self.y
        thinned = _thin(points)
        if not thinned:
            return
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{self.x(t):.1f},{axis(v):.1f}"
            for i, (t, v) in enumerate(thinned)
        )
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"{extra}/>'
        )

    def area(
        self, points: Sequence[tuple[float, float]], color: str, *, right: bool = False
    ) -> None:
        axis = self.y2 if right and self.y2 is not None else self.y
        thinned = _thin(points)
        if not thinned:
            return
        base = axis(max(axis.low, 0.0))
        d = f"M{self.x(thinned[0][0]):.1f},{base:.1f} " + " ".join(
            f"L{self.x(t):.1f},{axis(v):.1f}" for t, v in thinned
        )
        d += f" L{self.x(thinned[-1][0]):.1f},{base:.1f} Z"
        self.parts.append(f'<path d="{d}" fill="{color}" fill-opacity="0.25" stroke="none"/>')

    def bars(self, points: Sequence[tuple[float, float]], width_s: float) -> None:
        zero = self.y(0.0 if self.y.low <= 0 <= self.y.high else self.y.low)
        px_width = max(self.x(self.start_s + width_s) - self.x(self.start_s) - 1, 0.8)
        for t, v in points:
            top = self.y(v)
            color = GOOD if v >= 0 else BAD
            self.parts.append(
                f'<rect x="{self.x(t):.1f}" y="{min(top, zero):.1f}" width="{px_width:.1f}" '
                f'height="{abs(zero - top):.1f}" fill="{color}"/>'
            )

    def dots(self, points: Sequence[tuple[float, float]], color: str, radius: float = 1.6) -> None:
        for t, v in points:
            self.parts.append(
                f'<circle cx="{self.x(t):.1f}" cy="{self.y(v):.1f}" r="{radius}" fill="{color}" '
                'fill-opacity="0.6"/>'
            )

    def svg(self, legend: Sequence[tuple[str, str]] = ()) -> str:
        keys = "".join(
            f'<span class="key"><i style="background:{color}"></i>{html.escape(name)}</span>'
            for name, color in legend
        )
        return (
            f'<svg viewBox="0 0 {WIDTH} {self.height}" role="img">{"".join(self.parts)}</svg>'
            + (f'<div class="legend">{keys}</div>' if keys else "")
        )


def _padded(bounds: tuple[float, float] | None) -> tuple[float, float]:
    if bounds is None:
        return (0.0, 1.0)
    low, high = bounds
    if not (math.isfinite(low) and math.isfinite(high)):
        return (0.0, 1.0)
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        return (low - pad, high + pad)
    pad = (high - low) * 0.05
    return (low - pad, high + pad)


def _time_ticks(start_s: float, end_s: float, count: int = 8) -> list[float]:
    span = end_s - start_s
    hour, day = 3600, 86400
    steps: tuple[int, ...] = (hour, 3 * hour, 6 * hour, 12 * hour, day, 2 * day, 7 * day)
    steps += (14 * day, 30 * day, 61 * day, 91 * day, 182 * day, 365 * day)
    step = next((s for s in steps if span / s <= count), steps[-1])
    first = math.ceil(start_s / step) * step
    return [float(t) for t in range(int(first), int(end_s) + 1, step)]


__all__ = ["BAD", "GOOD", "HEIGHT", "PALETTE", "WIDTH", "Axis", "Chart", "nice_ticks"]
