"""FundamentalsFold: the Fundamentals pane — per zone, load, wind, solar and residual load.

Folds :class:`~engine.events.Fundamentals` (the simulator publishes them every
quarter-hour, the ENTSO-E feed as actual load (A65) and generation (A75)
arrive) and the fundamental strategy's status. The newest event of a zone is
its row; the last ``history_hours`` of them are its chart. The strategy's two
inputs are computed by the strategy's own :func:`fundamental_inputs` from the
same event it holds, so the pane shows what it uses, not a copy of the formula.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final

from engine.events import Fundamentals, StrategyStatus
from engine.strategies.fundamental import FundamentalStrategy, fundamental_inputs
from gridtui.tui.folds.clock import EngineClock, age
from gridtui.tui.views import FundamentalsSeries, FundamentalsView

HOUR_S: Final = 3600.0
# A quarter-hourly feed fills a day with 96 points; an hourly one with 24.
_MAX_POINTS: Final = 400


class FundamentalsFold:
    """Keeps each zone's newest fundamentals and a day of history.

    Args:
        markets: the markets configured on the engine, in display order.
        clock: the model's engine clock (fundamentals do not advance it: the
            ENTSO-E feed sends them an hour late, so they are never "now").
        history_hours: hours of history kept for the chart.
    """

    def __init__(
        self, markets: Sequence[str], clock: EngineClock, *, history_hours: float = 24.0
    ) -> None:
        self.market_names = tuple(markets)
        self.clock = clock
        self.history_s = history_hours * HOUR_S
        self._latest: dict[str, Fundamentals] = {}
        self._history: dict[str, deque[tuple[float, float, float, float]]] = {}
        self._strategy: dict[str, StrategyStatus] = {}

    def on_fundamentals(self, event: Fundamentals) -> None:
        market = event.market
        if market not in self.market_names:
            self.market_names = (*self.market_names, market)
        latest = self._latest.get(market)
        if latest is not None and event.ts <= latest.ts:
            return  # a late or repeated interval: the newer one stays
        self._latest[market] = event
        history = self._history.setdefault(market, deque(maxlen=_MAX_POINTS))
        ts_s = event.ts.timestamp()
        history.append((ts_s, event.load_mw, event.wind_mw, event.solar_mw))
        while history and history[0][0] < ts_s - self.history_s:
            history.popleft()

    def on_strategy(self, status: StrategyStatus) -> None:
        if status.strategy.startswith(FundamentalStrategy.kind):
            self._strategy[status.strategy] = status

    # -- reading ---------------------------------------------------------------

    @property
    def empty(self) -> bool:
        return not self._latest

    def views(self) -> tuple[FundamentalsView, ...]:
        return tuple(self._view(name) for name in self.market_names)

    def charts(self) -> dict[str, FundamentalsSeries]:
        return {
            market: FundamentalsSeries(market=market, points=tuple(points))
            for market, points in self._history.items()
        }

    def _view(self, market: str) -> FundamentalsView:
        event = self._latest.get(market)
        if event is None:
            return FundamentalsView(market=market)
        inputs = fundamental_inputs(event)
        share, load_gw = (None, None) if inputs is None else inputs
        return FundamentalsView(
            market=market,
            ts=event.ts,
            source=event.source,
            age_s=age(self.clock.now_s, event.ts.timestamp()),
            load_mw=event.load_mw,
            wind_mw=event.wind_mw,
            solar_mw=event.solar_mw,
            residual_mw=event.load_mw - event.wind_mw - event.solar_mw,
            load_forecast_mw=event.load_forecast_mw,
            strategy_share=share if self._strategy else None,
            strategy_load_gw=load_gw if self._strategy else None,
            strategy_line=self._strategy_line(market),
        )

    def _strategy_line(self, market: str) -> str:
        """``running, -10.0 MWh`` — what the fundamental strategy does in this zone.

        Named only when more than one fundamental strategy runs.
        """
        parts = []
        for name, status in sorted(self._strategy.items()):
            held = sum(p.net_mwh for p in status.positions if p.market == market)
            holding = f"{held:+,.1f} MWh" if held else "flat"
            label = f"{name} " if len(self._strategy) > 1 else ""
            parts.append(f"{label}{status.state}, {holding}")
        return "; ".join(parts)
