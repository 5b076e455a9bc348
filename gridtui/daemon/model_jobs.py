"""The daemon's model trainer and on-demand predictor, both over the engine's own store.

``POST /api/v1/models/train`` trains a price forecast on the prices this daemon
has stored (the last ``days`` of them, 28 by default, at most
:data:`MAX_TICKS_PER_MARKET` ticks per market), or on a price file inside the
data dir (``params.data``, resolved inside it: :func:`resolve_data_file`), exactly as
``gridtui train forecast`` would on a file: XGBoost off the event loop, ONNX
export, registration in ``DATA_DIR/models``, optionally promoted. Battery
policies are not trained here: their training needs years of prices and tens of
minutes of CPU, so the route refuses them with the command that does it.
Too little history is refused before training, saying how much a task needs
(:func:`needed_days`) and how much there is, per market.

``GET /api/v1/models/predict`` asks the engine's running forecast models for a
fresh forecast at the engine's now, from the history they hold, rather than
the last one they published.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from engine.events import Forecast, PriceKind, PriceTick
from engine.store.base import Store
from gridtui.daemon.state import ProgressCallback, TrainRequest
from gridtui.settings.loader import Settings
from gridtui.wiring import model_registry
from models.features.pipeline import PipelineConfig
from models.features.price_grid import STEP_MINUTES_ALLOWED, FeatureError, infer_step_minutes

TASK_KINDS = {"intraday": PriceKind.INTRADAY, "dayahead": PriceKind.DAY_AHEAD}
POLICY_REFUSED = (
    "battery policies train offline on years of prices (tens of CPU minutes): run "
    "`gridtui train battery --data FILE --market …` and promote the result; "
    "this route trains price forecasts (kind 'forecast')"
)
# What a request's ``params`` may set, with its type and bounds.
PARAM_BOUNDS: dict[str, tuple[type, float, float]] = {
    "days": (int, 2, 3650),
    "n_estimators": (int, 10, 2000),
    "max_depth": (int, 2, 12),
    "learning_rate": (float, 0.001, 1.0),
    "step_minutes": (int, 15, 60),
}
# Ticks read per market at most: a month of a tick every 15 s; a week of 1 s ticks.
MAX_TICKS_PER_MARKET = 200_000
# Beyond a model's first full window, a week of decision points to split into
# train, validation and test: fewer, and the split (or every target) is empty.
SPLIT_DAYS = 7
PRICE_FILE_SUFFIXES = (".parquet", ".pq", ".csv")


def needed_days(task: str) -> int:
    """Days of prices per market a ``task`` forecast needs: its lookback window plus the split."""
    from models.features.dayahead import DayAheadPipeline
    from models.features.intraday import IntradayPipeline

    pipeline = DayAheadPipeline if task == "dayahead" else IntradayPipeline
    return int(pipeline.lookback_days) + SPLIT_DAYS


def resolve_data_file(settings: Settings, raw: object) -> Path:
    """``params.data``: a price file inside the data dir, as a resolved path.

    Relative paths are taken from the data dir; whatever the path says (``..``,
    an absolute path, a symbolic link), the file it resolves to must lie inside
    the data dir, so the API never reads a file outside it.

    Raises:
        ValueError: naming ``params.data``, what was given and what is accepted.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"params.data must be a file name in the data dir, got {raw!r}")
    root = Path(settings.data_dir).expanduser().resolve()
    target = (root / raw).resolve()
    if not target.is_relative_to(root):
        raise ValueError(
            f"params.data {raw!r} is outside the daemon's data dir: only price files "
            "inside it can be trained on (copy the file there)"
        )
    if target.suffix.lower() not in PRICE_FILE_SUFFIXES:
        raise ValueError(
            f"params.data {raw!r} is not a price file: accepted are "
            f"{', '.join(PRICE_FILE_SUFFIXES)} files inside the data dir"
        )
    if not target.is_file():
        raise ValueError(f"params.data {raw!r}: no such file in the daemon's data dir")
    return target


def _spans(frame: pd.DataFrame, markets: Sequence[str]) -> dict[str, tuple[datetime, datetime]]:
    """First and last timestamp of each market's prices in ``frame``."""
    spans = {}
    for market in markets:
        stamps = frame.loc[frame["market"] == market, "timestamp"]
        if len(stamps):
            first = pd.Timestamp(stamps.min()).to_pydatetime()
            spans[market] = (first, pd.Timestamp(stamps.max()).to_pydatetime())
    return spans


def _days(span: tuple[datetime, datetime]) -> float:
    return (span[1] - span[0]).total_seconds() / 86_400


def history_words(spans: dict[str, tuple[datetime, datetime]], markets: Sequence[str]) -> str:
    """``12.0 days for DE from 2024-02-18 12:00 to 2024-03-01 12:00 UTC, none for FR``."""
    parts = []
    for market in markets:
        span = spans.get(market)
        if span is None:
            parts.append(f"none for {market}")
        else:
            parts.append(
                f"{_days(span):.1f} days for {market} "
                f"from {span[0]:%Y-%m-%d %H:%M} to {span[1]:%Y-%m-%d %H:%M} UTC"
            )
    return ", ".join(parts)


def _param(request: TrainRequest, name: str, default: float) -> Any:
    kind, low, high = PARAM_BOUNDS[name]
    value = request.params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"params.{name} must be a number, got {value!r}")
    if kind is int and int(value) != value:
        raise ValueError(f"params.{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"params.{name} must be within {low:g}..{high:g}, got {value!r}")
    return kind(value)


def _frame(ticks: Sequence[PriceTick]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime([t.ts for t in ticks], utc=True),
            "market": [t.market for t in ticks],
            "price_eur_mwh": [t.price_eur_mwh for t in ticks],
            "resolution_minutes": [t.delivery_minutes for t in ticks],
        }
    )


def _file_frame(path: Path, markets: Sequence[str]) -> pd.DataFrame:
    from gridtui.commands.forecast_data import load_frame

    frame, _ = load_frame(str(path), list(markets))
    return frame[["timestamp", "market", "price_eur_mwh"]]


class StoreTrainer:
    """Implements :class:`~gridtui.daemon.state.Trainer` on the daemon's stored prices."""

    def __init__(self, settings: Settings, store: Store, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self.store = store
        self.now = now

    async def __call__(self, request: TrainRequest, progress: ProgressCallback) -> str:
        if request.kind != "forecast":
            raise ValueError(POLICY_REFUSED)
        if request.task not in TASK_KINDS:
            raise ValueError(f"task must be one of {', '.join(TASK_KINDS)}, got {request.task!r}")
        known = [*PARAM_BOUNDS, "promote", "data"]
        unknown = sorted(set(request.params) - set(known))
        if unknown:
            raise ValueError(f"unknown params {unknown}; known: {known}")
        data = request.params.get("data")
        price_file = resolve_data_file(self.settings, data) if data is not None else None
        days = _param(request, "days", 28)
        n_estimators = _param(request, "n_estimators", 300)
        max_depth = _param(request, "max_depth", 6)
        learning_rate = _param(request, "learning_rate", 0.05)
        # Intraday ticks come at any spacing: the model's grid step is chosen
        # (an hour by default, as the shipped model); day-ahead prices carry theirs.
        step_minutes = _param(request, "step_minutes", 60)
        if step_minutes not in STEP_MINUTES_ALLOWED:
            raise ValueError(
                f"params.step_minutes must be one of {STEP_MINUTES_ALLOWED}, got {step_minutes}"
            )
        markets = list(request.markets or self.settings.markets)
        need = needed_days(request.task)
        if price_file is not None:
            progress(1.0, f"reading {price_file.name} from the data dir")
            frame = await asyncio.to_thread(_file_frame, price_file, markets)
            where = f"{price_file.name} holds"
        else:
            progress(1.0, f"reading {days} days of {request.task} prices from the store")
            ticks = await self._history(markets, TASK_KINDS[request.task], days)
            if not ticks:
                raise ValueError(
                    f"no stored {request.task} prices for {markets} in the last {days} days: "
                    f"a {request.task} forecast needs ≥ {need} days of prices per market "
                    "with a known target; let the daemon run longer, train on a price file "
                    "in the data dir (params.data), or offline with `gridtui train forecast`"
                )
            frame = _frame(ticks)
            where = f"the store holds (the last {days} days read: params.days)"
        spans = _spans(frame, markets)
        present = [m for m in markets if m in spans and _days(spans[m]) >= need]
        if not present:
            raise ValueError(
                f"a {request.task} forecast needs ≥ {need} days of prices per market with a "
                f"known target; {where} {history_words(spans, markets)}. Let the daemon run "
                "longer, train on a price file in the data dir (params.data), or offline "
                "with `gridtui train forecast`"
            )
        short = [m for m in markets if m not in present]
        if short:
            progress(2.0, f"left out, too little history: {history_words(spans, short)}")
        frame = frame[frame["market"].isin(present)]
        loop = asyncio.get_running_loop()

        def on_progress(done: int, total: int, stage: str) -> None:
            percent = 5.0 + 90.0 * done / total if total else 5.0
            loop.call_soon_threadsafe(progress, percent, stage or "training")

        def train() -> str:
            # The train extra (xgboost, onnxmltools) is imported only when a job runs.
            from models.training import TrainConfig, save_trained, train_forecast

            config = TrainConfig(
                pipeline=PipelineConfig(
                    task=request.task,
                    markets=tuple(m for m in markets if m in present),
                    step_minutes=(
                        step_minutes if request.task == "intraday" else infer_step_minutes(frame)
                    ),
                ),
                n_estimators=n_estimators,
                max_depth=max_depth,
                learning_rate=learning_rate,
                n_threads=1,  # leave the other core to the engine
            )
            # A fingerprint of the rows without writing them out as text first.
            rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
            digest = hashlib.sha256(rows.tobytes(), usedforsecurity=False).hexdigest()
            trained = train_forecast(frame, config, data_hash=digest, progress=on_progress)
            saved = save_trained(
                model_registry(self.settings),
                trained,
                promote=bool(request.params.get("promote", False)),
            )
            return saved.model_id

        from models.training import TrainingError

        try:
            return await asyncio.to_thread(train)
        except (FeatureError, TrainingError) as exc:
            raise ValueError(str(exc)) from exc

    async def _history(self, markets: Sequence[str], kind: PriceKind, days: int) -> list[PriceTick]:
        start = self.now() - timedelta(days=days)
        ticks: list[PriceTick] = []
        for market in markets:
            ticks += await self.store.price_history(
                market, start=start, kind=kind, limit=MAX_TICKS_PER_MARKET
            )
        return ticks


class LivePredictor:
    """Implements :class:`~gridtui.daemon.state.Predictor` with the running forecast models.

    Asks the engine's forecast components (``models.forecast.component``) for a
    fresh forecast from the history they hold — prices and fundamentals alike —
    at the engine's now. Intraday models answer first; a day-ahead model
    answers for markets no intraday model covers.
    """

    def __init__(self, components: Sequence[Any], now: Callable[[], datetime]) -> None:
        order = {"intraday": 0, "dayahead": 1}
        self.components = sorted(
            (c for c in components if hasattr(c, "forecast_now")),
            key=lambda c: order.get(c.forecaster.task, 2),
        )
        self.now = now

    async def __call__(self, market: str, horizon_steps: int) -> list[Forecast]:
        covering = [c for c in self.components if market in c.forecaster.config.markets]
        if not covering:
            raise ValueError(f"no running forecast model covers {market}")
        component = covering[0]
        forecasts: list[Forecast] = component.forecast_now(self.now())
        return [f for f in forecasts if f.market == market and f.horizon_steps <= horizon_steps]


__all__ = ["POLICY_REFUSED", "LivePredictor", "StoreTrainer"]
