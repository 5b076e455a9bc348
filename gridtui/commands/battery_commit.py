"""The committed rows of ``gridtui eval battery``: their forecasts, and the forecaster's check.

A committed battery (:mod:`engine.battery.commitment`) plans day D at D−1's gate
closure on a forecast of D. The rows made here:

- ``lp on persistence (D-1)`` and ``lp on weekly naive (D-7)`` — the baselines,
  read from the whole price file so the first evaluated day has its history;
- ``lp on <model>`` — the project's day-ahead forecaster chosen with
  ``--forecast-model ID|promoted``, its forecasts made as at 10:00 on D−1 (as
  :func:`models.forecast.dayahead.model_forecasts` makes them, with the band:
  :func:`band_forecasts`); the LP plans on the band's expected price
  (:func:`engine.battery.gate_forecast.expected_from_band`). A model trained on days
  that do not all come before the evaluated ones is refused (it would be scored
  in sample; :func:`models.forecast.meta.in_sample_reason`). The shipped
  defaults were trained on the simulator, so their simulated dates never
  count as overlap; a user's model is judged by the training range its
  metadata records (``train_days``, else ``train_from``/``train_to``);
- ``rl <policy> on <forecast>`` — the RL policy rolled over the forecaster's
  forecast (the weekly naive one without ``--forecast-model``) as if it were
  the prices, committed and settled like the LP.

Called by :func:`gridtui.commands.battery.run_eval`; the rows are scored
by :func:`gridtui.commands.battery_output.evaluate`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from gridtui.commands.battery_output import CommittedEntry


class CommitError(RuntimeError):
    """A committed row cannot be made; the message says why and what to do instead."""


def _on_grid(full: Mapping[str, Any], lag_days: int) -> Callable[[Any], Any | None]:
    from engine.battery.gate_forecast import forecast_on_grid, lagged_forecast

    def forecast(one: Any) -> Any | None:
        history = full.get(one.market)
        if history is None:
            return None
        return forecast_on_grid(one, history.times_us(), lagged_forecast(history, lag_days))

    return forecast


def evaluated_days(series: Sequence[Any]) -> tuple[date, date]:
    """The first and last local delivery day of the evaluated series."""
    from engine.battery.gate_forecast import delivery_days

    calendars = [delivery_days(one) for one in series]
    return min(c[0].day for c in calendars), max(c[-1].day for c in calendars)


def _is_shipped(registry: Any, model_id: str) -> bool:
    shipped = registry.shipped
    if shipped is None:
        return False
    found = Path(registry.path(model_id)).resolve()
    return Path(shipped).resolve() in found.parents


def band_forecasts(
    forecaster: Any, frame: Any, markets: Sequence[str], first_day: date, last_day: date
) -> dict[str, dict[str, Any]]:
    """Per market the ``lower``/``point``/``upper`` forecasts of days first_day..last_day.

    :func:`models.forecast.dayahead.model_forecasts` with the band, in its
    Series shape (UTC delivery starts of the local days, NaN where none): the
    same features, the same decision time, the band calibrated at training.
    """
    import pandas as pd

    from models.features.dayahead import DayAheadPipeline
    from models.features.price_grid import FeatureError, grid_from_frame
    from models.forecast.dayahead import delivery_index

    pipeline, config = forecaster.pipeline, forecaster.config
    if not isinstance(pipeline, DayAheadPipeline):
        raise FeatureError(f"model {forecaster.model_id!r} is not a day-ahead model")
    unknown = [m for m in markets if m not in config.markets]
    if unknown:
        raise FeatureError(f"model {forecaster.model_id!r} does not forecast {unknown}")
    grid = grid_from_frame(frame, config.markets, config.step_minutes, config.fundamentals)
    block = pipeline.compute(grid, pipeline.days_between(first_day, last_day))
    index = delivery_index(first_day, last_day)
    band = forecaster.predict_block(block) if len(block) else None
    starts = pd.to_datetime(block.target_step * config.step_s, unit="s", utc=True)
    out: dict[str, dict[str, Any]] = {}
    for market in markets:
        mine = block.market == config.markets.index(market)
        out[market] = {
            name: pd.Series(
                getattr(band, name)[mine] if band is not None else [],
                index=starts[mine],
                dtype=float,
            ).reindex(index)
            for name in ("lower", "point", "upper")
        }
    return out


def planning_forecasts(
    forecaster: Any, frame: Any, markets: Sequence[str], first_day: date, last_day: date
) -> dict[str, Any]:
    """The price the committed LP plans on, per market: the band's expected price.

    A model whose band is not the 10–90 % one falls back to its point forecast
    (Swanson's weights hold for P10/P50/P90 only).
    """
    import pandas as pd

    from engine.battery.gate_forecast import expected_from_band

    bands = band_forecasts(forecaster, frame, markets, first_day, last_day)
    quantiles = [float(q) for q in forecaster.meta.extra.get("quantiles", [])]
    if quantiles != [0.1, 0.9]:
        return {market: band["point"] for market, band in bands.items()}
    return {
        market: pd.Series(
            expected_from_band(band["lower"], band["point"], band["upper"]),
            index=band["point"].index,
            name=market,
        )
        for market, band in bands.items()
    }


def _forecaster_forecast(
    args: argparse.Namespace, registry: Any, series: Sequence[Any]
) -> tuple[str, Callable[[Any], Any | None]]:
    """``(model id, forecast per series)`` of ``--forecast-model``, or CommitError."""
    import pandas as pd

    from engine.battery.gate_forecast import forecast_on_grid
    from engine.ports import FeedError
    from gridtui.commands.forecast_data import load_frame
    from models.features.price_grid import FeatureError
    from models.forecast.meta import in_sample_reason
    from models.forecast.onnx_forecaster import OnnxForecaster
    from models.registry import RegistryError

    wanted = args.forecast_model
    try:
        if wanted == "promoted":
            meta = registry.promoted("forecast", "dayahead")
            if meta is None:
                raise CommitError("no day-ahead forecaster is promoted; name one by its id")
            wanted = meta.model_id
        forecaster = OnnxForecaster.load(registry, wanted)
    except RegistryError as exc:
        raise CommitError(str(exc)) from exc
    if forecaster.task != "dayahead":
        raise CommitError(f"model {wanted!r} is a {forecaster.task} model, not a day-ahead one")
    first_day, last_day = evaluated_days(series)
    reason = in_sample_reason(
        forecaster.meta, first_day, last_day, simulated=_is_shipped(registry, wanted)
    )
    if reason is not None:
        raise CommitError(
            f"refusing forecaster {wanted!r} for the committed battery: {reason}. "
            f"Evaluate later days (--from), or train one on days before {first_day}: "
            f"gridtui train forecast --data FILE --to {first_day}"
        )
    markets = [one.market for one in series if one.market in forecaster.config.markets]
    try:
        frame, _ = load_frame(args.data, list(forecaster.config.markets))
        found = planning_forecasts(forecaster, frame, markets, first_day, last_day)
    except (FeedError, FeatureError) as exc:
        raise CommitError(f"forecaster {wanted!r} cannot forecast {args.data}: {exc}") from exc
    aligned = {
        m: (pd.DatetimeIndex(s.index).as_unit("us").asi8, s.to_numpy(dtype=float))
        for m, s in found.items()
    }

    def forecast(one: Any) -> Any | None:
        if one.market not in aligned:
            return None
        return forecast_on_grid(one, *aligned[one.market])

    return wanted, forecast


def _rolled(policy: Any) -> Callable[[], Any]:
    """A factory of planners that roll the RL ``policy`` over a day's forecast."""
    from engine.battery.commitment import ControllerPlanner
    from engine.battery.policy_controller import PolicyController

    return lambda: ControllerPlanner(PolicyController(policy))


def committed_entries(
    args: argparse.Namespace,
    registry: Any,
    series: Sequence[Any],
    whole_file: Sequence[Any],
    policies: Sequence[tuple[str, Any]],
) -> list[CommittedEntry]:
    """The committed rows (module doc); ``whole_file`` is every market's series, uncut.

    Raises:
        CommitError: ``--forecast-model`` names a model that cannot be used here.
    """
    from engine.battery.commitment import LpPlanner

    full = {one.market: one for one in whole_file}
    weekly = _on_grid(full, 7)
    entries = [
        CommittedEntry("lp on persistence (D-1)", _on_grid(full, 1), LpPlanner),
        CommittedEntry("lp on weekly naive (D-7)", weekly, LpPlanner),
    ]
    rl_label, rl_forecast = "weekly naive (D-7)", weekly
    if args.forecast_model:
        model_id, forecast = _forecaster_forecast(args, registry, series)
        entries.append(CommittedEntry(f"lp on {model_id}", forecast, LpPlanner))
        rl_label, rl_forecast = model_id, forecast
    for policy_id, policy in policies:
        entries.append(
            CommittedEntry(
                f"rl {policy_id} on {rl_label}",
                rl_forecast,
                _rolled(policy),
            )
        )
    return entries
