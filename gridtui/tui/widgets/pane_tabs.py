"""PaneTabs: the tab strip shown instead of the grid on small terminals (80x24).

Only one pane fits then; the strip names them all and marks the current one
(reverse video, so it also reads without colour). Tab / Shift+Tab move along it.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


class PaneTabs(Widget):
    """The tab strip of the compact layout: one tab per pane, the current one marked."""

    DEFAULT_CSS = """
    PaneTabs { height: 1; width: 1fr; display: none; }
    """

    titles: reactive[tuple[tuple[str, str], ...]] = reactive(())
    """``(pane id, title)`` in order."""
    current: reactive[str] = reactive("")

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        for pane_id, title in self.titles:
            if pane_id == self.current:
                line.append(f" {title} ", style="bold reverse")
            else:
                line.append(f" {title} ", style="dim")
            line.append(" ")
        line.append("Tab ⇥", style="dim italic")
        return line
