"""StrategyFold: the Strategies pane — the latest status of each strategy.

Rows are sorted by name, and the number keys follow that order, so the app
asks this fold which strategy a key means and whether it is running.
"""

from __future__ import annotations

from engine.events import StrategyStatus
from gridtui.tui.views import StrategyView


class StrategyFold:
    """Keeps each strategy's newest status; rows sorted by name."""

    def __init__(self) -> None:
        self._strategies: dict[str, StrategyStatus] = {}

    def on_strategy(self, status: StrategyStatus) -> None:
        self._strategies[status.strategy] = status

    def names(self) -> tuple[str, ...]:
        """Strategies in row order (the order the number keys follow)."""
        return tuple(sorted(self._strategies))

    def state(self, name: str) -> str | None:
        status = self._strategies.get(name)
        return None if status is None else status.state

    def views(self) -> tuple[StrategyView, ...]:
        return tuple(
            StrategyView(s.strategy, s.state, s.pnl_eur, s.trades, s.last_action, _net(s))
            for _, s in sorted(self._strategies.items())
        )


def _net(status: StrategyStatus) -> tuple[tuple[str, float], ...]:
    """The open positions summed per market (long > 0), flat markets left out."""
    net: dict[str, float] = {}
    for position in status.positions:
        net[position.market] = net.get(position.market, 0.0) + position.net_mwh
    return tuple((market, mwh) for market, mwh in net.items() if abs(mwh) >= 1e-9)
