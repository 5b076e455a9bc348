"""Settings sections for what runs on the prices and how it is watched and reached.

``[log]``, the dashboard (``[ui]``, ``[keys]``), the engine's components
(``[battery]``, ``[strategies]``, ``[forecast]``) and the daemon's outputs
(``[api]``, ``[alerts]``). The top-level :class:`gridtui.settings.loader.Settings`
holds one of each.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from engine.alerts.config import AlertConfig
from engine.battery.gate import ForecastKind
from engine.battery.physics import BatterySpec
from engine.events import PriceKind
from engine.strategies.arbitrage import ArbitrageConfig
from engine.strategies.base import StrategyConfig
from engine.strategies.battery import BatteryStrategyConfig
from engine.strategies.execution import ExecutionConfig
from engine.strategies.fundamental import FundamentalConfig
from engine.strategies.mining import MiningConfig
from engine.strategies.ml import MlConfig
from engine.strategies.registry import KINDS as STRATEGY_KINDS
from engine.strategies.technical import TechnicalConfig
from gridtui.settings.data import DAY_S, Count

# A finite, positive span of seconds (load_settings reports a value outside it).
Seconds = Annotated[float, msgspec.Meta(gt=0, le=DAY_S)]
LOG_LEVELS = "(?i)^(debug|info|warn|warning|error|critical)$"

# A DNS name or an IPv4/IPv6 address, as api.allowed_hosts takes them.
_HOST_NAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|[0-9A-Fa-f:.]+)$"
)


class LogSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Logging: ``level`` (DEBUG, INFO, WARNING …), ``format`` ``text`` or ``json``."""

    level: Annotated[str, msgspec.Meta(pattern=LOG_LEVELS)] = "INFO"
    format: str = "text"


class UiSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How the dashboard looks and paces itself.

    Attributes:
        refresh_hz: at most this many screen updates a second (events in between
            are folded into the next update, so a flood never floods the screen).
        stale_after_s: a market whose last intraday tick is older than this (on
            the engine's clock) is marked STALE.
        chart_hours: hours of history the price chart shows; a third as much
            again of the future (day-ahead curve, forecasts) is shown after "now".
        confirm_timeout_s: an armed strategy toggle is disarmed after this long.
        theme: a Textual theme name (``textual-dark``, ``textual-light``, …).
        market_timezone: the IANA time zone of the market's local time, shown with
            the date beside UTC in the status bar (``Europe/Brussels`` is CET/CEST,
            the time of the coupled European day-ahead and intraday markets).
    """

    refresh_hz: Annotated[float, msgspec.Meta(gt=0, le=1_000)] = 10.0
    stale_after_s: Seconds = 60.0
    chart_hours: Annotated[float, msgspec.Meta(gt=0, le=8_784)] = 6.0
    confirm_timeout_s: Seconds = 5.0
    theme: str = "textual-dark"
    market_timezone: str = "Europe/Brussels"

    def __post_init__(self) -> None:
        if not 0.5 <= self.refresh_hz <= 60:
            raise ValueError(f"ui.refresh_hz must be within 0.5..60, got {self.refresh_hz}")
        for name in ("stale_after_s", "chart_hours", "confirm_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ui.{name} must be > 0, got {getattr(self, name)}")


class KeySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Dashboard keys, as Textual key names: ``"q"``, ``"?"``, ``"K"``, ``"ctrl+k"``,
    ``"f5"``. A comma list binds several keys to one action (``"?,f1"``).

    Attributes:
        quit: quit cleanly (the store is flushed first).
        help: the help screen listing every key.
        pause: pause / resume rendering (events keep being collected).
        filter: filter markets by name.
        kill_switch: stop every strategy at once (no confirmation: it only stops).
        new_backtest: open the new-backtest form.
        audit: the audit log (who started, stopped or traded what, newest first).
        confirm: confirm an armed strategy toggle.
        cancel: disarm an armed toggle.
        zoom: maximise the focused pane / restore the layout.
        theme: switch between the dark and the light theme.
        strategies: one key per strategy row, in row order; a press arms the
            toggle, a second press (or ``confirm``) carries it out.
    """

    quit: str = "q"
    help: str = "?,f1"
    pause: str = "p"
    filter: str = "/"
    kill_switch: str = "K"
    new_backtest: str = "b"
    audit: str = "a"
    confirm: str = "y"
    cancel: str = "escape"
    zoom: str = "z"
    theme: str = "t"
    strategies: tuple[str, ...] = ("1", "2", "3", "4", "5", "6", "7", "8", "9")

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        singles = [
            (name, getattr(self, name)) for name in self.__struct_fields__ if name != "strategies"
        ]
        numbered = [(f"strategies[{i}]", key) for i, key in enumerate(self.strategies)]
        for name, keys in singles + numbered:
            for key in (part.strip() for part in keys.split(",")):
                if not key:
                    raise ValueError(f"keys.{name} is empty")
                if key in seen:
                    raise ValueError(f"key {key!r} is bound to both keys.{seen[key]} and {name}")
                seen[key] = name


class BatterySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Batteries: the live fleet, who dispatches it, and the battery `train`/`eval` use.

    Each battery is one ``[[battery.fleet]]`` table with the fields of
    ``engine.battery.physics.BatterySpec``: ``battery_id``, ``market``, ``capacity_mwh``
    (2.0), ``power_mw`` (1.0), ``charge_efficiency`` / ``discharge_efficiency``
    (√0.9 each: 90 % round trip), ``soc_min_fraction`` (0.1),
    ``soc_max_fraction`` (0.9), ``initial_soc_fraction`` (0.5),
    ``degradation_eur_mwh`` (5.0 per MWh of throughput), ``max_cycles_per_day``
    (unset: no cap).

    Attributes:
        fleet: the batteries the engine dispatches live. By default two
            reference batteries (1 MW / 2 MWh), ``bess-de`` in DE and
            ``bess-nl`` in NL, so the dashboard shows dispatch out of the box;
            ``fleet = []`` for none. A battery whose market is not among
            ``markets`` is left out with a warning.
        controller: who plans each fleet battery's delivery day at the
            day-ahead gate (``engine.battery.fleet``): ``lp`` (the
            perfect-foresight LP on the forecast), or ``rl`` (the ONNX
            policy), ``mpc``, ``rule`` rolled over the forecast. A battery
            commits D before D−1's gate closure and is settled at D's prices.
        forecast: what the plan is made on: ``weekly`` (D−7 at the same
            local time; the best on 2020–2021), ``persistence`` (D−1) or
            ``model`` (the forecaster's Forecast events, persistence where
            there are none).
        policy: the RL policy's model id; empty = the promoted one, else the
            shipped default. A missing or incompatible policy falls back to ``lp``.
        step_minutes: delivery step reported; day-ahead prices are averaged into it.
        auction_timezone / publication_hour: for ``eval battery``'s
            after-publication upper bounds: tomorrow's day-ahead prices are
            known from this local hour on (SDAC publishes ~12:45 CET).
        reference: the battery ``gridtui train battery`` and ``eval battery``
            use (the 1 MW / 2 MWh default).
    """

    fleet: tuple[BatterySpec, ...] = (
        BatterySpec(battery_id="bess-de", market="DE"),
        BatterySpec(battery_id="bess-nl", market="NL"),
    )
    controller: str = "lp"
    forecast: ForecastKind = "weekly"
    policy: str = ""
    step_minutes: Annotated[int, msgspec.Meta(ge=1, le=1_440)] = 60
    auction_timezone: str = "Europe/Brussels"
    publication_hour: Annotated[int, msgspec.Meta(ge=0, le=23)] = 13
    reference: BatterySpec = BatterySpec()

    def __post_init__(self) -> None:
        if self.controller not in ("lp", "rl", "mpc", "rule"):
            raise ValueError(
                f"battery.controller must be lp, rl, mpc or rule, got {self.controller!r}"
            )
        if self.step_minutes not in (15, 30, 60):
            raise ValueError(f"battery.step_minutes must be 15, 30 or 60, got {self.step_minutes}")
        if not 0 <= self.publication_hour <= 23:
            raise ValueError("battery.publication_hour must be 0..23")


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The daemon's REST + WebSocket API (``gridtui daemon``) and remote dashboards.

    Attributes:
        enabled: serve the API from the daemon.
        host: address to bind; 127.0.0.1 unless you mean to expose it (then put
            TLS in front: the bearer token travels in a header).
        port: TCP port.
        token_file: where the daemon keeps its bearer token (mode 0600, made on
            first start, replaced by ``gridtui daemon --rotate-token``); empty =
            ``DATA_DIR/api-token``.
        token: the token a remote dashboard (``gridtui --connect URL``) sends;
            empty = read ``token_file``. Better set GRIDTUI_API_TOKEN. Never logged;
            ``gridtui config`` shows it as ``***``.
        rate_limit_per_s: requests a second each client (IP address) may make,
            sustained; 0 = no limit.
        rate_limit_burst: requests a client may make at once above that rate.
        max_page_size: the largest ``limit`` a list endpoint accepts.
        max_ws_clients: WebSocket connections at once.
        ws_queue_size: messages buffered for a slow WebSocket client before the
            oldest are dropped (and counted).
        ws_batch_linger_s: a batch-mode client's frame gathers what arrives in
            this long after the first event (a dashboard draws at 10 Hz): at
            1,000 events/s, 50 frames a second instead of 1,000. 0 = send at once.
        allowed_hosts: host names (or addresses) besides localhost, 127.0.0.1
            and ::1 by which clients reach the daemon (``Host`` header, with or
            without the port) and browser pages may come from (``Origin``);
            anything else is refused (421 / 403), which stops DNS rebinding.
            Name the host a remote dashboard connects to.
        max_running_backtests: backtests running at once; beyond, 429.
        max_queued_jobs: training jobs waiting to run; beyond, 429.
        header_timeout_s: a connection that has not sent a whole request within
            this long (after connecting or after its last answer) is closed, so
            half-sent requests cannot hold file descriptors.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65_535)] = 8765
    token_file: str = ""
    token: str = ""
    rate_limit_per_s: Annotated[float, msgspec.Meta(gt=0, le=1e6)] = 50.0
    rate_limit_burst: Count = 200
    max_page_size: Count = 1000
    max_ws_clients: Count = 200
    ws_queue_size: Count = 5_000
    ws_batch_linger_s: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.02
    allowed_hosts: tuple[str, ...] = ()
    max_running_backtests: Count = 2
    max_queued_jobs: Annotated[int, msgspec.Meta(ge=0)] = 8
    header_timeout_s: Seconds = 5.0

    def __post_init__(self) -> None:
        for host in self.allowed_hosts:
            if not _HOST_NAME.match(host.strip("[]")):
                raise ValueError(
                    f"api.allowed_hosts: {host!r} is not a host name or address "
                    "(e.g. grid.lan, 10.0.0.7, ::1: no scheme, port or path)"
                )
        for name in ("max_running_backtests", "max_queued_jobs"):
            if not 1 <= getattr(self, name) <= 1000:
                raise ValueError(f"api.{name} must be within 1..1000, got {getattr(self, name)}")
        if not 0.1 <= self.header_timeout_s <= 3600:
            raise ValueError(
                f"api.header_timeout_s must be within 0.1..3600 s, got {self.header_timeout_s}"
            )
        if not 0 <= self.ws_batch_linger_s <= 1:
            raise ValueError(
                f"api.ws_batch_linger_s must be within 0..1 s, got {self.ws_batch_linger_s}"
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"api.port must be within 0..65535, got {self.port}")
        if self.rate_limit_per_s < 0 or self.rate_limit_burst < 1:
            raise ValueError("api.rate_limit_per_s must be >= 0 and api.rate_limit_burst >= 1")
        if self.max_page_size < 1 or self.max_ws_clients < 1 or self.ws_queue_size < 1:
            raise ValueError("api.max_page_size, max_ws_clients and ws_queue_size must be >= 1")


class AlertSettings(AlertConfig, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Alerts: the rules' thresholds (every field of ``engine.alerts.config.AlertConfig``:
    ``cooldown_s``, ``spike_sigma``, ``spike_min_eur_mwh``, ``arbitrage_min_net_eur_mwh``,
    ``battery_low_fraction``, ``feed_stale_after_s``, ``forecast_max_error_eur_mwh`` …)
    and where the daemon sends them.

    Attributes:
        min_severity: ``info``, ``warning`` or ``critical``: the least an alert
            must be to reach the sinks below (the dashboard shows every alert).
        log: write each alert as a structured log line.
        stdout: print each alert as a JSON line on standard output.
        jsonl_path: append each alert as a JSON line to this file (relative:
            in the data dir); empty = off.
        webhook_url: POST each alert as JSON to this URL (Slack-style
            ``{"text": …}`` plus the alert's fields); empty = off. A secret:
            never logged, ``***`` in ``gridtui config``.
        webhook_min_severity: the least an alert must be to be posted.
        webhook_timeout_s / webhook_attempts: per try, and tries (with doubling
            back-off) before an alert is given up and counted as failed.
        redis_stream: XADD each alert to this Redis stream (flat fields); empty = off.
        redis_url: the Redis server for ``redis_stream``; empty = ``bus.url``.
        redis_maxlen: approximate length the stream is trimmed to.
    """

    min_severity: str = "info"
    log: bool = True
    stdout: bool = False
    jsonl_path: str = ""
    webhook_url: str = ""
    webhook_min_severity: str = "warning"
    webhook_timeout_s: Seconds = 5.0
    webhook_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 4
    redis_stream: str = ""
    redis_url: str = ""
    redis_maxlen: Count = 10_000

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("min_severity", "webhook_min_severity"):
            if getattr(self, name) not in ("info", "warning", "critical"):
                raise ValueError(f"alerts.{name} must be info, warning or critical")
        if self.webhook_attempts < 1 or not self.webhook_timeout_s > 0:
            raise ValueError("alerts.webhook_attempts must be >= 1 and webhook_timeout_s > 0")

    def rules(self) -> AlertConfig:
        """Only the thresholds, for the engine's AlertEngine."""
        fields = {name: getattr(self, name) for name in AlertConfig.__struct_fields__}
        return AlertConfig(**fields)


class StrategiesSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Trading strategies: which are loaded, which start by themselves, how orders fill.

    Every strategy is loaded stopped; the dashboard's number keys (armed, then
    confirmed) or ``autostart`` switch them on. Each has its own table with the
    fields of its config class in ``engine/strategies/`` — ``[strategies.arbitrage]``
    (``lookback_days``, ``min_edge_eur_mwh``, ``volume_mw``, ``borders``; the
    interconnectors, their monthly capacity and the rights' pricing in
    ``[strategies.arbitrage.transmission]``: ``borders``, ``capacity_mw``,
    ``pricing`` = ``previous_month_mean``/``fixed``/``file``), ``[strategies.battery]``
    (``controller`` = ``lp``/``mpc``/``rule``/``rl``, the day planner at the
    day-ahead gate; ``forecast`` = ``persistence``/``weekly``/``model``;
    ``spec`` = a battery as in ``[[battery.fleet]]``), ``[strategies.ml]`` (``band_eur_mwh``),
    ``[strategies.technical]`` (``indicator`` = ``ma_cross``/``rsi``/``bollinger``),
    ``[strategies.fundamental]`` (``thermal_cost_eur_mwh``), ``[strategies.mining]``
    (``hash_price_eur_per_th_day``, ``efficiency_j_per_th``, ``margin_eur_mwh``, default 5).

    Attributes:
        enabled: the strategies loaded (any of arbitrage, battery, ml, technical,
            fundamental, mining).
        autostart: the ones running from the start (they trade: none by default).
        price_kind: the prices strategies trade live: ``intraday`` or
            ``day_ahead``; unset = the feed's own (intraday ticks of the
            simulator, day-ahead prices of a replay or of ENTSO-E). A backtest
            of a price file always trades its day-ahead prices.
        execution: ``[strategies.execution]``: fees (``fee_eur_mwh``), slippage
            (``slippage_eur_mwh``, ``impact_eur_mwh_per_mwh``) and limits
            (``max_order_mwh``, ``max_position_mwh``, ``border_capacity_mw``
            per ``"FROM-TO"``, ``default_border_capacity_mw``).
        status_interval_s: seconds between the dashboard's routine strategy lines.
    """

    enabled: tuple[str, ...] = STRATEGY_KINDS
    autostart: tuple[str, ...] = ()
    price_kind: PriceKind | None = None
    execution: ExecutionConfig = ExecutionConfig()
    status_interval_s: Seconds = 5.0
    arbitrage: ArbitrageConfig = ArbitrageConfig()
    battery: BatteryStrategyConfig = BatteryStrategyConfig()
    ml: MlConfig = MlConfig()
    technical: TechnicalConfig = TechnicalConfig()
    fundamental: FundamentalConfig = FundamentalConfig()
    mining: MiningConfig = MiningConfig()

    def __post_init__(self) -> None:
        for field_name in ("enabled", "autostart"):
            unknown = [n for n in getattr(self, field_name) if n not in STRATEGY_KINDS]
            if unknown:
                raise ValueError(
                    f"strategies.{field_name}: unknown {unknown}; known: {list(STRATEGY_KINDS)}"
                )
        not_loaded = [n for n in self.autostart if n not in self.enabled]
        if not_loaded:
            raise ValueError(f"strategies.autostart names strategies not enabled: {not_loaded}")

    def config_of(self, kind: str) -> StrategyConfig:
        """The config of one strategy kind."""
        config: StrategyConfig = getattr(self, kind)
        return config


class ForecastSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Price forecasts: the promoted models the runtime loads and runs.

    Attributes:
        enabled: run the promoted forecast models (the user's, else the shipped
            defaults trained on the simulator) and publish their forecasts.
        tasks: which to run: ``dayahead`` (the next delivery day, made before
            the auction) and/or ``intraday`` (1, 5, 15 and 60 steps ahead).
        intraday_kind: the ticks the intraday model reads: ``intraday``,
            ``day_ahead`` (prices at delivery time), or ``auto`` (day_ahead for a
            replay feed, intraday otherwise).
    """

    enabled: bool = True
    tasks: tuple[str, ...] = ("dayahead", "intraday")
    intraday_kind: str = "auto"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.tasks) - {"dayahead", "intraday"})
        if unknown:
            raise ValueError(f"forecast.tasks: unknown {unknown}; use dayahead, intraday")
        if self.intraday_kind not in ("auto", "intraday", "day_ahead"):
            raise ValueError(
                f"forecast.intraday_kind must be auto, intraday or day_ahead, "
                f"got {self.intraday_kind!r}"
            )
