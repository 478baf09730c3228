"""Real Chromium: Allow clicked on Kit's tab after Cancel shows the app's page (issue 16, item 3).

Before, the browser showed its own "127.0.0.1 refused to connect". The session runs in this
process against the sandbox; headless Chromium opens the start link, reaches the consent
page and waits there while the creator cancels in the window; then it clicks Allow.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from pytestqt.qtbot import QtBot

from kit_desktop.state import Phase
from tests.helpers.browser import chromium_path
from tests.helpers.browser_steps import InBrowser
from tests.helpers.realparts import require
from tests.qt.test_late_answer import CANCELLED, WAIT_MS, App

pytestmark = pytest.mark.browser

CONSENT_FORM = 'form[action$="/oauth/authorize/decision"]'


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path) -> Iterator[App]:
    made = App(qtbot, tmp_path)
    yield made
    made.close()


def test_allow_after_cancel_shows_the_apps_page_in_chromium(qtbot: QtBot, app: App) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    opened: list[str] = []

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    session = app.session(opener)
    session.connect_to_kit()
    app.wait_phase(session, Phase.WAITING)
    (start_url,) = opened
    at_consent = threading.Event()
    cancelled = threading.Event()

    def steps(page: Page) -> str:
        page.goto(start_url, wait_until="load")  # the app's start link: on to Kit's page
        page.wait_for_selector(CONSENT_FORM)
        at_consent.set()
        assert cancelled.wait(20), "the test did not cancel"
        with page.expect_navigation(
            url=lambda url: url.startswith(app.uri), wait_until="load"
        ) as navigation:
            page.click("#allow")  # Kit redirects to the attempt's (cancelled) callback
        response = navigation.value
        status = response.status if response is not None else 0
        return f"{status}\n{page.url}\n{page.inner_text('body')}"

    browser = InBrowser(steps)
    qtbot.waitUntil(at_consent.is_set, timeout=30_000)
    session.cancel()
    app.wait_phase(session, Phase.NOT_CONNECTED)
    cancelled.set()
    qtbot.waitUntil(lambda: not browser.is_alive(), timeout=30_000)
    status, url, text = browser.outcome().split("\n", 2)

    assert url.startswith(f"{app.uri}?code=")  # Kit's answer did reach the port
    assert status == "410"
    for sentence in CANCELLED:
        assert sentence in text
    assert "refused to connect" not in text
    assert app.server.oauth.token_requests == 0  # the code was never exchanged
    assert session.view.phase is Phase.NOT_CONNECTED
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
