"""Driving ``gridtui serve``'s page in a real headless Chromium (Playwright, system browser).

The page draws the terminal with xterm.js on a WebGL canvas, so the DOM holds no
text and a screenshot holds pixels. What the tab shows is read from xterm.js's
own screen buffer instead: an init script catches the page's ``Terminal`` as
textual.js stores it (``this.terminal = new Terminal(…)``) and the test reads its
rows with xterm's public API (``buffer.active.getLine(y).translateToString()``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

CHROMIUM = (
    os.environ.get("GRIDTUI_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)

# Runs before the page's scripts: a setter on Object.prototype sees textual.js's
# `this.terminal = …` (an assignment, not a class field), keeps the value as the
# object's own property and remembers the one that is an xterm Terminal.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, 'terminal',
      {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && typeof value.open === 'function') {
      window.__gridtuiTerminal = value;
    }
  },
});
"""

READ_SCREEN = """() => {
  const terminal = window.__gridtuiTerminal;
  if (!terminal) return null;
  const buffer = terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows.join('\\n');
}"""


def chromium_or_skip() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"Chromium is not installed ({CHROMIUM} missing): `apt-get install chromium` "
            "(.ci/run does where apt works), or set GRIDTUI_TEST_CHROMIUM"
        )
    return CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless system Chromium; skips the test, saying why, when it cannot start."""
    from playwright.async_api import Error, async_playwright

    path = chromium_or_skip()
    async with async_playwright() as playwright:
        try:
            # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
            browser = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        except Error as exc:
            pytest.skip(f"Chromium at {path} could not start: {str(exc).splitlines()[0]}")
        try:
            yield browser
        finally:
            await browser.close()


async def open_tab(browser: Any, url: str) -> Any:
    """A new tab (own cookies) on ``url``, big enough for every pane side by side."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.add_init_script(CATCH_TERMINAL)
    await page.goto(url)
    return page


async def screen(page: Any) -> str:
    text = await page.evaluate(READ_SCREEN)
    return text or ""


async def wait_for_screen(
    page: Any, wanted: Callable[[str], bool], what: str, timeout_s: float = 45.0
) -> str:
    """The tab's text once ``wanted`` holds; fails, with the last screen, after the timeout."""
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = await screen(page)
        if wanted(text):
            return text
        await asyncio.sleep(0.25)
    pytest.fail(f"the tab never showed {what} within {timeout_s:g} s; it showed:\n{text}")


async def press(page: Any, *keys: str) -> None:
    """Type into the terminal the way a user does: focus on xterm's input, then keys."""
    await page.focus(".xterm-helper-textarea")
    for key in keys:
        await page.keyboard.press(key)
        await asyncio.sleep(0.2)
