"""What the daemon app checks before it serves: Host and Origin, and how many backtests run.

* :class:`HostPolicy` — the host names a request may address (``Host``) and
  that a browser page may come from (``Origin``): localhost, 127.0.0.1, ::1 and
  ``api.allowed_hosts``. A DNS-rebinding page addresses the daemon by a foreign
  name, and a page of a foreign site sends its own Origin; both are refused by
  the host middleware of :mod:`gridtui.daemon.middlewares`.
* :class:`BacktestSlots` — backtests started over the API that have not ended,
  for ``api.max_running_backtests`` (``routes.backtest`` asks it).
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Iterable
from urllib.parse import urlsplit

from gridtui.daemon.state import DaemonEngine

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
TERMINAL_STATES = frozenset({"finished", "failed", "cancelled"})


def host_name(header: str) -> str | None:
    """The host of a ``Host`` header (``name``, ``name:port``, ``[v6]:port``); None if malformed."""
    value = header.strip().lower()
    if value.startswith("["):
        inside, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return inside
    name, colon, port = value.partition(":")
    if colon and not port.isdigit():
        return None  # a bare IPv6 address without brackets, or a bad port
    return name.rstrip(".") or None


class HostPolicy:
    """Host names the daemon answers to (compared without port, case-insensitively)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = frozenset(h.lower().strip("[]") for h in (*LOCAL_HOSTS, *allowed))

    def _known(self, name: str | None) -> bool:
        if name is None:
            return False
        if name in self.allowed:
            return True
        try:  # 127.0.0.2 and friends are this machine too
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def host_ok(self, header: str | None) -> bool:
        """A missing Host (HTTP/1.0) is allowed: only a browser's rebinding is a threat."""
        return header is None or self._known(host_name(header))

    def origin_ok(self, header: str | None) -> bool:
        """An absent Origin passes (no browser page); ``null`` and foreign sites do not."""
        if header is None:
            return True
        try:
            parts = urlsplit(header.strip())
            name = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and self._known(name)

    def describe(self) -> str:
        return ", ".join(sorted(self.allowed))


class BacktestSlots:
    """Backtests started over the API and not ended yet.

    The engine client's own count wins where it has one (``running_backtests``
    on :class:`~gridtui.client.in_process.InProcessClient`); otherwise a run counts until
    its live progress says it ended.
    """

    def __init__(self) -> None:
        self._started: OrderedDict[str, None] = OrderedDict()

    def started(self, run_id: str) -> None:
        self._started[run_id] = None

    def running(self, engine: DaemonEngine) -> int:
        counted = getattr(engine.client, "running_backtests", None)
        if isinstance(counted, int):
            return counted
        live = engine.live.backtests
        for run_id in list(self._started):
            progress = live.get(run_id)
            if progress is not None and progress.state in TERMINAL_STATES:
                del self._started[run_id]
        return len(self._started)
