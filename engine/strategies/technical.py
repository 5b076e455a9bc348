"""Technical: moving-average crossover, RSI or Bollinger bands on each market's prices.

One indicator per instance (``indicator``), computed incrementally on the
prices of every market the strategy trades (O(1) per tick), and turned into a
target of ``+volume_mwh`` (long), ``−volume_mwh`` (short) or flat per
delivery hour:

- ``ma_cross``: long while the fast moving average is above the slow one,
  short while below (trend following; 24 h against a week by default);
- ``rsi``: Wilder's relative strength index; long below ``rsi_low``, short
  above ``rsi_high``, back to flat when it crosses 50 (mean reversion);
- ``bollinger``: long below the mean − k·σ of the previous ``bollinger_window``
  prices, short above mean + k·σ, flat again at the mean (mean reversion on
  the daily swing).

Every indicator uses only the prices the strategy has been handed, i.e. known
at the decision time. Where the target is held depends on the feed
(:mod:`engine.strategies.signal_trading`): on a day-ahead-only feed the
signal of the last bar before D's gate closure is committed for every period
of D (such a position settles at its own clearing price: it earns minus its
fees); on a feed with continuous intraday prices the target is held in the
first delivery period still open, and each period settles at delivery at the
reference price.

What changed from the strategy that traded the price it had just seen: orders
name their product and delivery period; positions are per period and settle
at delivery (nothing is carried from one hour to the next); the config is the
same (``volume_mwh`` is now per delivery hour).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import ClassVar, Literal

from engine.events import Event, PriceTick
from engine.strategies.base import Strategy, StrategyConfig, StrategyContext
from engine.strategies.day_ahead import DayAheadGate
from engine.strategies.signal_trading import (
    Venues,
    trade_target,
)

Indicator = Literal["ma_cross", "rsi", "bollinger"]


class TechnicalConfig(StrategyConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Attributes:
    indicator: ``ma_cross``, ``rsi`` or ``bollinger``.
    volume_mwh: size of a position, MWh per delivery hour.
    fast_window / slow_window: moving averages of ``ma_cross``, in ticks.
    rsi_window / rsi_low / rsi_high: the RSI and its thresholds.
    bollinger_window / bollinger_k: the band's window (ticks) and width (σ).
    """

    indicator: Indicator = "bollinger"
    volume_mwh: float = 10.0
    fast_window: int = 24
    slow_window: int = 168
    rsi_window: int = 14
    rsi_low: float = 30.0
    rsi_high: float = 70.0
    bollinger_window: int = 24
    bollinger_k: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.fast_window < self.slow_window:
            raise ValueError("technical: need 1 <= fast_window < slow_window")
        if self.rsi_window < 2 or self.bollinger_window < 2:
            raise ValueError("technical: rsi_window and bollinger_window must be >= 2")
        if not 0 < self.rsi_low < 50 < self.rsi_high < 100:
            raise ValueError("technical: need 0 < rsi_low < 50 < rsi_high < 100")
        if not (self.volume_mwh > 0 and self.bollinger_k > 0):
            raise ValueError("technical: volume_mwh and bollinger_k must be > 0")


class RollingMean:
    """Mean and standard deviation of the last ``window`` values, O(1) per value."""

    __slots__ = ("sum", "sum_sq", "values", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.values: deque[float] = deque()
        self.sum = 0.0
        self.sum_sq = 0.0

    def add(self, value: float) -> None:
        values = self.values
        values.append(value)
        self.sum += value
        self.sum_sq += value * value
        if len(values) > self.window:
            old = values.popleft()
            self.sum -= old
            self.sum_sq -= old * old

    @property
    def full(self) -> bool:
        return len(self.values) >= self.window

    @property
    def mean(self) -> float:
        return self.sum / len(self.values)

    @property
    def std(self) -> float:
        n = len(self.values)
        variance = max(self.sum_sq / n - (self.sum / n) ** 2, 0.0)
        return math.sqrt(variance)


class WilderRsi:
    """Wilder's RSI: smoothed average gain over smoothed average loss, 0..100."""

    __slots__ = ("avg_gain", "avg_loss", "count", "last", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.last: float | None = None
        self.avg_gain = 0.0
        self.avg_loss = 0.0
        self.count = 0

    def add(self, value: float) -> None:
        last, self.last = self.last, value
        if last is None:
            return
        change = value - last
        gain, loss = max(change, 0.0), max(-change, 0.0)
        self.count += 1
        if self.count <= self.window:  # the first window: a plain average
            self.avg_gain += (gain - self.avg_gain) / self.count
            self.avg_loss += (loss - self.avg_loss) / self.count
        else:
            n = self.window
            self.avg_gain = (self.avg_gain * (n - 1) + gain) / n
            self.avg_loss = (self.avg_loss * (n - 1) + loss) / n

    @property
    def ready(self) -> bool:
        return self.count >= self.window

    @property
    def value(self) -> float:
        if self.avg_loss == 0.0:
            return 100.0 if self.avg_gain > 0 else 50.0
        return 100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)


@dataclass(slots=True)
class _MarketState:
    fast: RollingMean
    slow: RollingMean
    rsi: WilderRsi
    band: RollingMean
    target: int = 0  # -1, 0, +1


class TechnicalStrategy(Strategy):
    """Trades one technical indicator (MA crossover, RSI or Bollinger bands) on the market timeline.

    Hosted by :class:`~engine.strategies.manager.StrategyManager`.
    """

    kind = "technical"
    wants: ClassVar[tuple[type[Event], ...]] = (PriceTick,)

    def __init__(self, config: TechnicalConfig | None = None, name: str | None = None) -> None:
        self.settings = config or TechnicalConfig()
        super().__init__(self.settings, name)
        self._markets_state: dict[str, _MarketState] = {}
        self.gate = DayAheadGate()
        self.venues = Venues()

    def describe(self) -> str:
        s = self.settings
        detail = {
            "ma_cross": f"MA {s.fast_window}/{s.slow_window}",
            "rsi": f"RSI {s.rsi_window} ({s.rsi_low:g}/{s.rsi_high:g})",
            "bollinger": f"Bollinger {s.bollinger_window}, {s.bollinger_k:g}σ",
        }[s.indicator]
        return f"technical: {detail}, ±{s.volume_mwh:g} MWh/h; {self.venues.words()}"

    def on_start(self, ctx: StrategyContext) -> None:
        # Indicators keep their history. A fresh gate: orders withdrawn at a stop
        # before the gate are sent again (what is held is subtracted).
        self.gate = DayAheadGate()

    def _state(self, market: str) -> _MarketState:
        state = self._markets_state.get(market)
        if state is None:
            s = self.settings
            state = self._markets_state[market] = _MarketState(
                RollingMean(s.fast_window),
                RollingMean(s.slow_window),
                WilderRsi(s.rsi_window),
                RollingMean(s.bollinger_window),
            )
        return state

    def on_event(self, event: Event, ctx: StrategyContext) -> None:
        assert type(event) is PriceTick
        market = event.market
        if not self.trades_market(market):
            return
        price = event.price_eur_mwh
        state = self._state(market)
        state.target = target = self._signal(state, price)
        volume = target * self.settings.volume_mwh
        words = {1: "long", -1: "short", 0: "flat"}[target]
        reason = f"{self.settings.indicator}: {words} {market} after {price:,.2f}"
        trade_target(ctx, market, volume, reason, self.gate, self.venues)

    def _signal(self, state: _MarketState, price: float) -> int:
        s = self.settings
        current = state.target
        if s.indicator == "ma_cross":
            state.fast.add(price)
            state.slow.add(price)
            if not state.slow.full:
                return current
            fast, slow = state.fast.mean, state.slow.mean
            return 1 if fast > slow else -1 if fast < slow else current
        if s.indicator == "rsi":
            state.rsi.add(price)
            if not state.rsi.ready:
                return current
            rsi = state.rsi.value
            if rsi < s.rsi_low:
                return 1
            if rsi > s.rsi_high:
                return -1
            if (current == 1 and rsi >= 50) or (current == -1 and rsi <= 50):
                return 0
            return current
        band = state.band
        if not band.full:
            band.add(price)
            return current
        # The band of the window *before* this price: with the price inside it, a
        # short window could never be left (at most (n−1)/√n σ away).
        mean, width = band.mean, s.bollinger_k * band.std
        band.add(price)
        if width > 0 and price < mean - width:
            return 1
        if width > 0 and price > mean + width:
            return -1
        if (current == 1 and price >= mean) or (current == -1 and price <= mean):
            return 0
        return current


__all__ = ["Indicator", "RollingMean", "TechnicalConfig", "TechnicalStrategy", "WilderRsi"]
