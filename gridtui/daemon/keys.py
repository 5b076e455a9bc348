"""Typed keys of what the daemon app holds (``app[ENGINE]``, ``app[HUB]``, …)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from gridtui.daemon.alert_router import AlertRouter
    from gridtui.daemon.auth import TokenAuth
    from gridtui.daemon.guards import BacktestSlots, HostPolicy
    from gridtui.daemon.metrics import DaemonMetrics
    from gridtui.daemon.ratelimit import RateLimiter
    from gridtui.daemon.state import DaemonEngine, TrainingJobs
    from gridtui.daemon.websocket.server import WebSocketHub
    from gridtui.settings.daemon import ApiSettings

ENGINE: web.AppKey[DaemonEngine] = web.AppKey("engine")
API_SETTINGS: web.AppKey[ApiSettings] = web.AppKey("api_settings")
AUTH: web.AppKey[TokenAuth] = web.AppKey("auth")
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter")
METRICS: web.AppKey[DaemonMetrics] = web.AppKey("metrics")
HUB: web.AppKey[WebSocketHub] = web.AppKey("hub")
ALERT_ROUTER: web.AppKey[AlertRouter] = web.AppKey("alert_router")
JOBS: web.AppKey[TrainingJobs] = web.AppKey("jobs")
HOSTS: web.AppKey[HostPolicy] = web.AppKey("hosts")
BACKTESTS: web.AppKey[BacktestSlots] = web.AppKey("backtests")
