"""NoticeArea: the dashboard's notifications, in a strip of their own above the footer.

Textual's toasts float on a layer over the screen's lower right, which at 80×24
is the middle of the one table on screen: three toasts covered the Strategies
pane. Here notices take their lines out of the layout instead (the panes give
them up while a notice shows, and get them back when it expires), newest first,
at most :attr:`NoticeArea.MAX_NOTICES` at a time, a long one wrapped over more
lines (the strip is at most six lines high; what falls off is the oldest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import ClassVar, Final

from textual.content import Content
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widget import Widget

from gridtui.tui.widgets.formatting import literal_markup

GLYPHS: Final = {"information": "ℹ", "warning": "⚠", "error": "✖"}
STYLES: Final = {"information": "$text-accent", "warning": "$text-warning", "error": "$text-error"}
_ids = count()


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification: what it says, how bad it is, and how long it stays."""

    message: str
    title: str = ""
    severity: SeverityLevel = "information"
    timeout_s: float = 5.0
    markup: bool = False
    """``message`` is Textual content markup; else it shows exactly as written."""
    identity: int = field(default_factory=lambda: next(_ids))

    def as_content(self) -> Content:
        glyph = f"[{STYLES[self.severity]} bold]{GLYPHS[self.severity]}[/]"
        title = f" [bold]{literal_markup(self.title)}:[/bold]" if self.title else ""
        message = self.message if self.markup else literal_markup(self.message)
        return Content.from_markup(f"{glyph}{title} {message}")


class NoticeArea(Widget):
    """The newest notices, one line each; hidden while there are none."""

    DEFAULT_CSS = """
    NoticeArea { height: auto; max-height: 6; display: none; background: $boost; padding: 0 1; }
    NoticeArea.-shown { display: block; }
    """

    MAX_NOTICES: ClassVar[int] = 3

    notices: reactive[tuple[Notice, ...]] = reactive((), layout=True)

    def show(self, notice: Notice) -> None:
        """Show ``notice`` on top; it goes after its timeout (or when pushed out)."""
        self.notices = (notice, *self.notices)[: self.MAX_NOTICES]
        self.set_timer(notice.timeout_s, lambda: self.expire(notice))

    def expire(self, notice: Notice) -> None:
        self.notices = tuple(n for n in self.notices if n.identity != notice.identity)

    def watch_notices(self, notices: tuple[Notice, ...]) -> None:
        self.set_class(bool(notices), "-shown")

    def render(self) -> Content:
        return Content("\n").join(notice.as_content() for notice in self.notices)

    @property
    def plain_lines(self) -> tuple[str, ...]:
        """The notices as they read, newest first (for tests)."""
        return tuple(notice.as_content().plain for notice in self.notices)
