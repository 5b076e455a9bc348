"""DashTable lays a row out itself: the same cells and styles as Rich's Text would.

The fast path (a Segment per single-style cell) must draw exactly what laying the
whole row out through Rich drew before it: every cell cut with an ellipsis or
padded to its column, the cell's style over its padding, nothing between columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult

from gridtui.tui.widgets.dash_table import Cell, DashTable, fit_cell

WIDTHS = (8, 1, 4, 13)


class FourColumns(DashTable):
    COLUMNS = tuple((f"c{index}", f"C{index}", width) for index, width in enumerate(WIDTHS))


def by_rich(cells: Sequence[Cell], console: Console) -> list[tuple[str, Style]]:
    """The row as Rich lays it out: one Text of every cell, truncated and padded."""
    line = Text(no_wrap=True, end="")
    for width, cell in zip(WIDTHS, cells, strict=True):
        text = cell.copy() if isinstance(cell, Text) else Text(cell)
        text.truncate(width, overflow="ellipsis", pad=True)
        line.append(" ")
        line.append_text(text)
        line.append(" ")
    return per_cell(s for s in line.render(console) if s.text != "\n")


def per_cell(segments: object) -> list[tuple[str, Style]]:
    """Character by character, with its style (how the segments are cut does not matter)."""
    return [(char, segment.style or Style()) for segment in segments for char in segment.text]  # type: ignore[attr-defined]


words = st.text(alphabet="aZ9 .,€→●−–█░⣀日本\x07", max_size=16)
styles = st.sampled_from(["", "bold", "dim", "bold #2ecc71", "italic #f1c40f", "reverse"])
plain_cell = words
styled_cell = st.builds(lambda text, style: Text(text, style=style), words, styles)
spanned_cell = st.builds(
    lambda parts: Text.assemble(*parts), st.lists(st.tuples(words, styles), min_size=2, max_size=3)
)
cells = st.tuples(*(st.one_of(plain_cell, styled_cell, spanned_cell) for _ in WIDTHS))


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FourColumns(id="table")


@pytest.mark.asyncio
async def test_a_row_draws_as_rich_would_lay_it_out() -> None:
    async with Host().run_test(size=(80, 10)) as pilot:
        table = pilot.app.query_one(FourColumns)
        console = pilot.app.console

        @settings(max_examples=300, deadline=None)
        @given(cells)
        def check(row: tuple[Cell, ...]) -> None:
            strip = table.layout_row(row)
            assert per_cell(strip) == by_rich(row, console)
            assert strip.cell_length == sum(width + 2 for width in WIDTHS)

        check()


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("57.78", 8, "57.78   "),
        ("arbitrage", 6, "arbit…"),
        ("日本語", 4, "日 …"),
        ("a\x07b", 3, "ab "),
    ],
)
def test_fit_cell_pads_or_cuts_with_an_ellipsis(text: str, width: int, expected: str) -> None:
    assert fit_cell(text, width) == expected
    assert Segment(fit_cell(text, width)).cell_length == width
