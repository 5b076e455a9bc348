"""Per-pane folding for :class:`~gridtui.view_model.DashboardModel`, one pane a module.

Each fold keeps what its pane needs from the engine's events (one dict write
per event) and builds that pane's view objects from :mod:`gridtui.views` on
demand. They share one :class:`~gridtui.folds.clock.EngineClock`, so "now" is
the engine's everywhere. Nothing here imports Textual.
"""
