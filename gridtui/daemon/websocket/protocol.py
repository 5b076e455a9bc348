"""The wire format of ``/ws/real-time``: message type names, frames, client messages.

Every event is encoded once as a JSON text frame ``{"type": …, "data": …}``
and the same bytes go to every client that wants that type; the table of types
is in :mod:`gridtui.daemon.websocket.server`'s docstring (the endpoint's description).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import msgspec

from engine.bus import codec
from engine.events import (
    Alert,
    AuditEntry,
    BacktestProgress,
    BatteryState,
    Event,
    FeedHealth,
    Forecast,
    Fundamentals,
    PriceTick,
    SpreadOpportunity,
    StrategyStatus,
    Trade,
)

MESSAGE_TYPES: Final[dict[type[Event], str]] = {
    PriceTick: "price_update",
    BatteryState: "battery_update",
    SpreadOpportunity: "arbitrage_opportunity",
    Trade: "trade_executed",
    Alert: "alert_triggered",
    BacktestProgress: "backtest_progress",
    StrategyStatus: "strategy_update",
    Forecast: "forecast_update",
    FeedHealth: "feed_health",
    Fundamentals: "fundamentals_update",
    AuditEntry: "audit_entry",
}
TRAINING_PROGRESS: Final = "model_training_progress"
# The capture ledger's snapshot, sent when a battery delivers or a strategy settles.
LEDGER_UPDATE: Final = "ledger_update"
ALL_MESSAGE_TYPES: Final = (*MESSAGE_TYPES.values(), TRAINING_PROGRESS, LEDGER_UPDATE)

encoder = msgspec.json.Encoder()


class ClientMessage(msgspec.Struct, frozen=True, kw_only=True):
    """What a WebSocket client may send: subscribe, authenticate, ping, ack."""

    action: str
    types: tuple[str, ...] | None = None
    batch: bool | None = None
    token: str | None = None
    name: str | None = None
    on: bool | None = None


def frame(message_type: str, data: bytes) -> bytes:
    return b'{"type":"' + message_type.encode() + b'","data":' + data + b"}"


def encode_events(events: Iterable[Event]) -> list[tuple[str, bytes]]:
    """``(message type, JSON frame)`` of each event, encoded once for every client."""
    encoded = []
    for event in events:
        message_type = MESSAGE_TYPES.get(type(event), "event")
        encoded.append((message_type, frame(message_type, codec.encode_one(event))))
    return encoded
