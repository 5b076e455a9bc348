"""``/health`` and ``/api/v1/engine/info`` say which node answers, its role and state.

A node without a feed of its own (api, analytics, a standby ingest) reports the
feed's health as the active ingest node published it on the bus.
"""

from __future__ import annotations

from datetime import timedelta

from engine.events import FeedHealth
from gridtui.roles.node import NodeState
from tests.daemon.conftest import DaemonFactory
from tests.stubs.builders import T0


async def test_a_single_process_daemon_is_the_one_active_node(make_daemon: DaemonFactory):
    daemon = await make_daemon()
    body = await (await daemon.http.get("/health")).json()
    assert body["node"]["role"] == "all"
    assert body["node"]["state"] == "active"
    info = await (await daemon.http.get("/api/v1/engine/info", headers=daemon.headers)).json()
    assert info["node"] == ""


async def test_an_api_node_tells_its_role_and_the_ingest_node_s_feed_health(
    make_daemon: DaemonFactory,
):
    daemon = await make_daemon()
    node = NodeState(role="api", node_id="api-9")
    node.activate(T0)
    daemon.engine.node = node
    since = T0 - timedelta(minutes=3)
    await daemon.publish(
        [FeedHealth(ts=T0, source="mock", state="up", since=since, events_total=1234)]
    )
    body = await (await daemon.http.get("/health")).json()
    assert body["node"] == {
        "role": "api",
        "node_id": "api-9",
        "state": "active",
        "active_node": "api-9",
        "active_since": T0.isoformat().replace("+00:00", "Z"),
        "takeovers": 1,
        "active_nodes": {},
    }
    assert body["feed"]["source"] == "mock"
    assert body["feed"]["state"] == "up"
    assert body["feed"]["events_total"] == 1234
    info = await (await daemon.http.get("/api/v1/engine/info", headers=daemon.headers)).json()
    assert info["node"] == "api node api-9"


async def test_a_standby_names_the_active_node(make_daemon: DaemonFactory):
    daemon = await make_daemon()
    node = NodeState(role="ingest", node_id="ingest-b", lease_key="p:lease:ingest:mock")
    node.stand_by()
    node.active_node = "ingest-a"
    daemon.engine.node = node
    body = await (await daemon.http.get("/health")).json()
    assert body["node"]["state"] == "standby"
    assert body["node"]["active_node"] == "ingest-a"
    assert body["node"]["active_since"] is None
    assert body["status"] == "degraded"  # no feed health seen on the bus yet
    assert body["feed"]["state"] == "unknown"
    info = await (await daemon.http.get("/api/v1/engine/info", headers=daemon.headers)).json()
    assert info["node"] == "ingest node ingest-b standby"
