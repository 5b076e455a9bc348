"""FeedHealthMachine: one feed's health — up, degraded or down, with the reason and since when.

The kernel owns one machine for its feed and is the only publisher of that
feed's :class:`~engine.events.FeedHealth` events, so everything that shows a
feed's health (the dashboard's status bar and Feed-health pane, the
``feed_down``/``feed_recovered`` alerts, the daemon's ``/health`` and
``/api/v1/feeds/health``) reads the same state and they cannot disagree.

The machine is fed by the feed's own signals, each stamped with the engine
clock's time by the caller:

- :meth:`~FeedHealthMachine.events_arrived` — the kernel, for every batch;
- :meth:`~FeedHealthMachine.alive` — a feed that polls says it is still running
  between polls (the ENTSO-E feed, at its health interval);
- :meth:`~FeedHealthMachine.request_ok`, :meth:`~FeedHealthMachine.request_failed`,
  :meth:`~FeedHealthMachine.retried`, :meth:`~FeedHealthMachine.budget` — a feed
  that talks to an API (the ENTSO-E client), as requests go;
- :meth:`~FeedHealthMachine.ended` — the kernel, when the stream is over.

Rules, first match wins (:meth:`~FeedHealthMachine.evaluate`):

1. the stream ended → ``down`` (stopped or failed) or ``ended`` (a replay ran out);
2. the API refused the credentials → ``down``;
3. ``down_after_failures`` requests failed in a row → ``down``;
4. nothing heard for ``stale_after_s`` (no batch, no heartbeat, no request
   answered or failed: the feed itself hangs) → ``down``;
5. the latest request failed, or one is being retried → ``degraded``;
6. nothing heard yet → ``degraded`` ("waiting for the first events");
7. otherwise ``up``.

``since`` is when the state last changed: every signal re-applies the rules, so
it is the signal's time, not when someone next asked. Pure and clock-injected: no wall clock,
no I/O, no framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from engine.events import Event, FeedHealth

UP: Final = "up"
DEGRADED: Final = "degraded"
DOWN: Final = "down"
ENDED: Final = "ended"


class FeedHealthMachine:
    """The one health state of one feed; see the module doc for the rules.

    Args:
        source: the feed's name, stamped on every FeedHealth event.
        stale_after_s: seconds without any signal after which the feed is down.
        down_after_failures: failed requests in a row that make the feed down
            (fewer make it degraded).
    """

    def __init__(
        self, source: str, *, stale_after_s: float = 60.0, down_after_failures: int = 3
    ) -> None:
        self.source = source
        self.stale_after_s = stale_after_s
        self.down_after_failures = down_after_failures
        self.state = DEGRADED
        self.reason = "waiting for the first events"
        self.since: datetime | None = None
        self.started_at: datetime | None = None
        self.last_heard: datetime | None = None
        self.last_batch_at: datetime | None = None
        self.last_success: datetime | None = None
        self.events_total = 0
        self.requests_ok = 0
        self.failures_total = 0
        self.consecutive_failures = 0
        self.retries_total = 0
        self.retrying = False
        self.last_error = ""
        self.last_error_at: datetime | None = None
        self.fatal = ""
        self.budget_used: int | None = None
        self.budget_limit: int | None = None
        self._ended: tuple[str, str] | None = None  # (state, reason)

    # -- signals ---------------------------------------------------------------------

    def start(self, now: datetime) -> None:
        """The stream starts: the staleness clock starts with it."""
        self.started_at = now
        self.evaluate(now)

    def events_arrived(self, events: Sequence[Event], now: datetime) -> None:
        """A batch came from the feed."""
        self.events_total += len(events)
        self.last_batch_at = self.last_heard = now
        self.evaluate(now)

    def alive(self, now: datetime) -> None:
        """The feed is running, though nothing new came (a heartbeat between polls)."""
        self.last_heard = now
        self.evaluate(now)

    def request_ok(self, now: datetime) -> None:
        """A request to the feed's API was answered."""
        self.requests_ok += 1
        self.consecutive_failures = 0
        self.retrying = False
        self.last_success = self.last_heard = now
        self.evaluate(now)

    def retried(self, error: str, now: datetime) -> None:
        """A request failed and is tried again."""
        self.retries_total += 1
        self.retrying = True
        self._error(error, now)
        self.evaluate(now)

    def request_failed(self, error: str, now: datetime, *, fatal: bool = False) -> None:
        """A request failed for good; ``fatal``: retrying cannot help (a refused token)."""
        self.failures_total += 1
        self.consecutive_failures += 1
        self.retrying = False
        self._error(error, now)
        if fatal:
            self.fatal = error
        self.evaluate(now)

    def budget(self, used: int, limit: int) -> None:
        """Requests spent in the API's rate-limit window, of ``limit``."""
        self.budget_used, self.budget_limit = used, limit

    def ended(self, now: datetime, *, stopped: bool = False, error: str = "") -> None:
        """The stream is over: stopped by the engine, failed with ``error``, or ran out."""
        if error:
            self._ended = (DOWN, error)
        elif stopped:
            self._ended = (DOWN, "the engine stopped the feed")
        else:
            self._ended = (ENDED, "the feed has no more events")
        self.evaluate(now)

    def _error(self, error: str, now: datetime) -> None:
        # A failing request is a feed that is alive: what is wrong is its API, and
        # the reason should say so rather than "nothing from the feed".
        self.last_error = error
        self.last_error_at = self.last_heard = now

    # -- state -----------------------------------------------------------------------

    def evaluate(self, now: datetime) -> str:
        """Apply the rules at ``now``; returns the state (and keeps it, with reason and since)."""
        state, reason, began = self._rules(now)
        if state != self.state or self.since is None:
            self.since = began
        self.state, self.reason = state, reason
        return state

    def _rules(self, now: datetime) -> tuple[str, str, datetime]:
        """(state, reason, since when that holds) at ``now``."""
        if self._ended is not None:
            return (*self._ended, now)
        if self.fatal:
            return DOWN, self.fatal, now
        if self.consecutive_failures >= self.down_after_failures:
            failed = f"{self.consecutive_failures} requests failed in a row: {self.last_error}"
            return DOWN, failed, now
        heard = self.last_heard or self.started_at
        if heard is not None and (now - heard).total_seconds() > self.stale_after_s:
            what = "nothing from the feed" if self.last_heard else "no events yet"
            # Silence is noticed when someone looks; it began at stale_after_s.
            began = heard + timedelta(seconds=self.stale_after_s)
            return DOWN, f"{what} for {(now - heard).total_seconds():.0f} s", began
        if self.retrying:
            return DEGRADED, f"retrying: {self.last_error}", now
        if self.consecutive_failures:
            return DEGRADED, f"the latest request failed: {self.last_error}", now
        if self.last_heard is None:
            return DEGRADED, "waiting for the first events", now
        return UP, "", now

    def event(self, now: datetime, **counters: int) -> FeedHealth:
        """The state at ``now`` as the feed's FeedHealth event; ``counters`` are the
        kernel's (``rejected_total``, ``errors_total``)."""
        self.evaluate(now)
        used, limit = self.budget_used, self.budget_limit
        return FeedHealth(
            ts=now,
            source=self.source,
            state=self.state,
            last_success=self.last_success if self.requests_ok else self.last_batch_at,
            events_total=self.events_total,
            rejected_total=counters.get("rejected_total", 0),
            errors_total=counters.get("errors_total", 0) + self.failures_total,
            budget_used_fraction=used / limit if used is not None and limit else None,
            message=self.reason,
            since=self.since,
            retries_total=self.retries_total,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            budget_used=used,
            budget_limit=limit,
        )
