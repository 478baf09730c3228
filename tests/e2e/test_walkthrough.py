"""A creator's walk through every path, in the real window with real Chromium (issue 16).

The window is the real app (``GuiApp``) in practice mode, so every connection walks the
road real Kit needs: Kit's consent page, the https relay page stand-in, the app. Real
headless Chromium is the system browser (:class:`DrivenChromium`), the keyring is the real
Secret Service (through tests/run-suite.sh), and each test reads what a creator reads: the
card's words and buttons, the browser's page, the dialogs. Paths covered by their own
files: another copy disconnecting (``tests/qt/test_store_follow.py``), the API tab at the
default size (``tests/qt/test_api_walkthrough.py``), Help, Disconnect's question and Ctrl+K
(``tests/qt/test_window_words.py``), quitting with the connection only in memory
(``tests/qt/test_quit_warning.py``) and the command line (``tests/e2e/test_cli_flow.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from kit_desktop import words
from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox.faults import Fault
from kit_desktop.state import Phase
from tests.helpers.browser import chromium_path
from tests.helpers.driven_chromium import DrivenChromium
from tests.helpers.gui_apps import LOOPBACK, QT_NOISE
from tests.helpers.realparts import require
from tests.helpers.screen import visible_text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.real_keyring,
    pytest.mark.qt_log_ignore(*QT_NOISE),
]
WAIT_MS = 20_000
CONSENT = 'form[action$="/oauth/authorize/decision"]'
WHO = "Sandbox Creator Studio (creator@example.com)"


@pytest.fixture
def chromium() -> Iterator[DrivenChromium]:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    browser = DrivenChromium()
    yield browser
    browser.stop()


class Walk:
    """The app and the browser, and what a creator does with them."""

    def __init__(self, qtbot: QtBot, gui: GuiApp, chromium: DrivenChromium) -> None:
        self.qtbot, self.gui, self.chromium = qtbot, gui, chromium
        session = gui.session
        assert session is not None
        self.session = session
        self.forward: list[bool] = []
        session.attention_requested.connect(lambda: self.forward.append(True))

    @property
    def card(self) -> str:
        return visible_text(self.gui.window.card)

    @property
    def button(self) -> str:
        return self.gui.window.card.primary_button.text()

    def pump(self) -> None:
        QApplication.processEvents()

    def click_primary(self) -> None:
        self.gui.window.card.primary_button.click()

    def wait_phase(self, phase: Phase) -> None:
        self.qtbot.waitUntil(lambda: self.session.view.phase is phase, timeout=WAIT_MS)

    def at_consent(self) -> None:
        """The browser shows Kit's consent page (the app opened it)."""
        self.chromium.do(lambda page: page.wait_for_selector(CONSENT), self.pump)

    def in_browser(self, button: str) -> str:
        """Click Allow or Deny on Kit's page; return the page the browser ends on."""
        return self.chromium.click(f"#{button}", self.pump)

    def connect(self) -> str:
        self.click_primary()
        self.wait_phase(Phase.WAITING)
        self.at_consent()
        page = self.in_browser("allow")
        self.wait_phase(Phase.CONNECTED)
        return page


@pytest.fixture
def walk(qtbot: QtBot, gui_apps: list[GuiApp], chromium: DrivenChromium) -> Iterator[Walk]:
    gui = GuiApp(Settings(redirect_uris=LOOPBACK), practice=True, opener=chromium.open)
    gui_apps.append(gui)
    gui.show()
    qtbot.waitUntil(lambda: gui.session is not None and gui.session.view.storage is not None)
    made = Walk(qtbot, gui, chromium)
    session = made.session
    settled = (Phase.NOT_CONNECTED, Phase.CONNECTED)
    qtbot.waitUntil(lambda: session.view.phase in settled, timeout=WAIT_MS)
    if session.view.phase is Phase.CONNECTED:  # a practice connection an earlier walk saved
        session.disconnect_account()
        made.wait_phase(Phase.NOT_CONNECTED)
    made.forward.clear()
    yield made
    session.services.tokens.forget()  # the next walk starts from nothing saved


def test_allow_connects_and_both_sides_say_so(walk: Walk) -> None:
    assert "Practice mode" in visible_text(walk.gui.window)
    assert walk.button == "Connect to Kit"
    walk.click_primary()
    walk.wait_phase(Phase.WAITING)
    assert "Waiting for you to click Allow in Kit" in walk.card
    assert walk.button == "Cancel"
    walk.at_consent()

    page = walk.in_browser("allow")

    walk.wait_phase(Phase.CONNECTED)
    assert f"Connected as {WHO}" in page
    assert "return to Kit Desktop" in page
    assert f"Connected as {WHO}" in walk.card
    assert walk.button == "Disconnect…"
    assert walk.forward, "the window comes forward"


def test_deny_says_nothing_changed_and_comes_forward(walk: Walk) -> None:
    walk.click_primary()
    walk.wait_phase(Phase.WAITING)
    walk.at_consent()

    page = walk.in_browser("deny")

    walk.wait_phase(Phase.NOT_CONNECTED)
    assert "You chose not to connect. Nothing was changed" in walk.card
    assert walk.button == "Connect to Kit"
    assert "Not connected" in page
    assert walk.forward == [True], "Deny brings the window forward, as Allow does"


def test_allow_after_cancel_gets_a_page_that_says_so_then_connect_works(walk: Walk) -> None:
    walk.click_primary()
    walk.wait_phase(Phase.WAITING)
    walk.at_consent()
    walk.click_primary()  # Cancel
    walk.wait_phase(Phase.NOT_CONNECTED)
    assert "Connecting was cancelled." in walk.card

    page = walk.in_browser("allow")  # the tab was still open on Kit's page

    assert "This connection attempt was cancelled in Kit Desktop" in page
    assert "click “Connect to Kit” to start again" in page
    assert "refused to connect" not in page
    assert walk.session.view.phase is Phase.NOT_CONNECTED, "a late answer connects nothing"
    assert walk.forward == []
    assert f"Connected as {WHO}" in walk.connect()


def test_allow_after_the_timeout_gets_a_page_and_the_words_match_the_button(walk: Walk) -> None:
    walk.session.flow_timeout = 2.0
    walk.click_primary()
    walk.wait_phase(Phase.WAITING)
    walk.at_consent()

    walk.wait_phase(Phase.FAILED)
    assert "Nothing came back from your browser within 2 seconds" in walk.card
    assert "did not answer" not in walk.card
    assert "Click “Try again”, then click Allow in your browser." in walk.card
    assert walk.button == "Try again"
    page = walk.in_browser("allow")
    assert "Kit Desktop had stopped waiting for this connection (after 2 seconds)" in page
    assert "click “Try again”" in page
    assert walk.session.view.phase is Phase.FAILED


def test_kit_out_of_reach_is_said_before_any_browser_opens(walk: Walk) -> None:
    assert walk.gui.sandbox is not None
    walk.gui.sandbox.stop()  # Kit is out of reach

    walk.click_primary()

    walk.wait_phase(Phase.FAILED)
    assert "Kit can't be reached from this computer right now" in walk.card
    assert "Kit is open in your browser" not in walk.card
    assert walk.button == "Try again"
    assert walk.chromium.opened == []


def test_disconnect_asks_in_true_words_and_offline_says_there_is_nothing_to_retry(
    walk: Walk,
) -> None:
    walk.connect()
    view = walk.session.view
    assert view.tokens is not None and view.tokens.expires_at is not None
    expires = words.at_time(view.tokens.expires_at)
    assert walk.gui.sandbox is not None
    walk.gui.sandbox.set_fault("/v4/oauth/revoke", Fault("drop"))  # the network drops it

    walk.click_primary()  # "Disconnect…"
    boxes = [b for b in walk.gui.window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    box = boxes[0]
    question = f"{box.text()} {box.informativeText()}"
    assert "sign out" not in question
    assert "forget the connection on this computer" in question
    assert sorted(button.text() for button in box.buttons()) == ["Cancel", "Disconnect"]
    next(button for button in box.buttons() if button.text() == "Disconnect").click()

    walk.wait_phase(Phase.NOT_CONNECTED)
    shown = walk.card
    assert "Removed from this computer. Kit could not be reached to cancel the access." in shown
    assert f"when it expires ({expires})" in shown
    assert "remove Kit Desktop's access in your Kit account" in shown
    assert "try again" not in shown.lower()
    assert "Kit cancelled" not in shown
    assert walk.button == "Connect to Kit"
