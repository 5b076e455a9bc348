"""One browser tab's dashboard: a ``gridtui dashboard --connect`` child of the serve process.

textual-serve starts one app process per WebSocket (:class:`AppService`); this
subclass decides what that process may do. A watching tab's child runs with
``--read-only`` and without any token in its environment (not even an inherited
``GRIDTUI_API_TOKEN``), so the daemon refuses its trades whatever keys are pressed.
A trading tab's child gets the daemon token in ``GRIDTUI_API_TOKEN``: in its
environment, never on its command line (which every local user can list).
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from textual_serve.app_service import AppService

TOKEN_VARIABLE = "GRIDTUI_API_TOKEN"


def dashboard_command(daemon_url: str, *, read_only: bool, config: str | None = None) -> str:
    """The shell command textual-serve runs for one tab (it spawns through a shell)."""
    argv = [sys.executable, "-m", "gridtui.cli", "dashboard", "--connect", daemon_url]
    if config:
        argv += ["--config", config]
    if read_only:
        argv.append("--read-only")
    return shlex.join(argv)


class DashboardSession(AppService):
    """An :class:`AppService` whose child gets this tab's token, or none at all."""

    def __init__(self, command: str, *, token: str | None, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._session_token = token

    # textual-serve builds the child's environment here (a copy of ours, plus its
    # driver settings); overriding it is the one place to give each tab its own.
    # Pinned by the lock; tests/browser/test_serve.py fails if this stops working.
    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment.pop(TOKEN_VARIABLE, None)
        if self._session_token:
            environment[TOKEN_VARIABLE] = self._session_token
        return environment
