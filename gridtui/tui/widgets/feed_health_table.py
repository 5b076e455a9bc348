"""FeedHealthTable: per feed its one health state, the reason and since when, and for an
API feed (ENTSO-E) the request budget used, the retries and the last error.

The rows are the kernel's FeedHealth events, so this table, the status bar and
the feed alerts never disagree. The reason (which names the latest error while
the feed is not up) comes before the API figures: on a narrow terminal it is
what is cropped last.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from gridtui.tui.views import FeedHealthView
from gridtui.tui.widgets import formatting as fmt
from gridtui.tui.widgets.dash_table import DashTable, Row
from gridtui.tui.widgets.status_bar import FEED_GLYPHS


class FeedHealthTable(DashTable):
    """One row per feed: state, since, reason, budget, retries, errors, last error."""

    COLUMNS = (
        ("feed", "Feed", 8),
        ("state", "State", 10),
        ("since", "Since", 7),
        ("reason", "Reason", 56),
        ("budget", "Budget/min", 10),
        ("retries", "Retries", 7),
        ("errors", "Errors", 6),
        ("last_error", "Last error", 60),
    )

    feeds: reactive[tuple[FeedHealthView, ...]] = reactive((), init=False)

    def watch_feeds(self) -> None:
        self.rebuild()

    def build_rows(self) -> list[Row]:
        palette = self.palette
        rows: list[Row] = []
        for view in self.feeds:
            style = {"up": f"bold {palette.good}", "degraded": f"bold {palette.warn}"}.get(
                view.state, f"bold {palette.bad}"
            )
            budget = (
                f"{view.budget_used}/{view.budget_limit}"
                if view.budget_used is not None and view.budget_limit
                else fmt.DASH
            )
            rows.append(
                (
                    view.source,
                    (
                        Text(view.source, style="bold"),
                        Text(f"{FEED_GLYPHS.get(view.state, '…')} {view.state}", style=style),
                        Text(fmt.duration(view.since_age_s)),
                        Text(view.reason or fmt.DASH, style="" if view.reason else "dim"),
                        Text(budget, style="" if view.budget_limit else "dim"),
                        Text(f"{view.retries:7d}"),
                        Text(f"{view.errors:6d}"),
                        Text(view.last_error or fmt.DASH, style="dim"),
                    ),
                )
            )
        return rows
