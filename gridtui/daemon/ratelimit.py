"""Per-client rate limiting: one token bucket per client address.

A client may make ``burst`` requests at once and ``rate_per_s`` a second
sustained; beyond that it gets 429 with a ``Retry-After`` header. Buckets of
clients not seen for a while are forgotten (least recently used first) so a
scan from many addresses cannot grow memory without bound. The clock is
injected so tests need not sleep.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """A token bucket per client address, for the routes that change state or cost work."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        """``rate_per_s`` = 0 turns limiting off."""
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.limited = 0

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0

    def acquire(self, client: str, cost: float = 1.0) -> float:
        """Take ``cost`` from the client's bucket: 0.0 when allowed, else seconds to wait."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
        if tokens >= cost:
            self._buckets[client] = (tokens - cost, now)
            wait_s = 0.0
        else:
            self._buckets[client] = (tokens, now)
            self.limited += 1
            wait_s = (cost - tokens) / self.rate_per_s
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait_s

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait_s)))
