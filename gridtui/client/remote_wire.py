"""What a daemon sends a remote client: WebSocket frames and REST bodies, decoded.

:class:`~gridtui.client.remote.RemoteClient` reads the daemon's WebSocket and
REST API; this module holds the shapes of what comes back (msgspec structs of
the JSON bodies it reads) and turns a WebSocket frame into the engine's own
events (:func:`decode_frame`), so the client keeps only the connection.
"""

from __future__ import annotations

import logging

import msgspec

from engine.bus import codec
from engine.bus.codec import CodecError
from engine.events import AuditEntry, Event, FeedHealth, PriceTick
from gridtui.client.protocol import ForecasterInfo

log = logging.getLogger(__name__)

CONTROL_TYPES = frozenset(
    {
        "welcome",
        "pong",
        "dropped",
        "subscribed",
        "authenticated",
        "ack",
        "error",
        "model_training_progress",
    }
)


_NULL = msgspec.Raw(b"null")


class Frame(msgspec.Struct):
    """One WebSocket message from the daemon: its type, and an event or a batch of messages."""

    type: str
    data: msgspec.Raw = msgspec.field(default_factory=lambda: _NULL)
    messages: list[msgspec.Raw] | None = None

    @property
    def has_data(self) -> bool:
        return bytes(self.data) not in (b"", b"null")


class TransmissionCost(msgspec.Struct):
    """One border direction's transmission cost, as ``/api/v1/engine/info`` lists it."""

    from_market: str
    to_market: str
    cost_eur_mwh: float


class FeedsHealth(msgspec.Struct):
    """The body of ``/api/v1/feeds/health``."""

    feeds: list[FeedHealth]


class EngineInfo(msgspec.Struct):
    """The body of ``/api/v1/engine/info``: feed, store, bus, clock, markets, costs, forecasters."""

    feed: str
    store: str
    bus: str
    clock: str
    markets: list[str]
    transmission_costs: list[TransmissionCost]
    forecasters: list[ForecasterInfo] = msgspec.field(default_factory=list)
    regions: dict[str, str] = msgspec.field(default_factory=dict)  # absent from older daemons
    node: str = ""  # which daemon node answers (a split deployment), for the status bar


class Prices(msgspec.Struct):
    """The body of the latest-prices and price-history routes."""

    prices: list[PriceTick]


class Audit(msgspec.Struct):
    """The body of ``/api/v1/audit``."""

    entries: list[AuditEntry]


class Started(msgspec.Struct):
    """The answer to a backtest POST: the new run's id."""

    run_id: str


class Results(msgspec.Struct):
    """The metrics of a finished backtest."""

    metrics: dict[str, float]


_frame_decoder = msgspec.json.Decoder(Frame)


def decode_frame(raw: bytes) -> list[Event]:
    """The engine events in one WebSocket frame (a batch or a single event).

    Control frames (welcome, pong, acks…) carry none; a daemon's ``error`` frame
    is logged. A malformed frame is logged and skipped, and an event of a type
    this client does not know yet is left out.
    """
    try:
        frame = _frame_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        log.warning("ignoring a malformed message from the daemon")
        return []
    if frame.type == "batch":
        return [e for e in map(_decode_message, frame.messages or []) if e is not None]
    if frame.type in CONTROL_TYPES:
        if frame.type == "error" and frame.has_data:
            log.warning("daemon says: %s", bytes(frame.data).decode(errors="replace"))
        return []
    if frame.has_data:
        event = _decode_event(frame.data)
        return [event] if event is not None else []
    return []


def _decode_message(raw: msgspec.Raw) -> Event | None:
    try:
        frame = _frame_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if frame.type in CONTROL_TYPES or not frame.has_data:
        return None
    return _decode_event(frame.data)


def _decode_event(data: msgspec.Raw) -> Event | None:
    try:
        return codec.decode_one(bytes(data))
    except CodecError:
        return None  # an event type this client does not know yet


def error_message(raw: bytes) -> str:
    """The ``error`` of a daemon's JSON error body (or the start of a body that is not JSON)."""
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode(errors="replace")[:200]
    if isinstance(body, dict):
        return str(body.get("error", ""))
    return ""
