"""StopWatch: says what a daemon is still waiting on when a stop takes too long.

A SIGTERM should end the daemon within seconds (flush the store, close the bus
and the API). When it does not, an operator (or systemd, which kills after 90 s
and loses what was buffered) needs to know why: once ``after_s`` has passed since
the stop began, the watch logs every asyncio task still pending with where it
waits, and dumps every thread's stack to stderr from a thread of its own (that
part works even when something blocks the event loop).
"""

from __future__ import annotations

import asyncio
import faulthandler
import io
import logging
import sys
import threading

log = logging.getLogger(__name__)


class StopWatch:
    """Armed when a stop begins; reports once if the process is still up ``after_s`` later."""

    def __init__(self, after_s: float = 30.0) -> None:
        self.after_s = after_s
        self._timer: threading.Timer | None = None
        self._handle: asyncio.TimerHandle | None = None

    def arm(self) -> None:
        """Start the watch (again a no-op while armed); call from the event loop."""
        if self._timer is not None:
            return
        self._timer = threading.Timer(self.after_s, self._dump_threads)
        self._timer.daemon = True
        self._timer.start()
        self._handle = asyncio.get_running_loop().call_later(self.after_s, self._log_tasks)

    def disarm(self) -> None:
        """The stop finished: no report."""
        if self._timer is not None:
            self._timer.cancel()
        if self._handle is not None:
            self._handle.cancel()

    def _log_tasks(self) -> None:
        pending = [task for task in asyncio.all_tasks() if not task.done()]
        for task in pending:
            stack = io.StringIO()
            task.print_stack(limit=6, file=stack)
            log.warning(
                "still stopping after %.0f s: task %s waits:\n%s",
                self.after_s,
                task.get_name(),
                stack.getvalue(),
            )

    def _dump_threads(self) -> None:
        print(
            f"gridtui: still stopping after {self.after_s:.0f} s; every thread's stack:",
            file=sys.stderr,
            flush=True,
        )
        try:
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        except (AttributeError, ValueError, io.UnsupportedOperation):  # stderr with no file
            faulthandler.dump_traceback(file=2, all_threads=True)  # fd 2 itself
