"""Settings errors in words: which setting, which value, from where, what is allowed.

:func:`gridtui.settings.loader.load_settings` is the one caller. msgspec checks the
types and the ranges declared on the settings structs (``Annotated[...,
msgspec.Meta(ge=1)]``); :func:`explain` turns its terse ``Expected `int` >= 1 -
at `$.store.batch_size``` into one line that names the ``GRIDTUI_`` variable,
flag or file the value came from, the value, and the whole allowed range.
:func:`check` adds what one field's type cannot say (a buffer smaller than a
batch, a data dir that is a file).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import msgspec
import msgspec.inspect

_AT: Final = re.compile(r"^(?P<what>.*) - at `\$(?P<path>[^`]*)`$")
_MISSING: Final = object()
# The flags that set a setting, so an error names what the user typed.
_FLAGS: Final = {
    "feed.tick_interval_s": "--tick-interval",
    "feed.speed": "--speed",
    "feed.seed": "--seed",
    "feed.path": "--replay",
    "feed.fundamentals": "--fundamentals",
    "markets": "--markets",
    "store.url": "--store",
    "bus.url": "--bus",
    "log.level": "--log-level",
}
# What a string setting with a pattern accepts, in words.
_CHOICES: Final = {
    "log.level": "one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)",
    "recorder.aggregate": "hourly (the one aggregate there is)",
}


def _lookup(data: Mapping[str, Any], parts: list[str]) -> Any:
    value: Any = data
    for part in parts:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def source_of(
    parts: list[str],
    *,
    environ: Mapping[str, str],
    prefix: str,
    overrides: Mapping[str, Any],
    file_data: Mapping[str, Any],
    file: Path,
) -> str:
    """Where a setting's value came from, in the order the sources win."""
    if _lookup(overrides, parts) is not _MISSING:
        return _FLAGS.get(".".join(parts), "a command-line flag")
    variable = prefix + "_".join(parts).upper()
    if variable in environ:
        return variable
    if _lookup(file_data, parts) is not _MISSING:
        return str(file)
    return "the default"


def _show(value: Any) -> str:
    if value is _MISSING:
        return "?"
    if value == "" or value == []:
        return "(empty)"
    return str(value)


def _field_type(root: type, parts: list[str]) -> msgspec.inspect.Type | None:
    info: msgspec.inspect.Type = msgspec.inspect.type_info(root)
    for part in parts:
        if not isinstance(info, msgspec.inspect.StructType):
            return None
        found = next((f for f in info.fields if f.name == part), None)
        if found is None:
            return None
        info = found.type
    return info


def _allowed(kind: msgspec.inspect.Type | None) -> str | None:
    """The declared range of a numeric field, e.g. ``>= 0 and <= 86400``."""
    if not isinstance(kind, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        return None
    bounds = [
        f"{op} {limit:g}"
        for op, limit in (
            (">=", kind.ge),
            (">", kind.gt),
            ("<=", kind.le),
            ("<", kind.lt),
        )
        if limit is not None
    ]
    noun = "an integer" if isinstance(kind, msgspec.inspect.IntType) else "a number"
    return f"{noun} {' and '.join(bounds)}" if bounds else noun


def explain(
    exc: msgspec.ValidationError,
    root: type,
    data: Mapping[str, Any],
    source: Any,
) -> str | None:
    """One line for a msgspec error on ``data``, or None when it names no field.

    ``source`` is ``source_of`` with all but ``parts`` bound.
    """
    match = _AT.match(str(exc))
    if match is None:
        return None
    path = match["path"].lstrip(".")
    parts = [p for p in re.split(r"\.|\[\d+\]", path) if p]
    if not parts:
        return None
    name = ".".join(parts)
    found = _lookup(data, parts)
    value = _show(found)
    origin = source(parts)
    if parts == ["markets"] and "length" in match["what"]:
        return f"{origin}: markets = {value}: give at least one market, e.g. DE,FR,NL"
    if isinstance(found, Mapping):  # a section: an unknown or missing field in it
        return f"{origin}: [{name}]: {match['what']}"
    allowed = _allowed(_field_type(root, parts))
    expected = _CHOICES.get(name) or allowed or match["what"].removeprefix("Expected ")
    return f"{origin}: {name} = {value} is not allowed; expected {expected}"


def check_markets(data: Mapping[str, Any], source: Any) -> str | None:
    """Every market is a zone gridtui knows, named once; None when all is well.

    The one list of zones is :func:`feeds.entsoe.zones.zone_table` plus what
    ``[entsoe.zones]`` and ``[zones.<CODE>]`` add (a zone is one entry with its
    EIC code). Runs on the
    merged raw data, before the sections copy the list (so the error names
    ``markets`` and its source, not a section); wrong types are msgspec's to report.
    """
    from feeds.entsoe.zones import zone_table

    markets = data.get("markets")
    zones = _lookup(data, ["entsoe", "zones"])
    if not isinstance(markets, list | tuple) or not all(isinstance(m, str) for m in markets):
        return None
    zones = zones if isinstance(zones, Mapping) else {}
    shown = ",".join(markets)
    origin = source(["markets"])
    twice = sorted({m for m in markets if markets.count(m) > 1})
    if twice:
        return f"{origin}: markets = {shown}: {', '.join(twice)} is listed twice; name each once"
    known = zone_table({str(k): str(v) for k, v in zones.items()})
    added = data.get("zones")
    if isinstance(added, Mapping):  # [zones.XX] eic = ...: checked when the table is built
        known.update({str(code): "" for code in added if str(code) not in known})
    unknown = [m for m in markets if m not in known]
    if not unknown:
        return None
    example = unknown[0]
    return (
        f"{origin}: markets = {shown}: unknown market{'s' if len(unknown) > 1 else ''} "
        f"{', '.join(unknown)}; known zones: {', '.join(sorted(known))}. To add a zone, give "
        f'its ENTSO-E EIC code in the config: [zones.{example}] eic = "10Y..." (or '
        f'[entsoe.zones] {example} = "10Y...", '
        f"GRIDTUI_ENTSOE_ZONES='{{{example} = \"10Y...\"}}')"
    )


def check(settings: Any, source: Any) -> str | None:
    """What the field types cannot say; None when all is well."""
    store = settings.store
    if store.max_buffered < store.batch_size:
        return (
            f"{source(['store', 'max_buffered'])}: store.max_buffered = {store.max_buffered} "
            f"is smaller than store.batch_size = {store.batch_size}; expected an integer "
            f">= {store.batch_size}"
        )
    if (problem := _check_timezone(settings.ui.market_timezone, source)) is not None:
        return problem
    for parts, value in (
        (["data_dir"], settings.data_dir),
        (["store", "spill_dir"], store.spill_dir),
    ):
        if not value:
            continue
        # The folder, or the nearest part of its path that exists (a missing
        # folder is created later, which fails under a file).
        folder = Path(value).expanduser().absolute()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            where = (
                "" if str(folder) == str(Path(value).expanduser().absolute()) else f" ({folder})"
            )
            return (
                f"{source(parts)}: {'.'.join(parts)} = {value}{where} is a file, not a "
                "directory; point it at a directory (it is created when missing)"
            )
    return None


def _check_timezone(name: str, source: Any) -> str | None:
    """An IANA zone ZoneInfo can load, or a line saying what is accepted."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        # ValueError: a name ZoneInfo refuses to look up at all ("", "../x", "/abs").
        return (
            f"{source(['ui', 'market_timezone'])}: ui.market_timezone = {_show(name)} is not "
            "a known time zone; expected an IANA name such as Europe/Brussels, Europe/London "
            "or UTC"
        )
    return None
