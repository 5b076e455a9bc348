"""BacktestFold: the Backtests pane — progress of each run, and metrics once finished."""

from __future__ import annotations

from collections.abc import Mapping

from engine.events import BacktestProgress
from gridtui.tui.views import BacktestView


class BacktestFold:
    """Keeps each run's newest progress and when it was first seen; running runs first."""

    def __init__(self) -> None:
        self._backtests: dict[str, tuple[BacktestProgress, float]] = {}
        self._metrics: dict[str, tuple[tuple[str, float], ...]] = {}

    def on_backtest(self, progress: BacktestProgress) -> None:
        first_seen_s = self._backtests.get(progress.run_id, (progress, progress.ts.timestamp()))[1]
        self._backtests[progress.run_id] = (progress, first_seen_s)

    def set_metrics(self, run_id: str, metrics: Mapping[str, float]) -> None:
        """Headline metrics of a finished run (fetched by the app from the store)."""
        self._metrics[run_id] = tuple(metrics.items())

    def views(self) -> tuple[BacktestView, ...]:
        views = [
            BacktestView(
                run_id=progress.run_id,
                state=progress.state,
                percent=progress.percent,
                events_done=progress.events_done,
                events_total=progress.events_total,
                eta_s=progress.eta_s,
                elapsed_s=max(0.0, progress.ts.timestamp() - first_seen_s),
                metrics=self._metrics.get(progress.run_id, ()),
                wall_s=progress.wall_s,
            )
            for progress, first_seen_s in self._backtests.values()
        ]
        views.sort(key=lambda v: (v.state != "running", v.run_id))
        return tuple(views)
