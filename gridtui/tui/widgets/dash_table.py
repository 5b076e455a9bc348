"""DashTable: the fast, keyboard-driven table every table pane builds on.

Textual's DataTable renders each cell through Rich on every refresh, which costs
20 ms a frame for the spread table alone — too much for ten frames a second
while a feed floods the loop. A DashTable renders with Textual's line API: each
row becomes one pre-rendered Strip, rebuilt only when that row's cells change,
and a frame only crops the visible strips and lays the cursor over one of them.
Columns have fixed widths (no jitter as numbers change); a table wider than its
pane drops whole columns, least important first (``DROP_ORDER``), so no header
or cell is ever cut at the pane's edge ("Last actio").

Rows are replaced as a whole from view objects via :meth:`set_rows`, keyed, so
the cursor stays on its row when the order changes. Subclasses declare
``COLUMNS`` and implement :meth:`build_rows`; the palette follows the theme.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.control import strip_control_codes
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.formatting import Palette

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]
_GAP = Segment(" ", Style())  # between columns


def fit_cell(text: str, width: int) -> str:
    """``text`` padded to ``width`` cells, or cut to it with an ellipsis (as Rich's Text
    ``truncate(width, overflow="ellipsis", pad=True)``); control codes dropped."""
    text = strip_control_codes(text)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class DashTable(ScrollView, can_focus=True):
    """A header, keyed rows of fixed-width cells, and a row cursor."""

    COLUMNS: ClassVar[tuple[tuple[str, str, int], ...]] = ()
    """``(key, label, width)`` per column."""

    DROP_ORDER: ClassVar[tuple[str, ...]] = ()
    """Column keys dropped, in this order, while the row is wider than the pane;
    the columns not named here are always shown."""

    CURSOR_WHEN_BLURRED: ClassVar[bool] = False
    """Keep showing the cursor row when another pane has the focus (the price table's
    cursor names the charted market, so it stays visible)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"dash-table--header", "dash-table--cursor"}

    DEFAULT_CSS = """
    DashTable {
        height: auto;
        background: transparent;
        overflow-x: hidden;
        scrollbar-size-horizontal: 0;
        scrollbar-size-vertical: 1;
    }
    DashTable > .dash-table--header { text-style: bold; color: $text-muted; }
    DashTable > .dash-table--cursor { background: $surface-lighten-2; }
    DashTable:focus > .dash-table--cursor {
        background: $block-cursor-background;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "move_to(0)", "First row", show=False),
        Binding("end", "move_to(-1)", "Last row", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor moved to the row ``key``."""

        def __init__(self, table: DashTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> DashTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.palette = Palette()
        self.cursor_row = 0
        self._row_keys: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._header: Strip | None = None
        # This table's own columns: widen_column may widen them past the class's widths.
        self.columns: tuple[tuple[str, str, int], ...] = self.COLUMNS
        self._shown: tuple[int, ...] = tuple(range(len(self.columns)))
        self._fitted_width = -1
        self._parsed_styles: dict[str, Style] = {}
        self._pass: tuple[Style, int] | None = None  # (style, width) during render_lines
        self._row_width = self._width_of(self._shown)

    # -- lifecycle -------------------------------------------------------------------

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self.rebuild()

    def _on_theme_changed(self, _theme: object) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self._row_keys = []  # rebuild every row in the new colours
        self._strips.clear()
        self._header = None
        self.rebuild()

    def _width_of(self, columns: Sequence[int]) -> int:
        return sum(self.columns[index][2] + 2 for index in columns)

    def _fit_columns(self, width: int) -> None:
        """Show the columns that fit in ``width``, dropping them in ``DROP_ORDER``."""
        self._fitted_width = width
        shown = list(range(len(self.columns)))
        keys = [key for key, _, _ in self.columns]
        for key in self.DROP_ORDER:
            if self._width_of(shown) <= width:
                break
            shown.remove(keys.index(key))
        if tuple(shown) != self._shown:
            self._shown = tuple(shown)
            self._row_width = self._width_of(shown)
            self._strips.clear()
            self._header = None
            self.virtual_size = Size(self._row_width, len(self._row_keys) + 1)

    @property
    def visible_columns(self) -> tuple[str, ...]:
        """The keys of the columns shown at the current width."""
        return tuple(self.columns[index][0] for index in self._shown)

    def on_resize(self) -> None:
        self._fit_columns(self.scrollable_content_region.width)

    def build_rows(self) -> list[Row]:
        """Rows from the current attributes: ``(row key, cells)``."""
        return []

    def rebuild(self) -> None:
        """Recompute the rows from the attributes; called by subclasses' watchers."""
        if self.is_mounted:
            self.set_rows(self.build_rows())

    # -- data ------------------------------------------------------------------------

    @property
    def row_keys(self) -> tuple[str, ...]:
        """Row keys in display order."""
        return tuple(self._row_keys)

    def cells(self, key: str) -> tuple[Cell, ...]:
        return self._cells[key]

    def cell_text(self, key: str, column: str) -> str:
        """The plain text of one cell (for tests and screen readers of the state)."""
        index = [column_key for column_key, _, _ in self.columns].index(column)
        cell = self._cells[key][index]
        return cell.plain if isinstance(cell, Text) else cell

    @property
    def cursor_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self._row_keys):
            return self._row_keys[self.cursor_row]
        return None

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows``; only rows whose cells changed are rendered again."""
        keys = [key for key, _ in rows]
        cells = dict(rows)
        changed = keys != self._row_keys
        for key, row_cells in rows:
            if self._cells.get(key) != row_cells:
                self._strips.pop(key, None)
                changed = True
        if not changed:
            return
        cursor_key = self.cursor_key
        self._row_keys, self._cells = keys, cells
        for stale in set(self._strips) - set(cells):
            del self._strips[stale]
        self.virtual_size = Size(self._row_width, len(keys) + 1)
        if cursor_key in cells:
            self.cursor_row = keys.index(cursor_key)
        else:
            self.cursor_row = min(self.cursor_row, max(0, len(keys) - 1))
            if keys:
                self.post_message(self.RowHighlighted(self, keys[self.cursor_row]))
        self.refresh()

    def widen_column(self, key: str, width: int) -> None:
        """Make column ``key`` at least ``width`` cells wide (an id that must never be cut)."""
        columns = list(self.columns)
        index = [column_key for column_key, _, _ in columns].index(key)
        column_key, label, current = columns[index]
        if width <= current:
            return
        columns[index] = (column_key, label, width)
        self.columns = tuple(columns)
        self._row_width = self._width_of(self._shown)
        self._strips.clear()
        self._header = None
        self.virtual_size = Size(self._row_width, len(self._row_keys) + 1)
        self.refresh()

    # -- cursor ----------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and keep it in view."""
        if not self._row_keys:
            return
        row = max(0, min(row, len(self._row_keys) - 1))
        if row != self.cursor_row:
            self.cursor_row = row
            self.post_message(self.RowHighlighted(self, self._row_keys[row]))
        visible_rows = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + visible_rows:
            self.scroll_to(y=row - visible_rows + 1, animate=False)
        self.refresh()

    def action_move(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_move_to(self, row: int) -> None:
        self.move_cursor(row if row >= 0 else len(self._row_keys) - 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + int(self.scroll_offset.y)
        if event.y >= 1 and 0 <= row < len(self._row_keys):
            self.move_cursor(row)

    # -- rendering -------------------------------------------------------------------

    def layout_row(self, cells: Sequence[Cell]) -> Strip:
        """One row's cells, each cut or padded to its column, as a Strip.

        A cell of one style (most are) becomes one Segment directly: laying the
        whole row out through Rich's Text cost ~0.3 ms a row, and under a flood
        every shown row of the price and spread tables changes every frame. A cell
        with styled parts inside it is laid out by Rich, as before.
        """
        if len(cells) != len(self.COLUMNS):
            raise ValueError(
                f"{type(self).__name__}: {len(cells)} cells for {len(self.COLUMNS)} columns"
            )
        console = self.app.console
        segments: list[Segment] = []
        for index in self._shown:
            width, cell = self.columns[index][2], cells[index]
            segments.append(_GAP)
            if isinstance(cell, Text) and cell.spans:
                text = cell.copy()
                text.truncate(width, overflow="ellipsis", pad=True)
                text.end = ""
                segments.extend(text.render(console))
            else:
                plain, style = (cell.plain, cell.style) if isinstance(cell, Text) else (cell, "")
                segments.append(Segment(fit_cell(plain, width), self._style(style)))
            segments.append(_GAP)
        return Strip(Segment.simplify(segments), self._row_width)

    def _style(self, style: str | Style) -> Style:
        if isinstance(style, Style):
            return style
        parsed = self._parsed_styles.get(style)
        if parsed is None:
            parsed = self._parsed_styles[style] = self.app.console.get_style(style)
        return parsed

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style and width hold for the whole pass: asking for them per
        # line cost as much as drawing the line.
        self._pass = (self.rich_style, self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        base, width = self._pass or (self.rich_style, self.scrollable_content_region.width)
        if width != self._fitted_width:
            self._fit_columns(width)  # a scrollbar came or went: no Resize for that
        scroll_x = int(self.scroll_offset.x)
        if y == 0:
            if self._header is None:
                self._header = self.layout_row([label for _, label, _ in self.columns])
            style = base + self.get_component_rich_style("dash-table--header", partial=True)
            strip = self._header
        else:
            index = y - 1 + int(self.scroll_offset.y)
            if index >= len(self._row_keys):
                return Strip([Segment(" " * width, base)], width)
            key = self._row_keys[index]
            strip = self._strips.get(key) or self._strips.setdefault(
                key, self.layout_row(self._cells[key])
            )
            style = base
            if index == self.cursor_row and (self.has_focus or self.CURSOR_WHEN_BLURRED):
                style = base + self.get_component_rich_style("dash-table--cursor", partial=True)
        strip = strip.crop(scroll_x, scroll_x + width).extend_cell_length(width)
        return strip.apply_style(style) if style else strip

    def get_content_width(self, container: Size, viewport: Size) -> int:
        # Every column, not the ones shown: a width that shrank as columns dropped
        # would drop more of them.
        return self._width_of(range(len(self.columns)))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._row_keys) + 1


class MarketFilteredTable(DashTable):
    """A DashTable whose rows follow the dashboard's market filter (``/``).

    A filter term keeps the markets whose code starts with it (``IT`` keeps the
    Italian zones) or whose region it names in full (``nordic``, ``cwe``):
    ``regions`` maps market → region, set once by the screen.
    """

    market_filter: reactive[tuple[str, ...]] = reactive((), init=False)
    regions: Mapping[str, str] = {}

    def passes(self, market: str) -> bool:
        """Whether ``market`` passes the filter, by its code or its region."""
        return fmt.zone_matches(market, self.regions.get(market), self.market_filter)

    def watch_market_filter(self) -> None:
        self.rebuild()
