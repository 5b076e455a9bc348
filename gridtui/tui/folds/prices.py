"""PriceFold: the Prices pane and the chart — per market, the last tick and chart buckets.

Intraday ticks set the price and fill the chart's buckets; day-ahead ticks and
forecasts are kept by delivery start, for the chart's future and the columns.
Forecasts of a day-ahead model (named in ``forecasters``) are kept apart: they
are the next delivery day's curve, drawn past the intraday forecasts. Until an
intraday forecaster's first forecast of a market arrives, the fold counts the
steps that market has closed against the steps the forecaster needs, so the pane
can say "warming up" with real numbers instead of an empty column.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from engine.events import INTRADAY_AUCTION_KINDS, Forecast, PriceKind, PriceTick
from gridtui.tui.folds.clock import EngineClock, age
from gridtui.tui.views import ChartSeries, MarketView

TREND_POINTS: Final = 24
HOUR_S: Final = 3600.0
# The chart reaches at most this far ahead to show the next day's forecast curve
# (a day-ahead forecast is made on D−1 at 10:00 for D, up to ~38 h ahead).
DAY_AHEAD_REACH_S: Final = 48 * HOUR_S

_Band = tuple[float, float | None, float | None]


@dataclass(frozen=True, slots=True)
class ForecasterNeeds:
    """What the fold knows of one forecast model running on the engine.

    ``warmup_steps`` closed steps of ``step_s`` seconds are needed before the
    model's first forecast. A day-ahead model forecasts D at ``decision_time``
    (local, in ``timezone``) on D−1, or once warmed up when the engine started
    later; without a decision time the pane does not say when it is due.
    """

    model_id: str
    task: str  # "intraday" | "dayahead"
    step_s: int
    warmup_steps: int
    decision_time: str = ""  # "10:00"
    timezone: str = ""  # "Europe/Brussels"


class MarketState:
    """What the model keeps per market: the last tick and chart buckets."""

    __slots__ = (
        "buckets",
        "day_ahead",
        "day_ahead_forecasts",
        "forecasts",
        "intraday_forecast_seen",
        "last_price",
        "last_ts_s",
        "steps_seen",
    )

    def __init__(self, bucket_limit: int) -> None:
        self.last_price: float | None = None
        self.last_ts_s = -math.inf
        # [bucket_start_s, last price in the bucket], oldest first.
        self.buckets: deque[list[float]] = deque(maxlen=bucket_limit)
        self.day_ahead: dict[float, tuple[float, float]] = {}  # start_s → (end_s, price)
        self.forecasts: dict[float, _Band] = {}
        self.day_ahead_forecasts: dict[float, _Band] = {}
        self.intraday_forecast_seen = False
        # Distinct forecaster steps with a tick, counted only while warming up.
        self.steps_seen: set[int] = set()


class PriceFold:
    """Folds price ticks and forecasts per market; builds the Prices rows and charts.

    Args:
        markets: the markets configured on the engine, in display order.
        clock: the model's engine clock (ticks advance it).
        stale_after_s: engine seconds after which a market's price is stale.
        chart_hours: hours of history kept for the chart.
        forecasters: the forecast models on the engine, if the client knows them.
    """

    def __init__(
        self,
        markets: Sequence[str],
        clock: EngineClock,
        *,
        stale_after_s: float,
        chart_hours: float,
        forecasters: Sequence[ForecasterNeeds] = (),
    ) -> None:
        self.market_names = tuple(markets)
        self.clock = clock
        self.stale_after_s = stale_after_s
        self.past_s = chart_hours * HOUR_S
        self.future_s = self.past_s / 3
        # About 360 points of history: finer than any terminal is wide.
        self.bucket_s = max(1.0, self.past_s / 360)
        self._bucket_limit = int(self.past_s / self.bucket_s) + 2
        self.markets: dict[str, MarketState] = {
            name: MarketState(self._bucket_limit) for name in self.market_names
        }
        self._day_ahead_models = {f.model_id for f in forecasters if f.task == "dayahead"}
        self.day_ahead_plan = next(
            (f for f in forecasters if f.task == "dayahead" and f.decision_time and f.timezone),
            None,
        )
        self.first_tick_s = math.inf  # engine time of the first intraday tick folded
        intraday = [f for f in forecasters if f.task != "dayahead" and f.step_s > 0]
        # The quickest intraday model decides when the first forecast comes.
        self.warmup = min(intraday, key=lambda f: f.step_s * f.warmup_steps, default=None)

    # -- folding ---------------------------------------------------------------

    def state(self, market: str) -> MarketState:
        state = self.markets.get(market)
        if state is None:  # a market the engine streams but was not configured here
            state = self.markets[market] = MarketState(self._bucket_limit)
            self.market_names = (*self.market_names, market)
        return state

    def on_price(self, tick: PriceTick) -> None:
        state = self.state(tick.market)
        ts_s = tick.ts.timestamp()
        if tick.kind is PriceKind.DAY_AHEAD:
            minutes = tick.delivery_minutes or 60
            state.day_ahead[ts_s] = (ts_s + minutes * 60, tick.price_eur_mwh)
            if len(state.day_ahead) > 1_000:
                self._prune_day_ahead(state)
            return
        if tick.kind in INTRADAY_AUCTION_KINDS:
            return  # priced by delivery start like day-ahead; the pane does not show them yet
        self.clock.advance(tick.ts)
        self.first_tick_s = min(self.first_tick_s, ts_s)
        if ts_s < state.last_ts_s:
            return  # late tick: the newer price stays
        state.last_ts_s = ts_s
        state.last_price = tick.price_eur_mwh
        warmup = self.warmup
        if (
            warmup is not None
            and not state.intraday_forecast_seen
            and len(state.steps_seen) <= warmup.warmup_steps
        ):
            state.steps_seen.add(int(ts_s) // warmup.step_s)
        bucket_start_s = ts_s - ts_s % self.bucket_s
        buckets = state.buckets
        if buckets and buckets[-1][0] == bucket_start_s:
            buckets[-1][1] = tick.price_eur_mwh
        else:
            buckets.append([bucket_start_s, tick.price_eur_mwh])

    def _prune_day_ahead(self, state: MarketState) -> None:
        cutoff_s = self.clock.now_s - self.past_s
        for start_s in [s for s, (end_s, _) in state.day_ahead.items() if end_s < cutoff_s]:
            del state.day_ahead[start_s]

    def on_forecast(self, forecast: Forecast) -> None:
        state = self.state(forecast.market)
        target_s = forecast.target_ts.timestamp()
        if forecast.model_id in self._day_ahead_models:
            kept = state.day_ahead_forecasts
        else:
            kept = state.forecasts
            state.intraday_forecast_seen = True
            state.steps_seen.clear()
        kept[target_s] = (forecast.price_eur_mwh, forecast.lower_eur_mwh, forecast.upper_eur_mwh)
        if len(kept) > 1_000:
            cutoff_s = self.clock.now_s - self.past_s
            for old_s in [s for s in kept if s < cutoff_s]:
                del kept[old_s]

    # -- reading ---------------------------------------------------------------

    def latest_tick_s(self) -> float:
        """Engine time of the newest intraday tick of any market (-inf before one)."""
        return max((s.last_ts_s for s in self.markets.values()), default=-math.inf)

    def market_views(self) -> tuple[MarketView, ...]:
        return tuple(self._market_view(name) for name in self.market_names)

    def charts(self) -> dict[str, ChartSeries]:
        return {name: self._chart(name) for name in self.market_names}

    def _market_view(self, name: str) -> MarketView:
        state = self.markets[name]
        now_s = self.clock.now_s
        age_s = age(now_s, state.last_ts_s)
        closes = [price for _, price in state.buckets]
        day_ahead = day_ahead_at(state, now_s)
        forecast_at = _next_forecast(state, now_s, self._step_s())
        forecast, forecast_in_s = (None, None) if forecast_at is None else forecast_at
        warmup = self._warmup_of(state)
        step_s = self._step_s()
        if state.last_price is None and day_ahead is not None:
            return MarketView(
                market=name,
                price_eur_mwh=day_ahead,
                day_ahead_eur_mwh=day_ahead,
                forecast_eur_mwh=forecast,
                forecast_in_s=forecast_in_s,
                forecast_warmup=warmup,
                forecast_step_s=step_s,
                from_day_ahead=True,
            )
        change = None
        if state.last_price is not None:
            # Δ 1h needs a price from an hour ago: before an hour of history it is unknown.
            for start_s, price in reversed(state.buckets):
                if start_s <= state.last_ts_s - HOUR_S:
                    change = state.last_price - price
                    break
        return MarketView(
            market=name,
            price_eur_mwh=state.last_price,
            change_1h_eur_mwh=change,
            last_tick_age_s=age_s,
            stale=age_s is not None and age_s > self.stale_after_s,
            day_ahead_eur_mwh=day_ahead,
            forecast_eur_mwh=forecast,
            forecast_in_s=forecast_in_s,
            forecast_warmup=warmup,
            forecast_step_s=step_s,
            trend=tuple(closes[-TREND_POINTS:]),
        )

    def _warmup_of(self, state: MarketState) -> tuple[int, int] | None:
        """``(closed, needed)`` steps while the intraday forecaster has not forecast yet."""
        warmup = self.warmup
        if warmup is None or state.intraday_forecast_seen:
            return None
        # The step of the newest tick is still open: only the ones before it are closed.
        closed = max(0, len(state.steps_seen) - 1)
        if closed >= warmup.warmup_steps:
            return None  # warmed up, yet no forecast (a market the model lacks): say nothing
        return (closed, warmup.warmup_steps)

    def _chart(self, name: str) -> ChartSeries:
        state = self.markets[name]
        now_s = self.clock.now_s if math.isfinite(self.clock.now_s) else 0.0
        start_s, end_s = now_s - self.past_s, now_s + self.future_s
        day_ahead_forecast = tuple(
            (t, p, lo, hi)
            for t, (p, lo, hi) in sorted(state.day_ahead_forecasts.items())
            if now_s <= t <= now_s + DAY_AHEAD_REACH_S
        )
        if day_ahead_forecast:
            # Reach out to the end of the forecast day (its last step is an hour long).
            end_s = max(end_s, day_ahead_forecast[-1][0] + HOUR_S)
        warmup = self._warmup_of(state)
        due = day_ahead_due(self.day_ahead_plan, now_s, self.first_tick_s, day_ahead_forecast)
        return ChartSeries(
            market=name,
            start_s=start_s,
            now_s=now_s,
            end_s=end_s,
            bucket_s=self.bucket_s,
            intraday=tuple((s, p) for s, p in state.buckets if s >= start_s),
            day_ahead=tuple(
                (s, e, p)
                for s, (e, p) in sorted(state.day_ahead.items())
                if e > start_s and s < end_s
            ),
            forecast=tuple(
                (t, p, lo, hi)
                for t, (p, lo, hi) in sorted(state.forecasts.items())
                if now_s <= t <= end_s
            ),
            day_ahead_forecast=day_ahead_forecast,
            warmup="" if warmup is None else warmup_text(*warmup, self._step_s(), state.last_ts_s),
            day_ahead_due_s=None if due is None else due[0],
            day_ahead_waits_for="" if due is None else due[1],
        )

    def _step_s(self) -> int:
        return self.warmup.step_s if self.warmup is not None else 0


def warmup_text(closed: int, needed: int, step_s: int, last_tick_s: float) -> str:
    """``forecast warming up: 0 of 1 hours closed, first due 14:00`` — the Prices pane's hint.

    The first forecast is due when the first tick of the step after the last
    needed one closes it: ``needed − closed`` step boundaries after the newest tick.
    """
    unit = "hours" if step_s == 3600 else "quarter-hours" if step_s == 900 else f"{step_s} s steps"
    text = f"forecast warming up: {closed} of {needed} {unit} closed"
    if not math.isfinite(last_tick_s):
        return text
    due_s = (int(last_tick_s) // step_s + needed - closed) * step_s
    return f"{text}, first due {datetime.fromtimestamp(due_s, UTC):%H:%M}"


def day_ahead_due(
    plan: ForecasterNeeds | None,
    now_s: float,
    first_tick_s: float,
    curve: Sequence[tuple[float, float, float | None, float | None]],
) -> tuple[float, str] | None:
    """When tomorrow's day-ahead forecast is due and what it waits for, while it is not in.

    Tomorrow is the model's next local day. Its forecast is made at the
    decision time on today; an engine that started later (or shortly before,
    for a model that needs fundamentals) forecasts once its first
    ``warmup_steps`` steps have closed — as ``ForecastComponent`` does.
    """
    if plan is None or not math.isfinite(now_s):
        return None
    zone = ZoneInfo(plan.timezone)
    today = datetime.fromtimestamp(now_s, zone).date()
    tomorrow_s = datetime.combine(today + timedelta(days=1), time(), zone).timestamp()
    if any(t >= tomorrow_s for t, *_ in curve):
        return None
    decision = datetime.combine(today, time.fromisoformat(plan.decision_time), zone)
    due_s, waits_for = decision.timestamp(), "its decision time"
    if plan.warmup_steps and math.isfinite(first_tick_s) and plan.step_s > 0:
        warm_s = float((int(first_tick_s) // plan.step_s + plan.warmup_steps) * plan.step_s)
        if warm_s > due_s:
            unit = "hour" if plan.step_s == 3600 else f"{plan.step_s // 60}-minute step"
            due_s, waits_for = warm_s, f"a closed {unit} of load, wind and solar"
    return due_s, waits_for


def day_ahead_at(state: MarketState, now_s: float) -> float | None:
    """The day-ahead price of the delivery period that holds ``now_s``, if known."""
    for start_s, (end_s, price) in state.day_ahead.items():
        if start_s <= now_s < end_s:
            return price
    return None


def _next_forecast(
    state: MarketState, now_s: float, step_s: float = 0.0
) -> tuple[float, float] | None:
    """The forecast of the period in progress, else the nearest ahead: ``(price, target − now)``.

    Targets are period starts: a forecast of the hour in progress (``step_s``
    long) is still the one to show, with a negative distance ("now").
    """
    upcoming = [t for t in state.forecasts if t + step_s > now_s]
    if not upcoming:
        return None
    target_s = min(upcoming)
    return state.forecasts[target_s][0], target_s - now_s
