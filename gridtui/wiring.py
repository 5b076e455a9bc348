"""The one place where concrete feeds, models, engine parts, store and bus meet.

Everything else talks to protocols; this module turns :class:`Settings` into a
ready :class:`engine.runtime.Runtime`. Heavy optional backends (asyncpg, redis)
are imported only when a URL asks for them.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from engine.alerts.engine import AlertEngine
from engine.battery.physics import BatterySpec
from engine.bus.base import Bus
from engine.bus.memory import MemoryBus
from engine.clock import Clock, LiveClock, SimClock
from engine.events import PriceKind
from engine.kernel import Component
from engine.ports import Feed, FeedError
from engine.runtime import Runtime
from engine.spreads.engine import SpreadEngine
from engine.store.base import Store
from engine.store.sqlite import SqliteStore
from engine.store.writer import WriterConfig
from engine.strategies.base import Strategy
from engine.strategies.battery import BatteryStrategyConfig
from engine.strategies.config import ManagerConfig
from engine.strategies.manager import StrategyManager
from gridtui.settings.loader import Settings, SettingsError, redact_url
from gridtui.settings.zones import zone_table

if TYPE_CHECKING:
    from engine.battery.fleet import BatteryFleet
    from feeds.entsoe.client import EntsoeClient
    from models.registry import Registry


log = logging.getLogger(__name__)


def build_store(settings: Settings) -> Store:
    url = settings.store.url
    if url.startswith("sqlite"):
        return SqliteStore(settings.sqlite_path())
    if url.startswith(("postgresql://", "postgres://")):
        from engine.store.postgres import PostgresStore

        return PostgresStore(url, schema=settings.store.schema)
    raise SettingsError(
        f"unknown store {redact_url(url)!r}: use `sqlite`, `sqlite:PATH` or `postgresql://user@host:5432/db`"
    )


def build_bus(settings: Settings) -> Bus:
    url = settings.bus.url
    if url == "memory":
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from engine.bus.redis_streams import RedisBus

        return RedisBus(url, prefix=settings.bus.prefix, maxlen=settings.bus.maxlen)
    raise SettingsError(f"unknown bus {redact_url(url)!r}: use `memory` or `redis://host:6379/0`")


def build_feed(settings: Settings) -> Feed:
    kind = settings.feed.kind
    if kind == "mock":
        from feeds.mock.feed import MockFeed, MockFeedConfig

        return MockFeed(
            MockFeedConfig(
                markets=settings.markets,
                seed=settings.feed.seed,
                tick_interval_s=settings.feed.tick_interval_s,
                start=settings.feed.start,
                timeline=settings.market,
                zones=zone_table(settings),
            )
        )
    if kind == "replay":
        from feeds.replay import ReplayConfig, ReplayFeed

        return ReplayFeed(
            ReplayConfig(
                path=_replay_path(settings),
                markets=settings.markets,
                fundamentals=_replay_fundamentals(settings),
                fundamentals_delay_minutes=settings.feed.fundamentals_delay_minutes,
            )
        )
    if kind == "entsoe":
        from feeds.entsoe import EntsoeFeed, EntsoeFeedConfig

        return EntsoeFeed(
            build_entsoe_client(settings),
            EntsoeFeedConfig(
                zones=entsoe_zones(settings, settings.markets),
                poll_interval_s=settings.entsoe.poll_interval_s,
                day_ahead_sequence=settings.entsoe.day_ahead_sequence,
                fundamentals=settings.entsoe.fundamentals,
                backfill_max_days=settings.entsoe.backfill_max_days,
            ),
        )
    raise SettingsError(f"unknown feed {kind!r}: use `mock`, `replay` or `entsoe`")


def _replay_path(settings: Settings) -> str:
    if not settings.feed.path:
        raise SettingsError("feed.kind = replay needs feed.path: the file to play (--replay FILE)")
    return settings.feed.path


def _replay_fundamentals(settings: Settings) -> tuple[str, ...]:
    """``feed.fundamentals``, checked now: a misnamed file or a missing column is the
    user's to fix before the replay starts, not a feed failure halfway through."""
    from feeds.replay_fundamentals import check_files

    paths = settings.feed.fundamentals
    try:
        check_files(paths, settings.markets)
    except FeedError as exc:
        raise SettingsError(f"feed.fundamentals (--fundamentals): {exc}") from exc
    return paths


def build_clock(settings: Settings) -> Clock:
    """Wall-clock time, except for simulated time.

    A replay runs on a SimClock from the file's first timestamp. The simulator at
    ``tick_interval_s = 0`` runs as fast as possible, so its time runs ahead of
    the wall clock: it gets a SimClock too, or every tick would be "from the future".
    """
    if settings.feed.kind == "mock" and settings.feed.tick_interval_s == 0:
        return SimClock(settings.feed.start or LiveClock().now())
    if settings.feed.kind != "replay":
        return LiveClock()
    from feeds.price_file import peek_start

    try:
        start = peek_start(_replay_path(settings))
    except FeedError as exc:
        raise SettingsError(str(exc)) from exc
    speed = settings.feed.speed if settings.feed.speed > 0 else math.inf
    return SimClock(start, speed=speed)


def entsoe_zones(settings: Settings, markets: tuple[str, ...]) -> dict[str, str]:
    """Market → ENTSO-E EIC code for ``markets``: the zone table with ``[entsoe.zones]``
    and ``[zones.<CODE>]`` applied."""
    from feeds.entsoe.zones import UnknownZoneError, eic_codes

    table = zone_table(settings)
    try:
        return eic_codes(markets, {code: table.zone(code).eic for code in table.codes()})
    except UnknownZoneError as exc:
        raise SettingsError(str(exc)) from exc


def build_entsoe_client(settings: Settings) -> EntsoeClient:
    """The ENTSO-E client for the live feed and ``gridtui fetch`` (needs a token)."""
    from feeds.entsoe.client import ClientConfig, EntsoeClient
    from feeds.entsoe.errors import TOKEN_HELP

    entsoe = settings.entsoe
    if not entsoe.token.strip():
        raise SettingsError(f"ENTSO-E needs an API token: {TOKEN_HELP}")
    return EntsoeClient(
        entsoe.token,
        ClientConfig(
            url=entsoe.url,
            timeout_s=entsoe.timeout_s,
            max_attempts=entsoe.max_attempts,
            requests_per_minute=entsoe.requests_per_minute,
        ),
    )


def build_components(settings: Settings) -> list[Component]:
    components: list[Component] = [SpreadEngine(settings.spreads)]
    components += build_forecast_components(settings)
    batteries = battery_specs(settings)
    if batteries:
        components.append(build_battery_fleet(settings, batteries))
    # Strategies after every analytics stage (they trade on spreads, forecasts …).
    components.append(build_strategy_manager(settings))
    # The capture ledger after everything that delivers or settles (ledger_wiring.py).
    components.append(build_capture(settings, components))
    # The gate-closure cockpit after the strategies, so a batch's orders are in the book.
    components.append(build_cockpit(settings, components))
    # Alerts stay last: they react to everything the components before them derived.
    components.append(build_alerts(settings))
    return components


def build_capture(settings: Settings, components: Sequence[Component]) -> Component:
    from gridtui.ledger_wiring import capture_component

    return capture_component(settings, components)


def build_cockpit(settings: Settings, components: Sequence[Component]) -> Component:
    from gridtui.cockpit_wiring import cockpit_component

    return cockpit_component(settings, components)


def build_strategies(settings: Settings, names: Sequence[str] | None = None) -> list[Strategy]:
    """The strategies named (default: ``strategies.enabled``) with their configs.

    The battery plans each day at the day-ahead gate counting the exchange fee
    of ``[strategies.execution]`` like its wear (so its plan and ``gridtui eval
    battery`` agree); its ``rl`` planner is the ONNX policy from the model
    registry, rolled over the forecast; without one it plans with the LP and
    says so in the log, as the live fleet does.
    """
    from engine.strategies import registry

    section = settings.strategies
    built: list[Strategy] = []
    for kind in names if names is not None else section.enabled:
        config = section.config_of(kind)
        extra: dict[str, Any] = {}
        if isinstance(config, BatteryStrategyConfig):
            extra["exchange_fee_eur_mwh"] = section.execution.fee_eur_mwh
            if config.controller == "rl":
                from engine.battery.policy_controller import PolicyController
                from models.battery.policy import load_policy
                from models.registry import RegistryError

                try:
                    policy = load_policy(model_registry(settings), settings.battery.policy or None)
                    extra["controller"] = PolicyController(policy)
                except (RegistryError, OSError) as exc:
                    log.warning("battery strategy: no RL policy (%s); planning with the LP", exc)
                    config = msgspec.structs.replace(config, controller="lp")
        built.append(registry.build(kind, config, **extra))
    return built


def live_price_kind(settings: Settings) -> PriceKind:
    """The prices strategies trade live (a re-run of the recording trades the same)."""
    kind = settings.strategies.price_kind
    if kind is None:  # the simulator ticks intraday; a replay and ENTSO-E carry day-ahead
        kind = PriceKind.INTRADAY if settings.feed.kind == "mock" else PriceKind.DAY_AHEAD
    return kind


def build_strategy_manager(settings: Settings) -> StrategyManager:
    """The live strategy host: every enabled strategy, stopped unless in ``strategies.autostart``
    (started with the first batch, by ``system:autostart`` in the audit log)."""
    section = settings.strategies
    return StrategyManager(
        build_strategies(settings),
        ManagerConfig(
            price_kind=live_price_kind(settings),
            execution=section.execution,
            status_interval_s=section.status_interval_s,
            autostart=section.autostart,
            timeline=settings.market,
        ),
    )


def build_alerts(settings: Settings) -> AlertEngine:
    """The alert rules of ``[alerts]``. A polled feed (ENTSO-E) is only stale
    after three missed polls, whatever ``feed_stale_after_s`` says."""
    rules = settings.alerts.rules()
    if settings.feed.kind == "entsoe":
        stale_after_s = max(rules.feed_stale_after_s, 3 * settings.entsoe.poll_interval_s)
        rules = msgspec.structs.replace(rules, feed_stale_after_s=stale_after_s)
    return AlertEngine(rules)


def build_forecast_components(settings: Settings) -> list[Component]:
    """One component per promoted forecast model (``[forecast]``); none when there is none.

    A model that cannot be loaded (another feature pipeline, a broken file) is
    left out with a warning that says how to retrain: the dashboard runs on.
    """
    section = settings.forecast
    if not section.enabled:
        return []
    from engine.events import PriceKind
    from models.forecast.component import ForecastComponent
    from models.forecast.onnx_forecaster import OnnxForecaster
    from models.registry import RegistryError

    registry = model_registry(settings)
    kind = section.intraday_kind
    if kind == "auto":
        kind = "day_ahead" if settings.feed.kind == "replay" else "intraday"
    components: list[Component] = []
    for task in section.tasks:
        try:
            forecaster = OnnxForecaster.promoted(registry, task)
        except (RegistryError, OSError) as exc:
            log.warning("no %s forecasts: %s", task, exc)
            continue
        if forecaster is not None:
            price_kind = PriceKind(kind) if task == "intraday" else PriceKind.DAY_AHEAD
            components.append(ForecastComponent(forecaster, price_kind=price_kind))
    return components


def model_registry(settings: Settings) -> Registry:
    """The user's model registry (``<data_dir>/models``) over the shipped defaults."""
    from models.registry import Registry

    return Registry(Path(settings.data_dir) / "models")


def build_battery_fleet(settings: Settings, batteries: Sequence[BatterySpec]) -> BatteryFleet:
    """The live fleet of ``batteries``: each commits its day at the day-ahead gate.

    ``battery.controller`` plans the day (``lp``: the perfect-foresight LP on
    ``battery.forecast``; ``mpc``, ``rule``, ``rl`` rolled over it); ``rl``
    loads the ONNX policy once for the whole fleet and, when there is none (or
    it was trained for another observation layout), the fleet plans with the
    LP instead and says so in the log, because a battery must never stall.
    The exchange fee of ``[strategies.execution]`` is counted like the wear.
    """
    from engine.battery.commitment import ControllerPlanner, DayPlanner, LpPlanner
    from engine.battery.controller import Controller
    from engine.battery.fleet import BatteryFleet, BatteryUnit
    from engine.battery.policy_controller import PolicyController
    from engine.market.timeline import MarketTimeline

    battery = settings.battery
    policy_controller: Controller | None = None
    if battery.controller == "rl":
        from models.battery.policy import load_policy
        from models.registry import RegistryError

        try:
            policy = load_policy(model_registry(settings), battery.policy or None)
            policy_controller = PolicyController(policy)
        except (RegistryError, OSError) as exc:
            log.warning("no battery policy (%s); planning with the LP", exc)

    def planner() -> DayPlanner:
        if battery.controller == "rule":
            from engine.battery.threshold import RuleController

            return ControllerPlanner(RuleController())
        if battery.controller == "mpc":
            from engine.battery.mpc import MpcController

            # One MPC per battery (it keeps a plan); "penalty": solved once per step.
            return ControllerPlanner(MpcController(exclusivity="penalty"))
        if policy_controller is not None:
            return ControllerPlanner(policy_controller)
        return LpPlanner()

    units = [BatteryUnit(spec, planner(), battery.forecast) for spec in batteries]
    return BatteryFleet(
        units,
        step_minutes=battery.step_minutes,
        timeline=MarketTimeline(settings.market),
        fee_eur_mwh=settings.strategies.execution.fee_eur_mwh,
    )


def battery_specs(settings: Settings) -> list[BatterySpec]:
    """The fleet's batteries whose market the engine watches; the others are logged."""
    kept = []
    for spec in settings.battery.fleet:
        if spec.market in settings.markets:
            kept.append(spec)
        else:
            log.warning(
                "battery %s trades %s, which is not among the configured markets %s: left out",
                spec.battery_id,
                spec.market,
                ",".join(settings.markets),
            )
    return kept


def writer_config(settings: Settings, store: Store) -> WriterConfig:
    return WriterConfig(
        batch_size=settings.store.batch_size,
        max_age_s=settings.store.max_age_s,
        max_buffered=settings.store.max_buffered,
        spill_path=str(settings.spill_dir() / f"{store.backend}.spill"),
    )


def build_runtime(
    settings: Settings, clock: Clock | None = None, feed: Feed | None = None
) -> Runtime:
    store = build_store(settings)
    return Runtime(
        feed=feed or build_feed(settings),
        clock=clock or build_clock(settings),
        bus=build_bus(settings),
        store=store,
        components=build_components(settings),
        writer_config=writer_config(settings, store),
        validation=settings.validation,
        retention=settings.recorder,
    )
