"""Pytest fixtures for end-to-end tests with a real browser (a ``pytest_plugins`` module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.browser import BrowserUser, chromium_path
from tests.helpers.realparts import require


@pytest.fixture
def browser_user() -> Iterator[BrowserUser]:
    """A fresh headless Chromium user; skips (developer machine) or fails (CI) without one.

    Use it from the test's own thread only; for a browser beside a running Qt event loop,
    use :func:`tests.helpers.browser.open_in_thread` instead.
    """
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    with BrowserUser() as user:
        yield user
