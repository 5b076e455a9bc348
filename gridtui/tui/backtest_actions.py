"""The new-backtest key: open the form, queue the run, fetch its metrics once finished;
Enter on a run opens its result screen (:mod:`gridtui.tui.screens.backtest_result`).

The form (:class:`~gridtui.tui.screens.backtest_form.BacktestForm`) returns a
:class:`~gridtui.client.protocol.BacktestRequest` or None; the run's progress then comes
back as events like any other, and its headline metrics are read from the
store once, when a snapshot first shows it finished.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gridtui.client.protocol import BacktestRequest, NotAvailable
from gridtui.tui.backtest_result_view import result_view
from gridtui.tui.screens.backtest_form import BacktestForm
from gridtui.tui.screens.backtest_result import BacktestResultScreen
from gridtui.tui.widgets.backtest_table import BacktestTable

if TYPE_CHECKING:
    from textual.app import App

    from gridtui.client.protocol import EngineClient
    from gridtui.tui.view_model import DashboardModel
    from gridtui.tui.views import BacktestView


# Logged under the app's name: these are GridApp's methods, wherever they are written.
log = logging.getLogger("gridtui.tui.app")


class BacktestActions:
    """The dashboard's backtests: the new-backtest form, result screens, finished runs' metrics.

    :class:`~gridtui.tui.app.GridApp` owns one and routes its ``new_backtest``
    action, Enter on a run and each snapshot's backtests here; it is given the
    app (screens, notifications, workers), the client and the model.
    """

    def __init__(self, app: App[int], client: EngineClient, model: DashboardModel) -> None:
        self._app = app
        self.client = client
        self.model = model
        self._metrics_asked: set[str] = set()

    def new_backtest(self) -> None:
        now = self.model.now
        form = BacktestForm(
            today=now.date() if now is not None else None,
            strategies=self.model.strategy_names(),
        )
        self._app.push_screen(form, self._backtest_requested)

    def _backtest_requested(self, request: BacktestRequest | None) -> None:
        if request is not None:
            self._app.run_worker(self._start_backtest(request), group="commands")

    async def _start_backtest(self, request: BacktestRequest) -> None:
        try:
            run_id = await self.client.start_backtest(request)
        except NotAvailable as exc:
            self._app.notify(str(exc), title="Backtest not started", severity="error")
            return
        except (ValueError, ConnectionError) as exc:
            self._app.notify(f"Backtest not started: {exc}", severity="error")
            return
        self._app.notify(f"Backtest {run_id} queued ({request.start} → {request.end}).")

    def ask_metrics(self, backtests: Iterable[BacktestView]) -> None:
        """Fetch, once per run, the metrics of every run shown finished."""
        for run in backtests:
            if run.state == "finished" and run.run_id not in self._metrics_asked:
                self._metrics_asked.add(run.run_id)
                self._app.run_worker(self._load_metrics(run.run_id), group="metrics")

    def open_run(self, message: BacktestTable.RunSelected) -> None:
        """Enter on a run: its result screen once finished; else say why not yet."""
        run = next((r for r in self.model.snapshot().backtests if r.run_id == message.run_id), None)
        if run is not None and run.state == "running":
            self._app.notify(f"Backtest {run.run_id} is still running ({run.percent:.0f}%).")
            return
        self._app.run_worker(self._open_result(message.run_id), group="commands")

    async def _open_result(self, run_id: str) -> None:
        try:
            record = await self.client.backtest_record(run_id)
        except Exception as exc:  # the store or the daemon: the text says which
            log.exception("could not load backtest %s", run_id)
            self._app.notify(f"Cannot load backtest {run_id}: {exc}", severity="error")
            return
        if record is None:
            self._app.notify(f"Backtest {run_id} has no stored result.", severity="warning")
            return
        self._app.push_screen(BacktestResultScreen(result_view(record)))

    async def _load_metrics(self, run_id: str) -> None:
        try:
            self.model.set_backtest_metrics(run_id, await self.client.backtest_metrics(run_id))
        except Exception:
            log.exception("could not load the metrics of backtest %s", run_id)
