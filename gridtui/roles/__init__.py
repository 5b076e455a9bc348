"""Daemon roles: one ``gridtui daemon`` as ``ingest``, ``analytics``, ``api`` or ``all``.

``build`` turns the settings into the runtime of a role, ``lease`` keeps one
active ingest and one active analytics node per feed, ``catch_up`` backfills a
takeover from the last stored instant, ``node`` is what ``/health`` and the
status bar say about this node.
"""
