"""Request validation and JSON answers for the daemon's routes.

Every handler reads its input through these helpers, so a bad request always
ends the same way: an :class:`ApiError`, which the error middleware turns into
a 4xx answer with a JSON body ``{"error": "...", "status": 400}`` that says
what was wrong and what is accepted.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from gridtui.days import ACCEPTED_RANGE, EARLIEST, LATEST

_encoder = msgspec.json.Encoder()
_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)

# Ids in paths (model, run, job): a plain name, never a path; the registry and
# the store use them as directory names and keys.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ApiError(Exception):
    """An answer other than success; ``status`` is the HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = dict(extra or {})  # more fields of the JSON body (a queue length)


def json_response(payload: object, status: int = 200) -> web.Response:
    """Encode with msgspec (structs, events, datetimes as RFC 3339) into a JSON answer."""
    return web.Response(
        body=_encoder.encode(payload), status=status, content_type="application/json"
    )


def error_body(status: int, message: str, extra: Mapping[str, object] | None = None) -> bytes:
    return _encoder.encode({**(extra or {}), "error": message, "status": status})


def _shown(raw: str) -> str:
    """A caller's value, cut short for an error message (never echo 5,000 characters)."""
    return repr(raw) if len(raw) <= 60 else f"{raw[:40]!r}… ({len(raw)} characters)"


def path_id(request: web.Request, name: str) -> str:
    """The path parameter ``name``, which must be a plain id (see :data:`ID_PATTERN`)."""
    raw = request.match_info[name]
    if not ID_PATTERN.match(raw) or ".." in raw:
        raise ApiError(
            400,
            f"path parameter {name!r} = {_shown(raw)} is not valid: 1..128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit, without '..'",
        )
    return raw


def check_day(name: str, value: date) -> date:
    """``value`` if it lies within the accepted range, else 422 naming ``name``."""
    if not EARLIEST <= value <= LATEST:
        raise ApiError(
            422, f"{name!r} = {value.isoformat()} is out of range: days {ACCEPTED_RANGE}"
        )
    return value


def query_int(request: web.Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            400, f"query parameter {name!r} must be an integer within {minimum}..{maximum}"
        ) from None
    if not minimum <= value <= maximum:
        raise ApiError(
            400, f"query parameter {name!r} must be within {minimum}..{maximum}, got {value}"
        )
    return value


def query_float(request: web.Request, name: str, *, default: float | None) -> float | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(400, f"query parameter {name!r} must be a finite number")
    return value


def query_enum(request: web.Request, name: str, kind: type[_E], default: _E | None) -> _E | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        accepted = ", ".join(str(member.value) for member in kind)
        raise ApiError(400, f"query parameter {name!r} must be one of: {accepted}") from None


def query_choice(
    request: web.Request, name: str, choices: Sequence[str], default: str | None
) -> str | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise ApiError(400, f"query parameter {name!r} must be one of: {', '.join(choices)}")
    return raw


def query_time(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400, f"query parameter {name!r} must be an ISO 8601 time, e.g. 2026-01-05T00:00:00Z"
        ) from None
    out_of_range = ApiError(
        400, f"query parameter {name!r} = {_shown(raw)} is out of range: times {ACCEPTED_RANGE}"
    )
    # Checked on the local date first: converting 0001-01-01T00:00+05:00 to UTC overflows.
    if not EARLIEST <= value.date() <= LATEST:
        raise out_of_range
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if not EARLIEST <= value.date() <= LATEST:
        raise out_of_range
    return value


def market_of(request: web.Request, markets: Sequence[str], *, source: str = "query") -> str:
    """The ``market`` path or query parameter, which must be a configured market."""
    raw = request.match_info.get("market") if source == "path" else request.query.get("market")
    if not raw:
        raise ApiError(
            400, f"the {source} parameter 'market' is required: one of {', '.join(markets)}"
        )
    market = raw.upper()
    if market not in markets:
        raise ApiError(
            404, f"market {raw!r} is not configured; known markets: {', '.join(markets)}"
        )
    return market


async def read_body(request: web.Request, kind: type[_T], *, max_bytes: int = 64 * 1024) -> _T:
    """Decode and validate a JSON body into ``kind`` (a msgspec Struct)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, f"request body over {max_bytes} bytes")
    raw = await request.read()
    if len(raw) > max_bytes:
        raise ApiError(413, f"request body over {max_bytes} bytes")
    if not raw.strip():
        raise ApiError(400, "a JSON request body is required")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise ApiError(422, f"invalid request body: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None


def to_plain(value: Any) -> Any:
    """Structs and events as plain JSON-ready data."""
    return msgspec.to_builtins(value)
