"""Request validation and JSON answers for the daemon's routes.

Every handler reads its input through these helpers, so a bad request always
ends the same way: an :class:`ApiError`, which the error middleware turns into
a 4xx answer with a JSON body ``{"error": "...", "status": 400}`` that says
what was wrong and what is accepted.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from aiohttp import web

_encoder = msgspec.json.Encoder()
_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


class ApiError(Exception):
    """An answer other than success; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def json_response(payload: object, status: int = 200) -> web.Response:
    """Encode with msgspec (structs, events, datetimes as RFC 3339) into a JSON answer."""
    return web.Response(
        body=_encoder.encode(payload), status=status, content_type="application/json"
    )


def error_body(status: int, message: str) -> bytes:
    return _encoder.encode({"error": message, "status": status})


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
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


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
