"""Re-run from here, from the settings: check the request, run the backtest on the recording,
keep it, compare it with live.

The in-process engine client (:class:`~gridtui.client.in_process.InProcessClient`)
calls :func:`run_rerun` for the dashboard's ``R`` key and the daemon's
``POST /api/v1/rerun``. The run is :func:`engine.backtest.run.run_backtest` fed by
:class:`~engine.backtest.recording_feed.RecordingFeed` over the engine's own store
with the live strategy settings (plus the request's overrides), trading the
prices the live strategies trade; it is saved like any backtest (``data`` says
``recording from …``), then set beside the live trades by
:func:`engine.backtest.rerun.compare`.

The re-run feeds prices and spreads only: a strategy that needs forecasts or
fundamentals is left out and the comparison says why.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from typing import Any, Final

import msgspec
import msgspec.inspect

from engine.backtest.config import BacktestConfig
from engine.backtest.recording_feed import RecordingFeed
from engine.backtest.rerun import RerunComparison, compare, live_over
from engine.backtest.run import run_backtest
from engine.market.timeline import MarketTimeline
from engine.store.base import Store
from engine.store.recording import recording_span
from engine.strategies.registry import parse_names
from gridtui.client.protocol import RerunRequest
from gridtui.settings.loader import Settings
from gridtui.wiring import build_strategies, live_price_kind

_TICK: Final = timedelta(microseconds=1)


def with_overrides(settings: Settings, overrides: dict[str, str]) -> Settings:
    """``settings`` with ``{"kind.field": "TOML value"}`` applied to ``[strategies.<kind>]``.

    Raises:
        ValueError: naming the setting, the value and what is accepted.
    """
    section = settings.strategies
    changed: dict[str, dict[str, Any]] = {}
    for name, raw in overrides.items():
        kind, _, field = name.partition(".")
        if kind not in section.enabled or not field:
            raise ValueError(
                f"re-run setting {name!r}: give <strategy>.<field> with a strategy of "
                f"{', '.join(section.enabled)}"
            )
        config = section.config_of(kind)
        fields = msgspec.structs.fields(config)
        if field not in {f.name for f in fields}:
            raise ValueError(
                f"re-run setting {name!r}: {kind} has no field {field!r}; "
                f"fields: {', '.join(f.name for f in fields)}"
            )
        changed.setdefault(kind, {})[field] = _value(raw)
    replaced: dict[str, Any] = {}
    for kind, values in changed.items():
        current = msgspec.to_builtins(section.config_of(kind))
        try:
            replaced[kind] = msgspec.convert(
                {**current, **values}, type(section.config_of(kind)), strict=False
            )
        except (msgspec.ValidationError, ValueError) as exc:
            shown = ", ".join(f"{kind}.{k} = {overrides[f'{kind}.{k}']!r}" for k in values)
            accepted = "; ".join(
                f"{kind}.{k} takes {_accepted(type(section.config_of(kind)), k)}" for k in values
            )
            raise ValueError(f"re-run setting {shown}: {exc} ({accepted})") from None
    if not replaced:
        return settings
    return msgspec.structs.replace(
        settings, strategies=msgspec.structs.replace(section, **replaced)
    )


def _accepted(config_type: type, field: str) -> str:
    """What a config field takes, in words: its choices, or its type."""
    info = msgspec.inspect.type_info(config_type)
    fields = info.fields if isinstance(info, msgspec.inspect.StructType) else ()
    kind = next((f.type for f in fields if f.name == field), None)
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "one of " + ", ".join(str(v) for v in kind.values)
    if isinstance(kind, msgspec.inspect.EnumType):
        return "one of " + ", ".join(str(m.value) for m in kind.cls)
    words: dict[type, str] = {
        msgspec.inspect.FloatType: "a number",
        msgspec.inspect.IntType: "a whole number",
        msgspec.inspect.BoolType: "true or false",
        msgspec.inspect.StrType: "text",
    }
    return words.get(type(kind), f"a {type(kind).__name__.removesuffix('Type').lower()}")


def _value(raw: str) -> Any:
    """A TOML value (``3``, ``1.5``, ``true``, ``"mpc"``, ``[1, 2]``), else the text itself."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw.strip()


async def run_rerun(
    settings: Settings,
    store: Store,
    request: RerunRequest,
    *,
    run_id: str,
    created_at: datetime,
) -> RerunComparison:
    """Re-run ``request`` over the recording in ``store``; save it; compare it with live.

    Raises:
        ValueError: a bad request (the field, the value, what is accepted) or no prices.
        StoreError: the store failed.
    """
    names = parse_names(request.strategies)
    if not names:
        raise ValueError("re-run strategies: name at least one")
    not_loaded = [n for n in names if n not in settings.strategies.enabled]
    if not_loaded:
        raise ValueError(
            f"re-run strategies: {', '.join(not_loaded)} not loaded here; "
            f"loaded: {', '.join(settings.strategies.enabled)}"
        )
    since, until = await _span(settings, store, request)
    run_settings = with_overrides(settings, request.settings)
    timeline = MarketTimeline(settings.market)
    config = BacktestConfig(
        run_id=run_id,
        start=since,
        end=until,
        strategies=names,
        data=f"recording from {since.isoformat()}",
        markets=settings.markets,
        price_kind=live_price_kind(settings),
        execution=run_settings.strategies.execution,
        spreads=settings.spreads,
        timeline=settings.market,
    )
    feed = RecordingFeed(store, settings.markets, since, until, timeline)
    result = await run_backtest(
        config, feed, build_strategies(run_settings, names), created_at=created_at
    )
    result.record.config["rerun"] = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "settings": dict(request.settings),
    }
    await store.save_backtest(result.record)
    await store.save_backtest_trades(run_id, result.trades)
    live = await live_over(store, names, since, until)
    return compare(
        run_id, since, until, live, result.trades, result.skipped, ticks_replayed=feed.ticks_sent
    )


async def _span(
    settings: Settings, store: Store, request: RerunRequest
) -> tuple[datetime, datetime]:
    """``[since, until)`` of the request, checked against the recording."""
    for name, value in (("since", request.since), ("until", request.until)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"re-run {name} {value.isoformat()} needs a time zone (UTC or offset)")
    span = await recording_span(store, settings.markets)
    if span is None:
        raise ValueError("nothing is recorded yet: a re-run needs recorded prices")
    end = span.last + _TICK  # the newest recorded instant is part of the recording
    since = request.since
    until = request.until or end
    if not span.first <= since < end:
        raise ValueError(
            f"re-run since {since.isoformat()} is outside the recording "
            f"({span.first.isoformat()} … {span.last.isoformat()})"
        )
    if until <= since:
        raise ValueError(
            f"re-run until {until.isoformat()} must come after since {since.isoformat()}"
        )
    return since, min(until, end)


__all__ = ["run_rerun", "with_overrides"]
