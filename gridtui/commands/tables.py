"""Rich tables for the CLI that fit the terminal by wrapping, and never cut a value.

Rich shrinks a too-wide table by cutting cells with an ellipsis ("bt-20261…"),
which hides exactly what a user copies next (a run or model id). A table made
by :func:`fitting_table` keeps its id column whole and wraps the others at
spaces; on a terminal too narrow for that it stacks each row's values beside
its id instead, so the table fits and no value is cut.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import JustifyMethod
from rich.table import Table


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


def fitting_table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
    right: Sequence[str] = (),
) -> Table:
    """A table of ``rows`` under ``headers`` for a terminal ``width`` cells wide.

    The first column is the id, never broken. When every column's longest word
    fits the width, each column wraps at spaces (columns named in ``right``
    align right); when they do not, each row becomes the id beside its other
    values as ``header value`` pairs, which wrap freely: narrower, nothing cut.
    """
    cells = [(header, *(row[i] for row in rows)) for i, header in enumerate(headers)]
    natural = [max(len(text) for text in column) for column in cells]
    least = [max(len(word) for text in column for word in text.split()) for column in cells]
    least[0] = natural[0]  # the id: whole, on one line
    room = width - 2 * (len(headers) - 1)
    table = _table(title)
    if sum(least) <= room:
        # Each column gets its longest word, then a share of what is left by how much
        # it would use: the widths are set, so rich neither crops nor re-balances them.
        spare = max(0, room - sum(least))
        wants = [n - m for n, m in zip(natural, least, strict=True)]
        total = sum(wants) or 1
        widths = [m + min(w, spare * w // total) for m, w in zip(least, wants, strict=True)]
        for index, (header, column_width) in enumerate(zip(headers, widths, strict=True)):
            justify: JustifyMethod = "right" if header in right else "left"
            table.add_column(
                header, justify=justify, width=column_width, no_wrap=index == 0, overflow="fold"
            )
        for row in rows:
            table.add_row(*row)
        return table
    table.add_column(headers[0], min_width=least[0], no_wrap=True)
    table.add_column("details", overflow="fold")
    for row in rows:
        pairs = [f"{h} {v}".strip() for h, v in zip(headers[1:], row[1:], strict=True) if v]
        table.add_row(row[0], " · ".join(pairs))
    return table


__all__ = ["fitting_table"]
