"""``gridtui serve``: the dashboard in a browser, one dashboard process per tab, one engine.

Built on textual-serve: every browser tab's WebSocket gets its own
``gridtui dashboard --connect DAEMON`` child, so all tabs (and any terminal
attached with ``gridtui --connect``) watch the same daemon. Tabs are watch-only
unless opened with the daemon's token (:mod:`gridtui.serve.tickets`).
"""
