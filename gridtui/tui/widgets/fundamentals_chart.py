"""FundamentalsChart: a day of one market's load, wind, solar and residual load, in GW.

Each series has its own glyph as well as its own colour, so NO_COLOR and light
themes read it too: load ``─``, residual ``•``, wind ``~``, solar ``*``. Where
two meet, the one listed first shows. Rendering is a pure function of the
series and the size, so snapshots are stable.
"""

from __future__ import annotations

import bisect
import itertools
from datetime import UTC, datetime

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import FundamentalsSeries
from gridtui.tui.widgets.formatting import Palette
from gridtui.tui.widgets.themed_chart import ThemedChart

AXIS_WIDTH = 7


class FundamentalsChart(ThemedChart):
    """Draws ``series`` (None: nothing selected yet)."""

    DEFAULT_CSS = """
    FundamentalsChart { height: 1fr; min-height: 4; }
    """

    series: reactive[FundamentalsSeries | None] = reactive(None)

    def render(self) -> Text:
        return render_fundamentals(self.series, self.size.width, self.size.height, self.palette)


def render_fundamentals(
    series: FundamentalsSeries | None, width: int, height: int, palette: Palette
) -> Text:
    """The chart as text, ``height`` lines of ``width`` cells."""
    if series is None or not series.points:
        return Text("Select a market with fundamentals to chart it.", style="dim italic")
    plot_width, plot_height = width - AXIS_WIDTH, height - 2
    if plot_width < 10 or plot_height < 2:
        return Text(f"{series.market}: the chart needs a larger pane (z zooms)", style="dim")
    points = series.points
    # (glyph, style, values in GW), in drawing priority.
    lines = (
        ("─", f"bold {palette.accent}", [load / 1000 for _, load, _, _ in points]),
        ("•", "bold", [(load - wind - solar) / 1000 for _, load, wind, solar in points]),
        ("~", palette.good, [wind / 1000 for _, _, wind, _ in points]),
        ("*", palette.warn, [solar / 1000 for _, _, _, solar in points]),
    )
    values = [v for _, _, vs in lines for v in vs]
    low, high = min(0.0, *values), max(values)
    span_gw = max(high - low, 0.1)
    start_s, end_s = points[0][0], points[-1][0]
    span_s = max(end_s - start_s, 1.0)
    grid: list[list[tuple[str, str] | None]] = [[None] * plot_width for _ in range(plot_height)]
    times = [ts_s for ts_s, *_ in points]
    # Neighbouring intervals are joined; a gap of more than three steps stays a gap.
    steps = sorted(b - a for a, b in itertools.pairwise(times))
    join_within_s = 3 * steps[len(steps) // 2] if steps else 0.0
    for col in range(plot_width):
        at_s = start_s + col / max(plot_width - 1, 1) * span_s
        right = min(bisect.bisect_left(times, at_s), len(times) - 1)
        left = max(right - 1, 0) if times[right] > at_s else right
        if times[right] - times[left] > join_within_s:
            continue
        share = (at_s - times[left]) / (times[right] - times[left]) if right != left else 0.0
        for glyph, style, series_values in lines:
            value = series_values[left] + (series_values[right] - series_values[left]) * share
            row = round((high - value) / span_gw * (plot_height - 1))
            if grid[row][col] is None:
                grid[row][col] = (glyph, style)

    text = Text(no_wrap=True, overflow="crop")
    legend = Text.assemble(
        (f"{series.market:<{AXIS_WIDTH}}", "bold"),
        ("─", f"bold {palette.accent}"),
        " load  ",
        ("•", "bold"),
        " residual  ",
        ("~", palette.good),
        " wind  ",
        ("*", palette.warn),
        " solar   GW, UTC",
    )
    legend.truncate(width)
    text.append_text(legend)
    labels = {0: high, plot_height // 2: (high + low) / 2, plot_height - 1: low}
    for row in range(plot_height):
        text.append("\n")
        label = f"{labels[row]:>{AXIS_WIDTH - 1},.1f}┤" if row in labels else " " * 6 + "│"
        text.append(label, style="dim")
        for cell in grid[row]:
            if cell is None:
                text.append(" ")
            else:
                text.append(cell[0], style=cell[1])
    text.append("\n")
    axis = [" "] * plot_width
    first, last = f"-{span_s / 3600:.0f}h", _time_label(end_s)
    axis[: len(first)] = list(first)
    if plot_width > 2 * len(last):
        axis[plot_width - len(last) :] = list(last)
    text.append(" " * (AXIS_WIDTH - 1) + "└" + "".join(axis), style="dim")
    return text


def _time_label(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, UTC).strftime("%H:%M")
