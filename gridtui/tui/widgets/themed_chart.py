"""ThemedChart: a chart widget whose palette follows the app's theme."""

from __future__ import annotations

from textual.widget import Widget

from gridtui.tui.widgets.formatting import Palette


class ThemedChart(Widget):
    """Keeps ``palette`` in step with the theme (``t``) and redraws when it changes.

    Subclasses render their series with ``self.palette``.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.palette = Palette()

    def on_mount(self) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: object) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self.refresh()
