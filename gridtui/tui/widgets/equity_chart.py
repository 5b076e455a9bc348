"""EquityChart: a backtest's equity curve as a braille line, in euros over the run's days.

The same technique as :mod:`gridtui.tui.widgets.price_chart` (2x4 braille dots a
cell, plain characters, works over SSH), for one series on a date axis. The
curve's shape is told by the dots, not by colour, so it reads the same with
NO_COLOR. Rendering is a pure function of the points and the size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

AXIS_WIDTH = 11
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


class EquityChart(Widget):
    """The equity curve of one run; ``points`` are ``(epoch seconds, EUR)``."""

    DEFAULT_CSS = """
    EquityChart { height: 1fr; min-height: 5; }
    """

    points: reactive[tuple[tuple[float, float], ...]] = reactive(())

    def render(self) -> Text:
        return render_equity(self.points, self.size.width, self.size.height)


def _day(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, UTC).strftime("%Y-%m-%d")


def _euros(value: float) -> str:
    """``€12,345`` or, past six digits, ``€-3.80M``: an axis label of at most ten cells."""
    if abs(value) < 1e6:
        return f"€{value:,.0f}"
    return f"€{value / 1e6:,.2f}M"


def render_equity(points: Sequence[tuple[float, float]], width: int, height: int) -> Text:
    """The chart as text: ``height - 1`` plot rows with a euro axis, then a date axis."""
    plot_width, plot_height = width - AXIS_WIDTH, height - 1
    if len(points) < 2:
        return Text("No equity curve: the run kept fewer than two samples.", style="dim italic")
    if plot_width < 10 or plot_height < 2:
        return Text("The equity chart needs a larger terminal.", style="dim")
    values = [v for _, v in points]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 1.0, high + 1.0
    start_s, end_s = points[0][0], points[-1][0]
    span_s = max(end_s - start_s, 1.0)
    dot_cols, dot_rows = plot_width * 2, plot_height * 4
    cells = [[0] * plot_width for _ in range(plot_height)]

    def dot(x: int, y: int) -> None:
        if 0 <= x < dot_cols and 0 <= y < dot_rows:
            cells[y // 4][x // 2] |= _DOTS[y % 4][x % 2]

    previous: tuple[int, int] | None = None
    for ts_s, value in points:
        x = round((ts_s - start_s) / span_s * (dot_cols - 1))
        y = round((high - value) / (high - low) * (dot_rows - 1))
        if previous is None:
            dot(x, y)
        else:  # joined, so a steep step stays one line
            steps = max(abs(x - previous[0]), abs(y - previous[1]), 1)
            for step in range(steps + 1):
                dot(
                    round(previous[0] + (x - previous[0]) * step / steps),
                    round(previous[1] + (y - previous[1]) * step / steps),
                )
        previous = (x, y)

    labels = {0: high, plot_height // 2: (high + low) / 2, plot_height - 1: low}
    text = Text(no_wrap=True, overflow="crop")
    for row in range(plot_height):
        label = f"{_euros(labels[row]):>{AXIS_WIDTH - 1}}┤" if row in labels else ""
        text.append(label or " " * (AXIS_WIDTH - 1) + "│", style="dim")
        line = "".join(chr(0x2800 + bits) if bits else " " for bits in cells[row])
        text.append(line, style="bold")
        text.append("\n")
    first, last = _day(start_s), _day(end_s)
    gap = max(1, plot_width - len(first) - len(last))
    text.append(" " * (AXIS_WIDTH - 1) + "└" + first + " " * gap + last, style="dim")
    return text
