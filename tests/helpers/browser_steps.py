"""Real Chromium driven step by step on its own thread (the test's thread runs Qt)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from playwright.sync_api import Page, sync_playwright

from tests.helpers.browser import launch_headless


class InBrowser(threading.Thread):
    """Runs ``steps`` with a fresh headless Chromium page, on its own thread."""

    def __init__(self, steps: Callable[[Page], str]) -> None:
        super().__init__(daemon=True)
        self.steps = steps
        self.result = ""
        self.error = ""
        self.start()

    def run(self) -> None:
        try:
            with sync_playwright() as playwright:
                browser = launch_headless(playwright)
                try:
                    page = browser.new_context().new_page()
                    page.set_default_timeout(15_000)
                    self.result = self.steps(page)
                finally:
                    browser.close()
        except Exception as exc:  # handed to the test
            self.error = f"{type(exc).__name__}: {exc}"

    def outcome(self) -> str:
        """Wait for the steps to end; return what they returned (raise if they failed)."""
        self.join(30)
        assert not self.is_alive() and not self.error, self.error
        return self.result
