"""PriceChart: the recent hours of one market, intraday ticks beside the day-ahead curve.

Drawn with plain characters so it works over any SSH session: intraday prices
as a braille line (2x4 dots a cell), the day-ahead curve as ``─`` steps, a
loaded forecast as ``•`` after a ``┊`` "now" line, its 10–90 % band as ``░``
between the band's edges, and the next delivery day's day-ahead forecast (once
made, the chart then reaches out to its end) as ``∙`` over its own ``░`` band.
They are told apart by glyph as well as colour (NO_COLOR, light themes).
Until the first forecast the legend says the forecaster is warming up, and how
far, and until tomorrow's day-ahead forecast is in, when it is due and what it
waits for. Times are in the market's zone (``[ui] market_timezone``) with UTC
beside them where the axis has room, as in the status bar. Rendering is a pure
function of the series, the size and the zone, so snapshots are stable.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import ChartSeries
from gridtui.tui.widgets.formatting import Palette, market_times, zone_name
from gridtui.tui.widgets.themed_chart import ThemedChart

AXIS_WIDTH = 8
# Braille dot bits, indexed [row within cell][column within cell].
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


class PriceChart(ThemedChart):
    """The Prices pane's chart: the selected market's prices, forecast, band, tomorrow's curve."""

    DEFAULT_CSS = """
    PriceChart { height: 1fr; min-height: 4; }
    """

    series: reactive[ChartSeries | None] = reactive(None)

    def __init__(self, *, id: str | None = None, market_zone: tzinfo = UTC) -> None:
        super().__init__(id=id)
        self.market_zone = market_zone

    def render(self) -> Text:
        return render_chart(
            self.series, self.size.width, self.size.height, self.palette, self.market_zone
        )


def _time_labels(ts_s: float, zone: tzinfo) -> list[str]:
    return market_times(datetime.fromtimestamp(ts_s, UTC), zone)


def hint_text(series: ChartSeries, zone: tzinfo) -> str:
    """The line under the legend: the warm-up, and when tomorrow's forecast is due."""
    parts = [series.warmup] if series.warmup else []
    if series.day_ahead_due_s is not None:
        due = market_times(datetime.fromtimestamp(series.day_ahead_due_s, UTC), zone)[0]
        if series.day_ahead_due_s > series.now_s:
            parts.append(f"tomorrow's forecast at {due}: waits for {series.day_ahead_waits_for}")
        else:
            parts.append(f"tomorrow's forecast: none yet, due {due} ({series.day_ahead_waits_for})")
    return " · ".join(parts)


def render_chart(
    series: ChartSeries | None,
    width: int,
    height: int,
    palette: Palette,
    zone: tzinfo = UTC,
) -> Text:
    """The chart as text, ``height`` lines of ``width`` cells, its times in ``zone``."""
    plot_width = width - AXIS_WIDTH
    hint = "" if series is None else hint_text(series, zone)
    # A legend line above (and the hint line under it), a time axis below.
    plot_height = height - 2 - (1 if hint else 0)
    if series is None:
        return Text("Select a market to chart it.", style="dim italic")
    values = [p for _, p in series.intraday]
    values += [p for _, _, p in series.day_ahead]
    for _, p, lower, upper in (*series.forecast, *series.day_ahead_forecast):
        values += [p] + [v for v in (lower, upper) if v is not None]
    if not values:
        return Text(f"{series.market}: waiting for prices to chart…", style="dim italic")
    if plot_width < 10 or plot_height < 2:
        return Text(f"{series.market}: the chart needs a larger pane (z zooms)", style="dim")

    low, high = min(values), max(values)
    pad = max((high - low) * 0.05, 0.5)
    low, high = low - pad, high + pad
    span_s = max(series.end_s - series.start_s, 1.0)
    dot_cols, dot_rows = plot_width * 2, plot_height * 4

    def dot_x(ts_s: float) -> int:
        return round((ts_s - series.start_s) / span_s * (dot_cols - 1))

    def dot_y(value: float) -> int:
        return round((high - value) / (high - low) * (dot_rows - 1))

    braille = [[0] * plot_width for _ in range(plot_height)]
    glyphs: list[list[tuple[str, str] | None]] = [[None] * plot_width for _ in range(plot_height)]

    def set_dot(x: int, y: int) -> None:
        if 0 <= x < dot_cols and 0 <= y < dot_rows:
            braille[y // 4][x // 2] |= _DOTS[y % 4][x % 2]

    def put(col: int, row: int, glyph: str, style: str) -> None:
        if 0 <= col < plot_width and 0 <= row < plot_height and glyphs[row][col] is None:
            glyphs[row][col] = (glyph, style)

    # Forecast first: where it meets the day-ahead curve, the forecast shows.
    for points, mark in ((series.forecast, "•"), (series.day_ahead_forecast, "∙")):
        for target_s, value, _, _ in points:
            put(dot_x(target_s) // 2, dot_y(value) // 4, mark, f"bold {palette.good}")
    for col in range(plot_width):
        mid_s = series.start_s + (col + 0.5) / plot_width * span_s
        for start_s, end_s, value in series.day_ahead:
            if start_s <= mid_s < end_s:
                put(col, dot_y(value) // 4, "─", palette.warn)
                break
    now_col = dot_x(series.now_s) // 2
    for row in range(plot_height):
        put(now_col, row, "┊", "dim")
    # The bands last: the day-ahead curve and the now line show through them.
    for points in (series.forecast, series.day_ahead_forecast):
        for col, lower, upper in _band_columns(points, dot_x):
            for row in range(dot_y(upper) // 4, dot_y(lower) // 4 + 1):
                put(col, row, "░", palette.good)

    # Neighbouring buckets are joined; a gap in the data stays a gap.
    join_within_s = 3 * series.bucket_s
    previous: tuple[float, int, int] | None = None
    for ts_s, value in series.intraday:
        x, y = dot_x(ts_s), dot_y(value)
        if previous is not None and ts_s - previous[0] <= join_within_s:
            _line(previous[1], previous[2], x, y, set_dot)
        else:
            set_dot(x, y)
        previous = (ts_s, x, y)

    lines = Text(no_wrap=True, overflow="crop")
    forecast_key: list[tuple[str, str] | str] = [
        ("•", f"bold {palette.good}"),
        " forecast  ",
        ("░", palette.good),
        " band  ",
    ]
    if series.day_ahead_forecast:
        forecast_key += [("∙", f"bold {palette.good}"), " tomorrow  "]
    legend = Text.assemble(
        (f"{series.market:<{AXIS_WIDTH}}", "bold"),
        ("⣀⣀", f"bold {palette.accent}"),
        " intraday  ",
        ("──", palette.warn),
        " day-ahead  ",
        *forecast_key,
        ("┊", "dim"),
        f" now   €/MWh, {zone_name(datetime.fromtimestamp(series.now_s, UTC), zone)}",
    )
    legend.truncate(width)
    lines.append_text(legend)
    if hint:
        hint_line = Text(f"{' ' * AXIS_WIDTH}{hint}", style="italic")
        hint_line.truncate(width)
        lines.append("\n")
        lines.append_text(hint_line)
    label_rows = {0: high, plot_height // 2: (high + low) / 2, plot_height - 1: low}
    intraday_style = f"bold {palette.accent}"
    for row in range(plot_height):
        lines.append("\n")
        label = f"{label_rows[row]:>{AXIS_WIDTH - 1},.0f}┤" if row in label_rows else " " * 7 + "│"
        lines.append(label, style="dim")
        # One append per run of equally styled cells, not per cell: a chart is ~2k cells.
        run_chars: list[str] = []
        run_style = ""
        for col in range(plot_width):
            bits = braille[row][col]
            if bits:
                char, style = chr(0x2800 + bits), intraday_style
            elif (glyph := glyphs[row][col]) is not None:
                char, style = glyph
            else:
                char, style = " ", ""
            if style != run_style and run_chars:
                lines.append("".join(run_chars), style=run_style or None)
                run_chars = []
            run_style = style
            run_chars.append(char)
        if run_chars:
            lines.append("".join(run_chars), style=run_style or None)
    lines.append("\n")
    lines.append(
        " " * (AXIS_WIDTH - 1) + "└" + _axis(series, plot_width, now_col, zone), style="dim"
    )
    return lines


def _axis(series: ChartSeries, plot_width: int, now_col: int, zone: tzinfo) -> str:
    """The time axis: "now", and both ends in the longest form that fits beside it.

    Both ends take the same form (``08:05 CET · 07:05 UTC`` … ``08:05``), so
    the axis never mixes one end with UTC and the other without.
    """
    starts, ends = _time_labels(series.start_s, zone), _time_labels(series.end_s, zone)
    for start, end in zip(starts, ends, strict=True):
        axis = [" "] * plot_width
        placed = [
            _place(axis, label, col)
            for label, col in (("now", now_col - 1), (start, 0), (end, plot_width - len(end)))
        ]
        if all(placed[1:]) or (start, end) == (starts[-1], ends[-1]):
            return "".join(axis)
    return " " * plot_width


def _place(axis: list[str], label: str, col: int) -> bool:
    """Write ``label`` at ``col`` if it fits one blank cell clear of any other label."""
    end = col + len(label)
    free = axis[max(col - 1, 0) : min(end + 1, len(axis))]
    if col < 0 or end > len(axis) or any(c != " " for c in free):
        return False
    axis[col:end] = list(label)
    return True


def _band_columns(
    points: tuple[tuple[float, float, float | None, float | None], ...],
    dot_x: Callable[[float], int],
) -> list[tuple[int, float, float]]:
    """``(column, lower, upper)`` for every column a band covers, joined between targets.

    A band is drawn as an area: between two neighbouring forecasts each column
    takes the edges interpolated linearly, so the band reads as one shape.
    """
    edges = [
        (dot_x(t) // 2, lo, hi) for t, _, lo, hi in points if lo is not None and hi is not None
    ]
    columns: list[tuple[int, float, float]] = []
    for (c0, lo0, hi0), (c1, lo1, hi1) in itertools.pairwise(edges):
        span = max(c1 - c0, 1)
        columns += [
            (c, lo0 + (lo1 - lo0) * (c - c0) / span, hi0 + (hi1 - hi0) * (c - c0) / span)
            for c in range(c0, c1)
        ]
    if edges:
        columns.append(edges[-1])
    return columns


def _line(x0: int, y0: int, x1: int, y1: int, plot: Callable[[int, int], None]) -> None:
    """Dots from (x0, y0) to (x1, y1), inclusive, with no gaps (a simple DDA)."""
    steps = max(abs(x1 - x0), abs(y1 - y0), 1)
    for step in range(steps + 1):
        plot(round(x0 + (x1 - x0) * step / steps), round(y0 + (y1 - y0) * step / steps))
