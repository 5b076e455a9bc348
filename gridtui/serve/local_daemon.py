"""The daemon ``gridtui serve`` runs when it is given none to attach to.

The same pieces as ``gridtui daemon`` (:func:`gridtui.wiring.build_runtime`,
:func:`gridtui.daemon.server.start_api` with the store trainer and the live
predictor), in the serve process: one engine, one API, one token file
(``DATA_DIR/api-token``), which every browser tab and any terminal
(``gridtui --connect``) attach to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from engine.bus.base import BusError
from engine.ports import FeedError
from engine.store.base import StoreError
from gridtui.daemon.model_jobs import LivePredictor, StoreTrainer
from gridtui.daemon.server import ApiStartError, start_api
from gridtui.settings.loader import Settings
from gridtui.wiring import build_runtime

log = logging.getLogger("gridtui.serve")


class LocalDaemonError(RuntimeError):
    """The local daemon could not start; the message says why."""


@dataclass(frozen=True)
class RunningDaemon:
    """The local daemon while it runs: its API's URL and the engine's task."""

    url: str
    engine: asyncio.Task[Any]  # done when the engine stopped (the feed ended or failed)


def _client_host(bound: str) -> str:
    """Where a local client reaches a daemon bound to ``bound``."""
    if bound in ("", "0.0.0.0"):
        return "127.0.0.1"
    if bound == "::":
        return "[::1]"
    return f"[{bound}]" if ":" in bound else bound


@contextlib.asynccontextmanager
async def local_daemon(settings: Settings) -> AsyncIterator[RunningDaemon]:
    """Run the engine and its API until the block ends; yields its URL and engine task.

    Raises:
        LocalDaemonError: the store, bus or API could not start (port taken, …).
    """
    if not settings.api.enabled:
        raise LocalDaemonError("api.enabled is off: browser tabs attach through the API")
    runtime = build_runtime(settings)
    try:
        await runtime.start()
    except (StoreError, BusError) as exc:
        await runtime.close()
        raise LocalDaemonError(str(exc)) from exc
    try:
        api = await start_api(
            settings,
            runtime,
            trainer=StoreTrainer(settings, runtime.store, runtime.clock.now),
            predictor=LivePredictor(runtime.kernel.components, runtime.clock.now),
        )
    except ApiStartError as exc:
        await runtime.close()
        raise LocalDaemonError(str(exc)) from exc
    assert api is not None  # api.enabled was checked above
    port = api.addresses[0][1]
    running = asyncio.create_task(runtime.run(None), name="serve-engine")
    try:
        yield RunningDaemon(f"http://{_client_host(settings.api.host)}:{port}", running)
    finally:
        runtime.stop()
        try:
            await running
        except FeedError as exc:
            log.error("feed failed: %s", exc)
        finally:
            await api.cleanup()
            await runtime.close()
