"""Per-pane folding for :class:`~gridtui.tui.view_model.DashboardModel`, one pane a module.

Each fold keeps what its pane needs from the engine's events (one dict write
per event) and builds that pane's view objects from :mod:`gridtui.tui.views` on
demand. They share one :class:`~gridtui.tui.folds.clock.EngineClock`, so "now" is
the engine's everywhere. Nothing here imports Textual.
"""
