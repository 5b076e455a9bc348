"""The re-run key: in rewind mode, re-run strategies from the rewound instant beside live.

``R`` opens :class:`~gridtui.tui.screens.rerun_form.RerunForm` with the rewound
instant and the strategies running then; the request goes to
:meth:`~gridtui.client.protocol.EngineClient.rerun` in a worker, and the answer
(a :class:`~engine.backtest.rerun.RerunComparison`) is drawn by
:class:`~gridtui.tui.screens.rerun_compare.RerunCompareScreen` through a
:class:`~gridtui.tui.views.RerunView`. Outside rewind the key says how to get there.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from textual.app import App

from engine.backtest.rerun import RerunComparison, TradeLine
from gridtui.client.protocol import EngineClient, NotAvailable, RerunRequest
from gridtui.settings.interface import KeySettings
from gridtui.tui.rewind import Rewind
from gridtui.tui.screens.rerun_compare import RerunCompareScreen
from gridtui.tui.screens.rerun_form import RerunForm
from gridtui.tui.view_model import DashboardModel
from gridtui.tui.views import RerunStrategyView, RerunTradeView, RerunView

log = logging.getLogger(__name__)


def rerun_view(comparison: RerunComparison) -> RerunView:
    """The screen's picture of a comparison: plain numbers and strings."""

    def trades(lines: list[TradeLine]) -> tuple[RerunTradeView, ...]:
        return tuple(
            RerunTradeView(
                ts=t.ts,
                market=t.market,
                side=t.side,
                volume_mwh=t.volume_mwh,
                price_eur_mwh=t.price_eur_mwh,
                pnl_eur=t.pnl_eur,
            )
            for t in lines
        )

    return RerunView(
        run_id=comparison.run_id,
        since=comparison.since,
        until=comparison.until,
        ticks_replayed=comparison.ticks_replayed,
        strategies=tuple(
            RerunStrategyView(
                name=s.strategy,
                live_trades=s.live_trades,
                rerun_trades=s.rerun_trades,
                same_trades=s.same_trades,
                live_pnl_eur=s.live_pnl_eur,
                rerun_pnl_eur=s.rerun_pnl_eur,
                pnl_diff_eur=s.pnl_diff_eur,
                only_live=trades(s.only_live),
                only_rerun=trades(s.only_rerun),
                only_live_count=s.only_live_count,
                only_rerun_count=s.only_rerun_count,
                live_status_pnl_eur=s.live_status_pnl_eur,
                live_state_at_start=s.live_state_at_start,
                skipped=s.skipped,
            )
            for s in comparison.strategies
        ),
    )


class RerunActions:
    """The dashboard's "re-run from here": the form, the run, the comparison screen.

    Args:
        app: the dashboard app (screens, notifications, workers).
        rewind: where the dashboard stands in the recording (the re-run starts there).
        keys: the key settings (to name the rewind key).
        live_model: the live model (the strategies it knows).
        client: the engine the re-run runs on.
        zone: the market time zone the form and the screen show instants in.
    """

    def __init__(
        self,
        app: App[int],
        rewind: Rewind,
        keys: KeySettings,
        live_model: DashboardModel,
        client: EngineClient,
        zone: ZoneInfo,
    ) -> None:
        self.app = app
        self.rewind = rewind
        self.keys = keys
        self.live_model = live_model
        self.client = client
        self.zone = zone

    def open(self) -> None:
        at = self.rewind.at
        if at is None:
            key = self.keys.rewind
            self.app.notify(
                f"re-run from here works in rewind: press {key} and go to the instant first",
                severity="warning",
            )
            return
        rewound = self.rewind.model
        running = (
            [s.name for s in rewound.snapshot().strategies if s.state == "running"]
            if rewound is not None
            else []
        )
        form = RerunForm(
            at=at, zone=self.zone, strategies=self.live_model.strategy_names(), chosen=running
        )
        self.app.push_screen(form, self._requested)

    def _requested(self, request: RerunRequest | None) -> None:
        if request is not None:
            self.app.notify(f"re-running {', '.join(request.strategies)} on the recording…")
            self.app.run_worker(self.run(request), group="rerun")

    async def run(self, request: RerunRequest) -> None:
        try:
            comparison = await self.client.rerun(request)
        except NotAvailable as exc:
            self.app.notify(str(exc), title="Re-run not started", severity="error")
            return
        except (ValueError, ConnectionError) as exc:
            self.app.notify(f"Re-run not started: {exc}", severity="error")
            return
        except Exception as exc:  # the store failed: say so, keep the dashboard up
            log.exception("re-run from %s failed", request.since)
            self.app.notify(f"Re-run failed: {exc}", severity="error")
            return
        self.app.push_screen(RerunCompareScreen(rerun_view(comparison), self.zone))
