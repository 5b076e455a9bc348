"""User settings: one TOML file + ``GRIDTUI_`` environment variables + CLI flags.

Later sources win: built-in defaults < TOML file < environment < flags. The
result is one frozen :class:`Settings`, whose sections are handed to each
component explicitly (no global settings object is read from inside the core).

The TOML file is ``--config PATH``, else ``$GRIDTUI_CONFIG``, else
``~/.config/gridtui/config.toml`` when it exists. Environment variables name a
field as ``GRIDTUI_<SECTION>_<FIELD>`` (``GRIDTUI_STORE_URL``,
``GRIDTUI_SPREADS_MIN_NET_SPREAD_EUR_MWH``) or a top-level field as
``GRIDTUI_<FIELD>`` (``GRIDTUI_MARKETS=DE,FR,NL``). Values are read as TOML when
they parse (numbers, booleans, ``[...]`` lists), as comma lists for list fields,
and as plain strings otherwise. ``gridtui config`` prints the merged result.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from functools import cache, partial
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec
import msgspec.inspect
import platformdirs

from engine.cockpit.config import CockpitConfig
from engine.market.timeline import TimelineConfig
from engine.spreads.config import SpreadConfig
from engine.store.retention import RetentionConfig
from engine.validation import ValidationConfig
from gridtui.settings.components import BatterySettings, ForecastSettings, StrategiesSettings
from gridtui.settings.daemon import AlertSettings, ApiSettings, DaemonSettings
from gridtui.settings.data import BusSettings, EntsoeSettings, FeedSettings, StoreSettings
from gridtui.settings.explain import check, check_markets, explain, source_of
from gridtui.settings.interface import KeySettings, LogSettings, UiSettings
from gridtui.settings.zones import BORDER_SETTINGS, ZoneSettings, with_zone_borders, zone_table

DEFAULT_MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")
ENV_PREFIX = "GRIDTUI_"
# The password of a URL's userinfo (``scheme://user:PASSWORD@host``); RFC 3986
# allows neither '/' nor '@' in it, so the match cannot run past the host.
_URL_PASSWORD: Final = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@")


def redact_url(text: str) -> str:
    """``text`` with the password of every URL in it shown as ``***``.

    ``postgresql://grid:pw@db:5432/x`` → ``postgresql://grid:***@db:5432/x``;
    text without a URL password comes back unchanged. Used wherever settings
    are shown (``gridtui config``, ``GET /api/v1/settings``) and by the log
    redaction of the daemon.
    """
    return _URL_PASSWORD.sub(r"\1***@", text)


class SettingsError(ValueError):
    """The configuration is invalid; the message names the source and the field."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting, merged from defaults, the TOML file, ``GRIDTUI_`` variables and flags; frozen.

    Built by :func:`load_settings`; its sections are handed to each component.
    """

    markets: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)] = DEFAULT_MARKETS
    data_dir: str = platformdirs.user_data_dir("gridtui")
    feed: FeedSettings = FeedSettings()
    entsoe: EntsoeSettings = EntsoeSettings()
    store: StoreSettings = StoreSettings()
    bus: BusSettings = BusSettings()
    spreads: SpreadConfig = SpreadConfig()
    validation: ValidationConfig = ValidationConfig()
    log: LogSettings = LogSettings()
    ui: UiSettings = UiSettings()
    keys: KeySettings = KeySettings()
    battery: BatterySettings = BatterySettings()
    strategies: StrategiesSettings = StrategiesSettings()
    daemon: DaemonSettings = DaemonSettings()
    api: ApiSettings = ApiSettings()
    alerts: AlertSettings = AlertSettings()
    forecast: ForecastSettings = ForecastSettings()
    market: TimelineConfig = TimelineConfig()
    recorder: RetentionConfig = RetentionConfig()
    cockpit: CockpitConfig = CockpitConfig()
    zones: dict[str, ZoneSettings] = msgspec.field(default_factory=dict)

    def sqlite_path(self) -> Path:
        """The SQLite file ``store.url`` names (``sqlite`` alone: in the data dir)."""
        url = self.store.url
        if url in ("sqlite", "sqlite:"):
            return Path(self.data_dir) / "gridtui.db"
        return Path(url.removeprefix("sqlite:").removeprefix("//")).expanduser()

    def spill_dir(self) -> Path:
        return Path(self.store.spill_dir or Path(self.data_dir) / "spill")


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("gridtui")) / "config.toml"


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        if "," in raw:
            return [part.strip() for part in raw.split(",") if part.strip()]
        return raw


_SEQUENCES: Final = (
    msgspec.inspect.ListType,
    msgspec.inspect.VarTupleType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
)


def _fields(struct: type) -> tuple[msgspec.inspect.Field, ...]:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return info.fields


@cache  # types do not change: inspect each once, not once per variable
def _list_fields(struct: type) -> frozenset[str]:
    """The fields of ``struct`` that hold a list (so ``X=one`` means ``[one]``)."""
    names = set()
    for field in _fields(struct):
        kinds = (
            field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
        )
        if any(isinstance(kind, _SEQUENCES) for kind in kinds):
            names.add(field.name)
    return frozenset(names)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    section_types = {
        field.name: field.type.cls
        for field in _fields(Settings)
        if isinstance(field.type, msgspec.inspect.StructType)
    }
    top_level = set(Settings.__struct_fields__)
    found: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        key = name.removeprefix(ENV_PREFIX).lower()
        value = _parse_env_value(raw)
        if key in top_level and key not in section_types:
            found[key] = _as_list(value) if key in _list_fields(Settings) else value
            continue
        section, _, field = key.partition("_")
        if section in section_types and field:
            if field in _list_fields(section_types[section]):
                value = _as_list(value)
            found.setdefault(section, {})[field] = value
    return found


def _as_list(value: Any) -> Any:
    """A lone value for a list field is a list of one; an empty one, an empty list."""
    if value == "":
        return []
    return [value] if isinstance(value, str | int | float) else value


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_settings(
    config_path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge defaults, the TOML file, ``GRIDTUI_`` variables and flag overrides.

    Raises:
        SettingsError: the file is missing or malformed, or a value has the
            wrong type; the message names the file or variable and the field.
    """
    environ = os.environ if environ is None else environ
    path = Path(config_path or environ.get(ENV_PREFIX + "CONFIG") or default_config_path())
    explicit = bool(config_path or environ.get(ENV_PREFIX + "CONFIG"))
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path} is not valid TOML: {exc}") from exc
    elif explicit:
        raise SettingsError(f"config file {path} does not exist (see `gridtui config --help`)")
    source = partial(
        source_of,
        environ=environ,
        prefix=ENV_PREFIX,
        overrides=overrides or {},
        file_data=dict(data),
        file=path,
    )
    data = _merge(data, _env_overrides(environ))
    data = _merge(data, overrides or {})
    data = _capitalise_zones(data)
    if (problem := check_markets(data, source)) is not None:
        raise SettingsError(problem)
    # One market list drives every component unless a section sets its own.
    if "markets" in data:
        for section in ("spreads", "validation"):
            data.setdefault(section, {}).setdefault("markets", data["markets"])
    try:
        settings = msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # One line naming the setting, its value, its source and the range.
        if (line := explain(exc, Settings, data, source)) is not None:
            raise SettingsError(line) from exc
        raise SettingsError(
            f"invalid setting ({exc}); sources: {path if path.exists() else 'no file'}, "
            f"{ENV_PREFIX}* variables, flags. Run `gridtui config` to see the merged values."
        ) from exc
    if (problem := check(settings, source)) is not None:
        raise SettingsError(problem)
    try:
        zone_table(settings)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    given = [path for path in BORDER_SETTINGS if _has_path(data, path)]
    return with_zone_borders(settings, given)


def _has_path(data: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def _capitalise_zones(data: dict[str, Any]) -> dict[str, Any]:
    """Market codes in capitals, as the zone table names them: ``de,fr`` is DE, FR.

    The top-level list, each section's own list, the ``[zones]`` and ``[entsoe.zones]`` keys;
    everything else is left as given (a new dict, the sources stay as read).
    """

    def upper(codes: Any) -> Any:
        if not isinstance(codes, list | tuple):
            return codes
        return [code.strip().upper() if isinstance(code, str) else code for code in codes]

    data = {**data, "markets": upper(data["markets"])} if "markets" in data else dict(data)
    for section in ("spreads", "validation"):
        if isinstance(data.get(section), dict) and "markets" in data[section]:
            data[section] = {**data[section], "markets": upper(data[section]["markets"])}
    if isinstance(data.get("zones"), dict):
        data["zones"] = {
            str(code).strip().upper(): (
                {**zone, "neighbours": upper(zone["neighbours"])}
                if isinstance(zone, dict) and "neighbours" in zone
                else zone
            )
            for code, zone in data["zones"].items()
        }
    entsoe = data.get("entsoe")
    if isinstance(entsoe, dict) and isinstance(entsoe.get("zones"), dict):
        zones = {str(k).strip().upper(): v for k, v in entsoe["zones"].items()}
        data["entsoe"] = {**entsoe, "zones": zones}
    return data


def _redact_urls(value: Any) -> Any:
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: _redact_urls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_urls(item) for item in value]
    return value


def url_passwords(settings: Settings) -> tuple[str, ...]:
    """The passwords inside the URLs the settings hold (for log redaction: never log them)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(m.group(0)[len(m.group(1)) : -1] for m in _URL_PASSWORD.finditer(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(msgspec.to_builtins(settings))
    return tuple(dict.fromkeys(p for p in found if p))


def to_toml_dict(settings: Settings) -> dict[str, Any]:
    """The settings as plain data, for `gridtui config` and the API: no secret in clear.

    Tokens and the webhook URL are ``***``; any URL's password (``store.url``,
    ``bus.url``, ``alerts.redis_url`` …) is ``***`` inside the URL.
    """
    result = _redact_urls(msgspec.to_builtins(settings))
    assert isinstance(result, dict)
    if result["entsoe"]["token"]:
        result["entsoe"]["token"] = "***"  # a secret: never printed
    for section, field in (("api", "token"), ("alerts", "webhook_url")):
        if result[section][field]:
            result[section][field] = "***"  # secrets too (a webhook URL carries its key)
    return result
