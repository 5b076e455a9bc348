"""The daemon's API: aiohttp app factory, routes, WebSocket, auth, metrics, alert sinks.

No textual import here: the daemon runs with no terminal. Entry points:
:func:`gridtui.daemon.app.create_app` and :func:`gridtui.daemon.app.start_server`,
used by ``gridtui daemon`` (:mod:`gridtui.commands.daemon`).
"""
