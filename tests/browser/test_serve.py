"""`gridtui serve` in a real headless Chromium: prices render, keys work, tabs watch one engine.

One real `gridtui serve` process (its own engine: the simulator at a tick every
0.2 s per market, a temporary SQLite file, free ports) serves every test here;
Chromium (the Debian package, through Playwright) opens its page, and what a tab
shows is read from xterm.js's screen buffer (see ``dashboard_page``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.browser.dashboard_page import (
    chromium,
    chromium_or_skip,
    open_tab,
    press,
    screen,
    wait_for_screen,
)

pytestmark = pytest.mark.browser

GRIDTUI = [sys.executable, "-m", "gridtui.cli"]
# A row of the Prices table: "│ DE      14.20   …" (the focused pane's border is ┃).
PRICE_ROW = re.compile(r"[│┃] (?P<market>[A-Z]{2})\s+(?P<price>-?\d[\d,]*\.\d\d)\s")
FOCUSED_PANE = re.compile(r"┏━ (?P<title>[A-Z][\w -]*?) ━")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    page: str  # http://127.0.0.1:PORT
    daemon: str  # the engine's API
    data_dir: Path

    @property
    def token(self) -> str:
        return (self.data_dir / "api-token").read_text().strip()

    def api(self, path: str, *, method: str = "GET") -> object:
        request = urllib.request.Request(self.daemon + path, method=method)
        if method != "GET" or path.startswith("/api/v1/audit"):
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def strategy_running(self, name: str) -> bool:
        answer = self.api("/api/v1/trading/strategies")
        assert isinstance(answer, dict)
        (found,) = [s for s in answer["strategies"] if s["strategy"] == name]
        return bool(found["state"] == "running")


@contextmanager
def running(name: str, args: list[str], scratch: Path, ready_url: str) -> Iterator[None]:
    """A real gridtui process until the block ends; then SIGTERM, a clean exit 0, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDTUI_")}
    env |= {"GRIDTUI_DATA_DIR": str(scratch / "data"), "GRIDTUI_CONFIG": ""}
    # Files, not pipes: nobody reads them meanwhile, and a full pipe would stall the process.
    out, err = scratch / f"{name}.out", scratch / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen([*GRIDTUI, *args], env=env, stdout=stdout, stderr=stderr)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{name} exited {process.returncode}: {err.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(ready_url, timeout=2):
                        break
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline:
                        pytest.fail(f"{name} did not answer within 60 s: {err.read_text()[-3000:]}")
                    time.sleep(0.2)
            yield
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                pytest.fail(f"{name} did not stop within 30 s of SIGTERM")
    log = err.read_text() + out.read_text()
    assert code == 0, log[-3000:]
    assert "Traceback" not in log
    token = scratch / "data" / "api-token"
    assert not token.exists() or token.read_text().strip() not in log


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`gridtui serve` with its own engine (no --connect)."""
    chromium_or_skip()  # no point starting an engine nobody can look at
    scratch = tmp_path_factory.mktemp("serve")
    port, api_port = free_port(), free_port()
    args = ["serve", "--port", str(port), "--api-port", str(api_port), "--tick-interval", "0.2"]
    args += ["--store", f"sqlite:{scratch / 'ticks.db'}"]
    page, daemon = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{api_port}"
    with running("gridtui serve", args, scratch, page + "/"):
        yield Served(page, daemon, scratch / "data")


def prices_on(text: str) -> dict[str, float]:
    return {m["market"]: float(m["price"].replace(",", "")) for m in PRICE_ROW.finditer(text)}


async def test_prices_render_and_tab_moves_between_panes(served: Served) -> None:
    markets = served.api("/api/v1/engine/info")
    assert isinstance(markets, dict)
    wanted = set(markets["markets"])
    async with chromium() as browser:
        page = await open_tab(browser, served.page + "/")
        text = await wait_for_screen(
            page, lambda t: wanted <= set(prices_on(t)), f"a price for each of {sorted(wanted)}"
        )
        latest = served.api("/api/v1/dashboard/prices")
        assert isinstance(latest, dict)
        # Shown prices are the engine's, not made up: each lies in the range the
        # daemon stored for its market (the store holds every tick since the start).
        for market, shown in prices_on(text).items():
            history = served.api(f"/api/v1/dashboard/prices/history?market={market}&limit=1000")
            assert isinstance(history, dict)
            seen = [p["price_eur_mwh"] for p in history["prices"]]
            assert min(seen) - 0.01 <= shown <= max(seen) + 0.01, (market, shown)
        assert f"via {served.daemon}" in text  # attached to the serve's one engine

        # Tab moves the focus from pane to pane: each press changes which pane has
        # the heavy border. Each step waits for the screen to settle, so a read
        # never races the key it follows.
        focused = await settled_focus(page)
        for _ in range(2):
            await press(page, "Tab")
            moved = await wait_for_screen(page, focus_left(focused), "focus move")
            assert len(FOCUSED_PANE.findall(moved)) == 1
            now = await settled_focus(page)
            assert now != focused, (focused, now)
            focused = now
        (title,) = focused

        # z zooms the focused pane: the others leave the screen.
        others = {"Prices", "Spreads", "Alerts", "Strategies"} - {title}
        await press(page, "z")
        await wait_for_screen(
            page,
            lambda t: all(f"─ {o} ─" not in t for o in others) and f"━ {title} ━" in t,
            f"{title} zoomed alone",
        )


def focus_left(was: list[str]) -> Callable[[str], bool]:
    """A screen where one pane has the focus, and not the one(s) in ``was``."""
    return lambda text: FOCUSED_PANE.findall(text) not in ([], was)


async def settled_focus(page: Any) -> list[str]:
    """The focused pane's title once the same one has shown for a second."""
    last: list[str] | None = None
    for _ in range(40):
        now = FOCUSED_PANE.findall(await screen(page))
        if now == last:
            return now
        last = now
        await asyncio.sleep(1.0)
    pytest.fail(f"the focus never settled (last: {last})")


async def test_two_tabs_watch_one_engine_and_refuse_trading(served: Served) -> None:
    was_running = served.strategy_running("arbitrage")
    async with chromium() as browser:
        tabs = [await open_tab(browser, served.page + "/") for _ in range(2)]
        for tab in tabs:
            text = await wait_for_screen(tab, lambda t: bool(prices_on(t)), "prices")
            assert f"via {served.daemon}" in text
        await wait_for_screen(tabs[0], lambda t: "arbitrage" in t, "the strategies")
        await press(tabs[0], "1", "y")
        refused = await wait_for_screen(
            tabs[0], lambda t: "read-only" in t, "why the toggle was refused"
        )
        assert "Could not" in refused and "?token=" in refused
        assert served.strategy_running("arbitrage") == was_running


async def test_tab_opened_with_the_token_trades(served: Served) -> None:
    async with chromium() as browser:
        page = await open_tab(browser, f"{served.page}/?token={served.token}")
        assert page.url == served.page + "/"  # the token left the address bar
        (cookie,) = await page.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert served.token not in cookie["value"] and served.token not in await page.content()
        await wait_for_screen(page, lambda t: "arbitrage" in t and bool(prices_on(t)), "prices")
        turn_on = not served.strategy_running("arbitrage")
        try:
            await press(page, "1", "y")
            verb = "start" if turn_on else "stop"
            await wait_for_screen(
                page, lambda t: f"Asked the engine to {verb} arbitrage" in t, "the toggle sent"
            )
            deadline = time.monotonic() + 10
            while served.strategy_running("arbitrage") != turn_on:
                assert time.monotonic() < deadline, "the daemon never saw the toggle"
                await asyncio.sleep(0.2)
        finally:
            served.api("/api/v1/trading/stop-all", method="POST")


async def test_wrong_token_foreign_host_and_foreign_origin_are_refused(served: Served) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(served.page + "/", params={"token": "not-the-token"}) as answer:
            assert answer.status == 403
            assert "refused this token" in await answer.text()
        async with session.get(served.page + "/", headers={"Host": "evil.example"}) as answer:
            assert answer.status == 421
        ws_url = served.page.replace("http", "ws", 1) + "/ws"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(ws_url, headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403


async def test_serve_attached_to_a_running_daemon(tmp_path: Path) -> None:
    """--connect: tabs attach to a separate `gridtui daemon`, which judges their token."""
    chromium_or_skip()
    api_port, port = free_port(), free_port()
    daemon = f"http://127.0.0.1:{api_port}"
    page_url = f"http://127.0.0.1:{port}"
    daemon_args = ["daemon", "--port", str(api_port), "--tick-interval", "0.2"]
    daemon_args += ["--store", f"sqlite:{tmp_path / 'ticks.db'}"]
    serve_dir = tmp_path / "serve"  # its own data dir: serve holds no copy of the token
    serve_dir.mkdir()
    serve_args = ["serve", "--connect", daemon, "--port", str(port)]
    with (
        running("gridtui daemon", daemon_args, tmp_path, daemon + "/api/v1/engine/info"),
        running("gridtui serve", serve_args, serve_dir, page_url + "/"),
    ):
        served = Served(page_url, daemon, tmp_path / "data")
        assert not (serve_dir / "data" / "api-token").exists()
        async with chromium() as browser:
            page = await open_tab(browser, f"{page_url}/?token={served.token}")
            text = await wait_for_screen(page, lambda t: bool(prices_on(t)), "prices")
            assert f"via {daemon}" in text
            await wait_for_screen(page, lambda t: "arbitrage" in t, "the strategies")
            await press(page, "1", "y")
            await wait_for_screen(page, lambda t: "Asked the engine to start" in t, "the toggle")
            deadline = time.monotonic() + 10
            while not served.strategy_running("arbitrage"):
                assert time.monotonic() < deadline, "the daemon never saw the toggle"
                await asyncio.sleep(0.2)
        token = served.token
    serve_log = (serve_dir / "gridtui serve.err").read_text()
    assert "trading ticket issued" in serve_log and token not in serve_log
