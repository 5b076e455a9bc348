"""One connected WebSocket client: what it wants, its bounded queue, its sender task.

The hub (:mod:`gridtui.daemon.websocket.server`) offers it every broadcast; the client
keeps what it subscribed to, drops its oldest messages when it falls behind,
and its own sender task writes the frames (one by one, or batched).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from gridtui.daemon.websocket.protocol import ALL_MESSAGE_TYPES, encoder

if TYPE_CHECKING:
    from gridtui.daemon.metrics import DaemonMetrics


class WebSocketClient:
    """One connected client: what it wants, its queue, its sender."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        peer: str,
        types: frozenset[str],
        batch: bool,
        queue_size: int,
        authenticated: bool,
        batch_linger_s: float = 0.0,
    ) -> None:
        self.ws = ws
        self.batch_linger_s = batch_linger_s  # only while in batch mode (it can change)
        self.peer = peer
        self.types = types
        self.batch = batch
        self.authenticated = authenticated
        self.queue: deque[bytes] = deque(maxlen=queue_size)
        self.answers: deque[bytes] = deque()  # direct answers: never dropped, sent first
        self.ready = asyncio.Event()
        self.dropped = 0
        self._reported_dropped = 0
        self.sent = 0

    def offer(self, messages: Sequence[tuple[str, bytes]], metrics: DaemonMetrics | None) -> None:
        if len(self.types) == len(ALL_MESSAGE_TYPES):
            wanted = [frame for _, frame in messages]
        else:
            wanted = [frame for message_type, frame in messages if message_type in self.types]
        if not wanted:
            return
        overflow = len(self.queue) + len(wanted) - (self.queue.maxlen or 0)
        if overflow > 0:
            self.dropped += overflow
            if metrics is not None:
                metrics.ws_dropped.inc(overflow)
        self.queue.extend(wanted)
        self.ready.set()

    def push(self, payload: object) -> None:
        """A direct answer to this client (never dropped: it goes before queued events)."""
        self.answers.append(encoder.encode(payload))
        self.ready.set()

    async def run_sender(self) -> None:
        ws = self.ws
        queue, answers = self.queue, self.answers
        while not ws.closed:
            await self.ready.wait()
            if self.batch and self.batch_linger_s and not answers:
                await asyncio.sleep(self.batch_linger_s)  # gather a frame's worth
            self.ready.clear()
            while answers:
                await ws.send_frame(answers.popleft(), WSMsgType.TEXT)
            if self.dropped != self._reported_dropped:
                self._reported_dropped = self.dropped
                await ws.send_frame(
                    encoder.encode({"type": "dropped", "data": {"total": self.dropped}}),
                    WSMsgType.TEXT,
                )
            while queue:
                if self.batch:
                    # Everything queued goes in one frame: one send however many
                    # events arrived since the last one, so a busy feed costs a
                    # batch client fewer frames, not more.
                    count = len(queue)
                    frames = [queue.popleft() for _ in range(count)]
                    frame = b'{"type":"batch","messages":[' + b",".join(frames) + b"]}"
                else:
                    count, frame = 1, queue.popleft()
                await ws.send_frame(frame, WSMsgType.TEXT)
                self.sent += count
