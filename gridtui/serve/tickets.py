"""Trade tickets: which browser tabs may trade, without the daemon's token in the page.

A tab opened as ``/?token=…`` has its token checked by the daemon itself
(:mod:`gridtui.serve.token_check`); if the daemon accepts it, the browser gets a
random ticket in an ``HttpOnly``, ``SameSite=Strict`` cookie and is sent on to
``/``, so the token leaves the address bar and never reaches the page's script.
The token stays here, in memory, and goes to that tab's dashboard process in
its environment only. A serve restart forgets every ticket: tabs watch again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

COOKIE = "gridtui_trade"
TICKET_TTL_S = 12 * 3600.0  # a trading day and then some; after that, the token again
MAX_TICKETS = 1000  # a bound on memory; the oldest go first


class TradeTickets:
    """Tickets handed to browsers, each standing for a daemon token the daemon accepted."""

    def __init__(
        self, *, ttl_s: float = TICKET_TTL_S, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._now = now
        self._tickets: dict[str, tuple[str, float]] = {}

    def issue(self, token: str) -> str:
        """A new ticket for ``token`` (already accepted by the daemon)."""
        self._forget_expired()
        while len(self._tickets) >= MAX_TICKETS:
            del self._tickets[next(iter(self._tickets))]
        ticket = secrets.token_urlsafe(32)
        self._tickets[ticket] = (token, self._now() + self.ttl_s)
        return ticket

    def token_for(self, ticket: str | None) -> str | None:
        """The token behind a cookie's ticket; None for no, unknown or expired tickets."""
        if not ticket:
            return None
        found = self._tickets.get(ticket)
        if found is None:
            return None
        token, expires = found
        if self._now() >= expires:
            del self._tickets[ticket]
            return None
        return token

    def __len__(self) -> int:
        return len(self._tickets)

    def _forget_expired(self) -> None:
        now = self._now()
        for ticket, (_, expires) in list(self._tickets.items()):
            if now >= expires:
                del self._tickets[ticket]
