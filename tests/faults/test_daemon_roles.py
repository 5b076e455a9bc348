"""Daemons split by role on the machine's real Redis and PostgreSQL, and an ingest failover.

Six real ``gridtui daemon`` processes share one Redis (a fresh key prefix) and one
PostgreSQL database (a fresh schema): two ``ingest`` nodes (one active, one standby,
a 2 s lease), two ``analytics`` nodes (the same) and two ``api`` nodes. The simulator ticks every
0.2 s. The test checks:

1. the standby says so in ``/health`` and names the active node;
2. a dashboard (Textual Pilot on a :class:`RemoteClient`) attached to each API node
   shows the very same prices — a round of ticks that is in the store — and the
   same open opportunities;
3. ``kill -9`` of the active ingest: the standby is active within two lease
   periods, and every market's intraday series in the store has no gap wider than
   one tick interval across the takeover (the standby resumed from the last stored
   instant); both API nodes serve ticks from after the takeover;
4. ``kill -9`` of the active analytics node: its standby (a sixth process) is
   active within two lease periods and both API nodes serve opportunities it
   derived after the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from engine.events import PriceKind
from engine.store.postgres import PostgresStore
from gridtui.client.remote import RemoteClient
from gridtui.daemon.auth import read_token, rotate_token
from gridtui.tui.app import GridApp
from gridtui.tui.widgets.price_table import PriceTable
from gridtui.tui.widgets.spread_table import SpreadTable
from gridtui.tui.widgets.status_bar import StatusBar
from tests.stubs.pg_server import free_port

pytestmark = pytest.mark.slow

TICK_S = 0.2
LEASE_S = 2.0
MARKETS = ("DE", "FR", "NL", "BE", "AT", "GB")


class Node:
    """One daemon subprocess: its role, API address and log file."""

    def __init__(self, name: str, role: str, tmp: Path, env: dict[str, str], dsn: str, bus: str):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        node_env = {**env, "GRIDTUI_DATA_DIR": str(tmp / name)}
        command = [
            sys.executable,
            "-m",
            "gridtui.cli",
            "daemon",
            *("--role", role, "--node-id", name, "--port", str(self.port)),
            *("--store", dsn, "--bus", bus, "--tick-interval", str(TICK_S), "--seed", "7"),
        ]
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, env=node_env, stdout=log, stderr=log)

    def tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-15:])


async def get(session: aiohttp.ClientSession, url: str) -> Any:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
            return await response.json()
    except (aiohttp.ClientError, TimeoutError):
        return None


async def wait_for(what: str, check, within_s: float, nodes: list[Node]) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        for node in nodes:
            assert node.process.poll() is None, f"{node.name} died ({what}):\n{node.tail()}"
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {within_s} s"
        await asyncio.sleep(0.1)


def price_cells(app: GridApp) -> tuple[tuple[str, str], ...] | None:
    table = app.dashboard.query_one(PriceTable)
    if set(table.row_keys) != set(MARKETS):
        return None
    return tuple((market, table.cell_text(market, "price").strip()) for market in sorted(MARKETS))


async def watch_dashboard(url: str, token: str, seconds: float) -> dict[str, Any]:
    """Attach a dashboard to ``url`` for ``seconds``: every price row it showed, every set
    of open pairs, and its status bar."""
    client = RemoteClient(url, token=token)
    await client.connect()
    app = GridApp(client)
    prices: set[tuple[tuple[str, str], ...]] = set()
    pairs: set[tuple[str, ...]] = set()
    async with app.run_test(size=(240, 50)) as pilot:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline or not prices:
            assert time.monotonic() < deadline + 15, f"the dashboard on {url} showed no prices"
            await pilot.pause(0.03)
            if (cells := price_cells(app)) is not None:
                prices.add(cells)
            open_pairs = app.dashboard.query_one(SpreadTable).row_keys
            if open_pairs:
                pairs.add(tuple(sorted(open_pairs)))
        status = app.dashboard.query_one(StatusBar).render().plain
        await pilot.press("q")
        await pilot.pause()
    await client.close()
    return {"prices": prices, "pairs": pairs, "status": status}


async def test_split_roles_share_one_state_and_a_standby_ingest_takes_over_without_a_gap(
    tmp_path: Path, postgres_schema: tuple[str, str], redis_prefix: tuple[str, str]
) -> None:
    dsn, schema = postgres_schema
    redis_url, prefix = redis_prefix
    token_file = tmp_path / "api-token"
    rotate_token(token_file)  # one token for every node (the file each API reads)
    token = read_token(token_file)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env.update(
        GRIDTUI_CONFIG="",
        GRIDTUI_STORE_SCHEMA=schema,
        GRIDTUI_BUS_PREFIX=prefix,
        GRIDTUI_DAEMON_LEASE_S=str(LEASE_S),
        GRIDTUI_API_TOKEN_FILE=str(token_file),
        GRIDTUI_ALERTS_LOG="false",
        GRIDTUI_STORE_MAX_AGE_S="0.2",
    )

    def start(name: str, role: str) -> Node:
        return Node(name, role, tmp_path, env, dsn, redis_url)

    nodes: list[Node] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:

        async def health(node: Node) -> dict[str, Any] | None:
            found = await get(http, f"{node.url}/health")
            return dict(found) if found else None

        async def node_state(node: Node, state: str) -> dict[str, Any] | None:
            found = await health(node)
            return found if found and found["node"]["state"] == state else None

        try:
            ingest_a = start("ingest-a", "ingest")
            nodes.append(ingest_a)
            await wait_for("ingest-a active", lambda: node_state(ingest_a, "active"), 30, nodes)
            await wait_for("ingest-a storing", lambda: _storing(health, ingest_a), 30, nodes)
            ingest_b, analytics_a = start("ingest-b", "ingest"), start("analytics-a", "analytics")
            api_1, api_2 = start("api-1", "api"), start("api-2", "api")
            nodes += [ingest_b, analytics_a, api_1, api_2]
            await wait_for(
                "analytics-a active", lambda: node_state(analytics_a, "active"), 30, nodes
            )
            analytics_b = start("analytics-b", "analytics")
            nodes.append(analytics_b)
            standby = await wait_for(
                "ingest-b standby", lambda: node_state(ingest_b, "standby"), 30, nodes
            )
            assert standby["node"]["role"] == "ingest"
            await wait_for(
                "ingest-b names the active node",
                lambda: _names_active(health, ingest_b, "ingest-a"),
                10,
                nodes,
            )
            for api in (api_1, api_2):
                up = await wait_for(f"{api.name} up", lambda api=api: health(api), 30, nodes)
                assert up["node"] == {
                    "role": "api",
                    "node_id": api.name,
                    "state": "active",
                    "active_node": api.name,
                    "active_since": up["node"]["active_since"],
                    "takeovers": 1,
                    "active_nodes": up["node"]["active_nodes"],
                }
                assert up["components"] == []  # no analytics of its own

            async def both_serve_opportunities() -> bool:
                found = [
                    await get(http, f"{api.url}/api/spreads/opportunities")
                    for api in (api_1, api_2)
                ]
                return all(body and body.get("opportunities") for body in found)

            await wait_for("opportunities on both API nodes", both_serve_opportunities, 30, nodes)

            # Two dashboards, one per API node, side by side in time.
            seen_1, seen_2 = await asyncio.gather(
                watch_dashboard(api_1.url, token, 4.0), watch_dashboard(api_2.url, token, 4.0)
            )
            assert "api node api-1" in seen_1["status"]
            assert "api node api-2" in seen_2["status"]
            shared_prices = seen_1["prices"] & seen_2["prices"]
            assert shared_prices, "the two dashboards never showed the same prices"
            assert seen_1["pairs"] & seen_2["pairs"], "never the same open opportunities"
            store = PostgresStore(dsn, schema=schema)
            await store.open()
            try:
                recent = {
                    market: await store.price_history(
                        market,
                        start=datetime.now(UTC) - timedelta(minutes=2),
                        limit=1000,
                        kind=PriceKind.INTRADAY,
                    )
                    for market in MARKETS
                }
            finally:
                await store.close()
            by_ts: dict[datetime, dict[str, float]] = {}
            for market, ticks in recent.items():
                for tick in ticks:
                    by_ts.setdefault(tick.ts, {})[market] = tick.price_eur_mwh
            stored_rounds = {
                tuple((m, f"{prices[m]:,.2f}") for m in sorted(MARKETS))
                for prices in by_ts.values()
                if len(prices) == len(MARKETS)
            }
            assert shared_prices & stored_rounds, "what both dashboards showed is not in the store"

            # kill -9 the active ingest node: the standby takes over.
            ingest_a.process.send_signal(signal.SIGKILL)
            ingest_a.process.wait(10)
            killed_at = time.monotonic()
            killed_wall = datetime.now(UTC)
            nodes.remove(ingest_a)
            await wait_for(
                "ingest-b takes over", lambda: node_state(ingest_b, "active"), 4 * LEASE_S, nodes
            )
            took_s = time.monotonic() - killed_at
            assert took_s <= 2 * LEASE_S, f"takeover took {took_s:.2f} s"

            async def api_nodes_name(role: str, active: str) -> bool:
                for api in (api_1, api_2):
                    found = await health(api)
                    if not found or found["node"]["active_nodes"].get(role) != active:
                        return False
                return True

            await wait_for(
                "the API nodes name the new ingest node",
                lambda: api_nodes_name("ingest", "ingest-b"),
                2 * LEASE_S,
                nodes,
            )
            print(f"takeover after kill -9: {took_s:.2f} s (lease {LEASE_S} s)")  # the figure, -s

            async def fresh_on_both() -> bool:
                for api in (api_1, api_2):
                    body = await get(http, f"{api.url}/api/prices/latest")
                    if not body or len(body["markets"]) != len(MARKETS):
                        return False
                    newest = min(datetime.fromisoformat(m["timestamp"]) for m in body["markets"])
                    if newest <= killed_wall + timedelta(seconds=1):
                        return False
                return True

            await wait_for("ticks after the takeover on both API nodes", fresh_on_both, 15, nodes)

            # The same for the analytics node: its standby resumes the consumer group.
            await wait_for(
                "analytics-b standby", lambda: node_state(analytics_b, "standby"), 30, nodes
            )
            analytics_a.process.send_signal(signal.SIGKILL)
            analytics_a.process.wait(10)
            analytics_killed_at = time.monotonic()
            analytics_killed_wall = datetime.now(UTC)
            nodes.remove(analytics_a)
            await wait_for(
                "analytics-b takes over",
                lambda: node_state(analytics_b, "active"),
                4 * LEASE_S,
                nodes,
            )
            analytics_took_s = time.monotonic() - analytics_killed_at
            assert analytics_took_s <= 2 * LEASE_S, f"takeover took {analytics_took_s:.2f} s"
            print(f"analytics takeover after kill -9: {analytics_took_s:.2f} s")
            await wait_for(
                "the API nodes name the new analytics node",
                lambda: api_nodes_name("analytics", "analytics-b"),
                2 * LEASE_S,
                nodes,
            )

            async def fresh_opportunities_on_both() -> bool:
                for api in (api_1, api_2):
                    body = await get(http, f"{api.url}/api/spreads/opportunities")
                    rows = (body or {}).get("opportunities") or []
                    if not any(
                        datetime.fromisoformat(row["timestamp"]) > analytics_killed_wall
                        for row in rows
                    ):
                        return False
                return True

            await wait_for(
                "opportunities derived after the analytics takeover",
                fresh_opportunities_on_both,
                20,
                nodes,
            )
            await asyncio.sleep(0.5)
        finally:
            for node in nodes:
                if node.process.poll() is None:
                    node.process.send_signal(signal.SIGTERM)
            for node in nodes:
                try:
                    node.process.wait(20)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(5)
                    pytest.fail(f"{node.name} did not stop on SIGTERM:\n{node.tail()}")
    for node in nodes:
        assert node.process.returncode == 0, f"{node.name}: exit {node.process.returncode}"

    # Every market's intraday series is gap-free across the takeover.
    store = PostgresStore(dsn, schema=schema)
    await store.open()
    try:
        window_start = killed_wall - timedelta(seconds=5)
        for market in MARKETS:
            ticks = await store.price_history(
                market, start=window_start, limit=1000, kind=PriceKind.INTRADAY
            )
            stamps = sorted({tick.ts for tick in ticks})
            assert stamps[0] < killed_wall - timedelta(seconds=3), market
            assert stamps[-1] > killed_wall + timedelta(seconds=2), market
            widest = max(b - a for a, b in itertools.pairwise(stamps))
            assert widest <= timedelta(seconds=TICK_S * 1.05), f"{market}: a gap of {widest}"
            print(f"{market}: {len(stamps)} ticks around the takeover, widest step {widest}")
    finally:
        await store.close()


async def _names_active(health, node: Node, active: str) -> bool:
    found = await health(node)
    return bool(found and found["node"]["active_node"] == active)


async def _storing(health, node: Node) -> bool:
    found = await health(node)
    return bool(found and found["store"]["written"] > 0 and found["feed"]["state"] == "up")
