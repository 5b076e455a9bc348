"""Daemons split by role for a benchmark: one ``--role ingest`` node and N ``--role api`` nodes.

They share the machine's Redis (a fresh key prefix) and PostgreSQL (a fresh
schema); both are removed on exit. ``bench/api_load.py`` points its load
generators at :attr:`SplitNodes.api_urls`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
MARKETS = 6


def unreachable(dsn: str, redis_url: str) -> str:
    """Why the split phase cannot run here ("" when both servers answer)."""

    async def check() -> str:
        import asyncpg
        import redis.asyncio as aioredis

        try:
            conn = await asyncpg.connect(dsn, timeout=3)
            await conn.close()
        except (OSError, asyncpg.PostgresError) as exc:
            return f"PostgreSQL at {dsn} unreachable ({exc})"
        client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=3)
        try:
            await client.ping()
        except Exception as exc:  # redis raises its own ConnectionError
            return f"Redis at {redis_url} unreachable ({exc})"
        finally:
            await client.aclose()
        return ""

    return asyncio.run(check())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


class SplitNodes:
    """The nodes, started on enter (ready: every API node serves every market) and
    stopped, with their schema and keys, on exit."""

    def __init__(self, dsn: str, redis_url: str, *, api_nodes: int = 2) -> None:
        self.dsn = dsn
        self.redis_url = redis_url
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        self.prefix = f"gridtui-bench-{uuid.uuid4().hex[:10]}"
        self.api_count = api_nodes
        self.api_urls: list[str] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._scratch = tempfile.TemporaryDirectory(prefix="gridtui-split-")

    def _start(self, name: str, role: str, env: dict[str, str]) -> str:
        port = _free_port()
        log = (Path(self._scratch.name) / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "gridtui.cli", "daemon", "--role", role]
        command += ["--node-id", name, "--port", str(port), "--store", self.dsn]
        command += ["--bus", self.redis_url, "--tick-interval", "0.5"]
        node_env = {**env, "GRIDTUI_DATA_DIR": str(Path(self._scratch.name) / name)}
        self._processes.append(
            subprocess.Popen(command, env=node_env, stdout=log, stderr=subprocess.STDOUT)
        )
        return f"http://127.0.0.1:{port}"

    def _wait(self, what: str, ready: Any, within_s: float = 60.0) -> None:
        deadline = time.monotonic() + within_s
        while not ready():
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a node died while waiting for {what}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not within {within_s:g} s")
            time.sleep(0.2)

    def __enter__(self) -> SplitNodes:
        asyncio.run(self._schema("CREATE SCHEMA {}"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
        env.update(
            PYTHONPATH=str(REPO_ROOT),
            GRIDTUI_CONFIG="",
            GRIDTUI_STORE_SCHEMA=self.schema,
            GRIDTUI_BUS_PREFIX=self.prefix,
            GRIDTUI_ALERTS_LOG="false",
            GRIDTUI_LOG_LEVEL="warning",
            # One host sends every request: no per-client limit in a load test.
            GRIDTUI_API_RATE_LIMIT_PER_S="1000000",
            GRIDTUI_API_RATE_LIMIT_BURST="1000000",
        )
        try:
            ingest = self._start("ingest", "ingest", env)
            self._wait("the ingest node", lambda: (_get(f"{ingest}/health") or {}).get("node"))
            self.api_urls = [self._start(f"api-{i + 1}", "api", env) for i in range(self.api_count)]
            for url in self.api_urls:
                self._wait(
                    f"{url} serving prices",
                    lambda url=url: (
                        len((_get(f"{url}/api/prices/latest") or {}).get("markets", [])) == MARKETS
                    ),
                )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        asyncio.run(self._schema("DROP SCHEMA IF EXISTS {} CASCADE"))
        asyncio.run(self._forget_keys())
        self._scratch.cleanup()

    async def _schema(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.dsn, timeout=5)
        try:
            await conn.execute(sql.format(self.schema))
        finally:
            await conn.close()

    async def _forget_keys(self) -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.redis_url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{self.prefix}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
