"""The ``forecast_off`` alert rule: forecasts vs realised prices.

Forecasts wait on the engine (``AlertState.pending``, by market and target
time, at most ``max_pending_forecasts`` of them, oldest dropped) until the price
they forecast arrives; :func:`check_forecasts` compares them with it and alerts
when one is off by more than ``forecast_max_error_eur_mwh``. Per market, the
earliest target of an intraday forecast is kept too (``next_due``), so a tick
looks at the forecasts only when one is due. Forecasts nothing realised are
dropped after two days (:func:`expire_forecasts`, on the engine's timer).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.alerts.state import AlertState
from engine.events import Alert, Forecast, PriceKind, PriceTick, Severity


def hold_forecast(state: AlertState, forecast: Forecast) -> None:
    """Keep ``forecast`` until its price realises (a newer one for the same target replaces it)."""
    by_target = state.pending.setdefault(forecast.market, {})
    if forecast.target_ts not in by_target:
        state.pending_count += 1
    by_target[forecast.target_ts] = forecast
    if not _is_day_ahead(forecast):
        due = state.next_due.get(forecast.market)
        if due is None or forecast.target_ts < due:
            state.next_due[forecast.market] = forecast.target_ts
    if state.pending_count > state.config.max_pending_forecasts:
        _drop_oldest(state)


def _drop_oldest(state: AlertState) -> None:
    market, target = min(
        ((m, min(targets)) for m, targets in state.pending.items() if targets),
        key=lambda item: item[1],
    )
    _remove(state, market, target)


def _remove(state: AlertState, market: str, target: datetime) -> None:
    by_target = state.pending[market]
    del by_target[target]
    state.pending_count -= 1
    intraday = [t for t, f in by_target.items() if not _is_day_ahead(f)]
    if intraday:
        state.next_due[market] = min(intraday)
    else:
        state.next_due.pop(market, None)
    if not by_target:
        del state.pending[market]


def check_forecasts(state: AlertState, tick: PriceTick, now: datetime, alerts: list[Alert]) -> None:
    """Compare forecasts with the price that realised them.

    A day-ahead model (its id names ``dayahead``/``day_ahead``) is judged on
    the day-ahead price of its target period; any other on the first
    intraday tick at or after its target time.
    """
    by_target = state.pending.get(tick.market)
    if not by_target:
        return
    if tick.kind is PriceKind.DAY_AHEAD:
        forecast = by_target.get(tick.ts)
        due = [forecast] if forecast is not None and _is_day_ahead(forecast) else []
    elif tick.kind is PriceKind.INTRADAY:
        next_due = state.next_due.get(tick.market)
        if next_due is None or tick.ts < next_due:
            return
        due = [f for t, f in by_target.items() if t <= tick.ts and not _is_day_ahead(f)]
    else:
        return
    for forecast in due:
        _remove(state, forecast.market, forecast.target_ts)
        error = tick.price_eur_mwh - forecast.price_eur_mwh
        if abs(error) <= state.config.forecast_max_error_eur_mwh:
            continue
        model = forecast.model_id or "forecast"
        state.emit(
            alerts,
            now,
            "forecast_off",
            f"{tick.market}:{model}",
            Severity.WARNING,
            f"{model} forecast €{forecast.price_eur_mwh:,.2f}/MWh for {tick.market} at "
            f"{forecast.target_ts:%Y-%m-%d %H:%M} UTC; realised €{tick.price_eur_mwh:,.2f} "
            f"(off by €{abs(error):,.2f})",
            market=tick.market,
        )


def expire_forecasts(state: AlertState, now: datetime) -> None:
    """Drop the forecasts whose target is more than two days before ``now``."""
    horizon = now - timedelta(days=2)
    stale = [
        (market, target)
        for market, targets in state.pending.items()
        for target in targets
        if target < horizon
    ]
    for market, target in stale:
        _remove(state, market, target)


def _is_day_ahead(forecast: Forecast) -> bool:
    model = forecast.model_id.lower()
    return "dayahead" in model or "day_ahead" in model or "day-ahead" in model


__all__ = ["check_forecasts", "expire_forecasts", "hold_forecast"]
