"""What an ENTSO-E client has done: counters for health events and logs.

:class:`~feeds.entsoe.client.EntsoeClient` updates one :class:`ClientStats` as
it goes; the live feed reads it into its FeedHealth events.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class ClientStats(msgspec.Struct, kw_only=True):
    """What the client has done, for health events and logs."""

    requests: int = 0
    queries: int = 0
    empty: int = 0
    retries: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    problems: int = 0
    errors: dict[str, int] = msgspec.field(default_factory=dict)
    last_success: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    auth_failed: bool = False

    @property
    def errors_total(self) -> int:
        return sum(self.errors.values())
