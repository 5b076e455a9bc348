"""Encoding of events for the wire: JSON for people and the API, MessagePack for speed.

Redis Streams carries batches of events in a small envelope
``{topic, type, encoding, payload}``; the payload is a list of tagged events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import msgspec

from engine.events import AnyEvent, Event

Encoding = Literal["json", "msgpack"]
ENCODINGS: Final = ("json", "msgpack")

_json_encoder = msgspec.json.Encoder()
_msgpack_encoder = msgspec.msgpack.Encoder()
_json_batch = msgspec.json.Decoder(list[AnyEvent])
_msgpack_batch = msgspec.msgpack.Decoder(list[AnyEvent])
_json_one = msgspec.json.Decoder(AnyEvent)
_msgpack_one = msgspec.msgpack.Decoder(AnyEvent)


class CodecError(ValueError):
    """A payload could not be decoded into events."""


def encode(events: Sequence[Event], encoding: Encoding = "msgpack") -> bytes:
    """Encode a batch of events."""
    if encoding == "msgpack":
        return _msgpack_encoder.encode(events)
    if encoding == "json":
        return _json_encoder.encode(events)
    raise CodecError(f"unknown encoding {encoding!r}; use one of {ENCODINGS}")


def decode(payload: bytes, encoding: Encoding = "msgpack") -> list[Event]:
    """Decode a batch encoded by :func:`encode`."""
    try:
        if encoding == "msgpack":
            return list(_msgpack_batch.decode(payload))
        if encoding == "json":
            return list(_json_batch.decode(payload))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CodecError(f"cannot decode {encoding} event batch: {exc}") from exc
    raise CodecError(f"unknown encoding {encoding!r}; use one of {ENCODINGS}")


def encode_one(event: Event, encoding: Encoding = "json") -> bytes:
    return _json_encoder.encode(event) if encoding == "json" else _msgpack_encoder.encode(event)


def decode_one(payload: bytes, encoding: Encoding = "json") -> Event:
    try:
        decoded: Event = (
            _json_one.decode(payload) if encoding == "json" else _msgpack_one.decode(payload)
        )
        return decoded
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CodecError(f"cannot decode {encoding} event: {exc}") from exc


def to_builtins(event: Event) -> dict[str, object]:
    """A JSON-ready dict of one event (``type`` holds its class name)."""
    result = msgspec.to_builtins(event)
    assert isinstance(result, dict)
    return result
