"""Real headless Chromium as the creator's system browser, driven step by step by a test.

The app under test gets :meth:`DrivenChromium.open` as its browser opener: like a system
browser, it navigates Chromium's one tab to the address and returns. The test then acts
as the creator would with :meth:`DrivenChromium.do` (click Allow, click Deny later, read
the page). Playwright's sync API is bound to one thread, so every step runs on the
browser's own thread; ``do`` pumps the test thread's Qt events while it waits.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

from tests.helpers.browser import RELAY_PAGE_NAME, launch_headless

Step = Callable[[Page], Any]


class DrivenChromium(threading.Thread):
    """One headless Chromium tab, driven from the test (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="driven-chromium")
        self._steps: queue.Queue[tuple[Step, queue.Queue[object]] | None] = queue.Queue()
        self.opened: list[str] = []
        self._ready = threading.Event()
        self._error = ""
        self.start()
        self._ready.wait(30)
        assert not self._error, self._error

    def run(self) -> None:
        try:
            with sync_playwright() as playwright:
                browser = launch_headless(playwright)
                page = browser.new_context().new_page()
                page.set_default_timeout(15_000)
                self._ready.set()
                self._serve(page)
                browser.close()
        except Exception as exc:  # reported to the test
            self._error = f"{type(exc).__name__}: {exc}"
            self._ready.set()

    def _serve(self, page: Page) -> None:
        while True:
            item = self._steps.get()
            if item is None:
                return
            step, answer = item
            try:
                answer.put(step(page))
            except Exception as exc:  # handed back to the caller
                answer.put(exc)

    def do(self, step: Step, pump: Callable[[], None] | None = None, timeout: float = 30) -> Any:
        """Run ``step(page)`` on the browser's thread and return its result.

        Args:
            step: What to do with the page.
            pump: Called while waiting (``QApplication.processEvents`` on the Qt thread).
            timeout: Seconds to wait.
        """
        answer: queue.Queue[object] = queue.Queue()
        self._steps.put((step, answer))
        deadline = time.monotonic() + timeout
        while True:
            if pump is not None:
                pump()
            try:
                result = answer.get(timeout=0.02)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError("the browser step did not finish") from None
                continue
            if isinstance(result, Exception):
                raise result
            return result

    def open(self, url: str) -> bool:
        """The app's browser opener: go to ``url`` (the app's start link) and return."""
        self.opened.append(url)

        def go(page: Page) -> None:
            try:
                page.goto(url, wait_until="load")
            except PlaywrightError as exc:  # an error page is what a creator would see
                if "net::ERR_" not in exc.message:
                    raise

        self.do(go)
        return True

    def click(self, selector: str, pump: Callable[[], None]) -> str:
        """Click ``selector``, let the page move on (past any relay page); return its text."""

        def step(page: Page) -> str:
            before = page.url
            try:
                page.click(selector)
                page.wait_for_url(lambda now: now != before, wait_until="load")
                if RELAY_PAGE_NAME in page.url:
                    page.wait_for_url(lambda now: RELAY_PAGE_NAME not in now, wait_until="load")
            except PlaywrightError as exc:
                if "net::ERR_" not in exc.message:
                    raise
            return page.inner_text("body")

        return str(self.do(step, pump))

    def text(self, pump: Callable[[], None] | None = None) -> str:
        """The page's visible text."""
        return str(self.do(lambda page: page.inner_text("body"), pump))

    def url(self) -> str:
        """The page's address."""
        return str(self.do(lambda page: page.url))

    def stop(self) -> None:
        """Close the browser."""
        self._steps.put(None)
        self.join(20)
