"""Catalogue section F, cases 67-69: no browser, provider text in widgets, never a frozen window.

Real windows (GuiApp and the API page, offscreen), the real sandbox, and stand-in servers on
real sockets, including ones that hang until the test releases them.
"""

from __future__ import annotations

import secrets
import sys
import threading
import webbrowser
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.messages import Request, Response
from kit_desktop.state import AttemptView, Phase
from kit_desktop.ui.secret_field import SecretField
from tests.catalogue.ef_standins import (
    Behaviour,
    StandIns,
    hang_then,
    reply,
)
from tests.catalogue.ef_support import (
    EPHEMERAL_REDIRECT,
    QT_NOISE,
    WAIT_MS,
    Guis,
    Heartbeat,
    Rigs,
    all_widget_texts,
    sandbox_for_settings,
)
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.user_browser import UserBrowser

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)

TOKEN_PATH = "/v4/oauth/token"
HTML = "<a href='https://evil.example/'>Click</a><img src=x><b>bold</b>"
#: Heartbeat ticks that must pass while Kit hangs (a count, not a time).
TICKS = 50


@pytest.fixture
def kit_sandbox() -> Iterator[SandboxServer]:
    """The sandbox as Kit's authorization server and API (consent page shown)."""
    server = sandbox_for_settings()
    yield server
    server.stop()


def settings_with_token_endpoint(sandbox: SandboxServer, token_base: str) -> Settings:
    """Kit's endpoints on the sandbox, except the token endpoint (a stand-in)."""
    return Settings(
        client_id=SANDBOX_CLIENT_ID,
        authorize_url=f"{sandbox.base_url}/v4/oauth/authorize",
        token_url=f"{token_base}{TOKEN_PATH}",
        revoke_url=f"{sandbox.base_url}/v4/oauth/revoke",
        api_url=sandbox.base_url,
        redirect_uris=(EPHEMERAL_REDIRECT,),
    )


def phase_of(session: KitSession) -> Phase:
    """The phase now (a call, so mypy does not carry an earlier check over)."""
    return session.view.phase


def attempts_of(gui: GuiApp) -> list[AttemptView]:
    assert gui.session is not None
    seen: list[AttemptView] = []
    gui.session.attempt_changed.connect(seen.append)
    return seen


def assert_literal_and_inert(qtbot: QtBot, label: QLabel) -> None:
    """The label shows its text as is: no rich text, no link to follow, clicking does nothing."""
    assert label.textFormat() is Qt.TextFormat.PlainText
    assert not label.openExternalLinks()
    assert not label.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByMouse
    with qtbot.assertNotEmitted(label.linkActivated), qtbot.assertNotEmitted(label.linkHovered):
        QTest.mouseMove(label, QPoint(4, label.height() // 2))
        QTest.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(4, label.height() // 2))


def markup_labels(root: QWidget) -> list[QLabel]:
    return [label for label in root.findChildren(QLabel) if "<a " in label.text()]


# --- 67: no browser available -------------------------------------------------------------------


class NoBrowser:
    """The system has no usable browser: ``webbrowser.open`` returns False, or raises."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.urls: list[str] = []

    def open(self, url: str) -> bool:
        self.urls.append(url)
        if self.how == "raises":
            raise webbrowser.Error("could not locate runnable browser")
        return False


@pytest.mark.parametrize(
    "how",
    [
        "returns-false",
        # An opener that raises is caught by the workers' last-resort handler, which logs it.
        pytest.param(
            "raises",
            marks=pytest.mark.expected_log(
                r"^a background task failed unexpectedly$", logger="kit_desktop.qt.workers"
            ),
        ),
    ],
)
def test_c67_no_browser_shows_the_link_and_keeps_waiting(
    qtbot: QtBot, guis: Guis, how: str
) -> None:
    no_browser = NoBrowser(how)
    gui = guis.start(no_browser.open)
    session = gui.session
    assert session is not None
    gui.window.connect_requested.emit()
    qtbot.waitUntil(
        lambda: (
            session.view.phase is Phase.WAITING and "could not be opened" in session.view.detail
        ),
        timeout=WAIT_MS,
    )
    card = gui.window.card
    assert "Copy link" in session.view.detail
    assert card.copy_link_button.isVisible() and card.copy_link_button.isEnabled()
    QGuiApplication.clipboard().clear()
    QTest.mouseClick(card.copy_link_button, Qt.MouseButton.LeftButton)
    url = QGuiApplication.clipboard().text()
    # The opener got the loopback start link (nothing secret on a command line, case 70);
    # Copy link gives the authorization URL it leads to, usable in any browser.
    (start_link,) = no_browser.urls
    assert start_link.endswith("/start")
    started = requests.get(start_link, allow_redirects=False, timeout=10)
    assert started.headers["Location"] == url
    (url_field,) = [
        f for f in gui.window.findChildren(SecretField) if f.name == "Authorization URL"
    ]
    assert url_field.value == url
    assert url_field.line_edit.isReadOnly() and url_field.copy_button.isEnabled()
    assert url_field.line_edit.displayText() == url  # plain, not masked
    web_views = [w for w in gui.window.findChildren(QWidget) if "Web" in type(w).__name__]
    assert web_views == []
    assert not [name for name in sys.modules if "QtWebEngine" in name or "QtWebKit" in name]

    # The listener is still waiting: the creator opens the link in a browser by hand.
    UserBrowser("allow").open(url)
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=WAIT_MS)


# --- 68: provider text in widgets ----------------------------------------------------------------


def test_c68_an_error_description_from_the_callback_is_shown_literally(
    qtbot: QtBot, guis: Guis
) -> None:
    gui = guis.start(UserBrowser("ignore").open)
    session = gui.session
    assert session is not None
    attempts = attempts_of(gui)
    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
    attempt = attempts[-1]
    query = f"error=server_error&error_description={quote(HTML)}&state={quote(attempt.state)}"
    with requests.Session() as http:
        http.trust_env = False
        http.get(f"{attempt.redirect_uri}?{query}", timeout=10).close()

    qtbot.waitUntil(lambda: session.view.phase is Phase.FAILED, timeout=WAIT_MS)
    detail = gui.window.card.findChild(QLabel, "detail")
    assert isinstance(detail, QLabel)
    assert HTML in detail.text()
    assert_literal_and_inert(qtbot, detail)
    labels = markup_labels(gui.window)
    assert labels
    assert all(label.textFormat() is Qt.TextFormat.PlainText for label in labels)


def test_c68_an_error_description_from_the_token_endpoint_never_reaches_a_widget(
    qtbot: QtBot, guis: Guis, standins: StandIns, kit_sandbox: SandboxServer
) -> None:
    error = {"error": "invalid_request", "error_description": HTML}
    token = standins.start({TOKEN_PATH: reply(400, error)})
    settings = settings_with_token_endpoint(kit_sandbox, token.base_url)
    gui = guis.start(UserBrowser("allow").open, settings=settings)
    session = gui.session
    assert session is not None

    gui.window.connect_requested.emit()

    qtbot.waitUntil(lambda: session.view.phase is Phase.FAILED, timeout=WAIT_MS)
    assert len(token.seen()) == 1
    detail = gui.window.card.findChild(QLabel, "detail")
    assert isinstance(detail, QLabel) and detail.text()
    assert_literal_and_inert(qtbot, detail)
    assert not [text for text in all_widget_texts(gui.window) if "evil.example" in text]


def test_c68_an_api_error_with_html_is_shown_literally(
    qtbot: QtBot, rigs: Rigs, standins: StandIns
) -> None:
    evil = standins.start({"*": reply(200, b"GIF89a", Content_Type="image/gif")})
    message = f"{HTML}<img src=http://127.0.0.1:{evil.port}/pixel.gif>"
    kit = standins.start({"*": reply(422, {"errors": [message]})})
    rig = rigs.make(api_url=kit.base_url)

    rig.send("POST", "/v4/tags", body='{"name": "x"}')

    notice = rig.panel.response_view.message
    assert message in notice.text
    assert_literal_and_inert(qtbot, notice.label)
    assert all(label.textFormat() is Qt.TextFormat.PlainText for label in markup_labels(rig.panel))
    assert evil.seen() == []


# --- 69: no blocking on the GUI thread -----------------------------------------------------------


def test_c69_a_hanging_api_never_blocks_the_window_and_cancel_works(
    qtbot: QtBot, rigs: Rigs, standins: StandIns
) -> None:
    kit = standins.start({"*": hang_then(reply(200, {"account": {"name": "Late"}}))})
    rig = rigs.make(api_url=kit.base_url)
    composer = rig.panel.composer
    heartbeat = Heartbeat()
    heartbeat.start()
    rig.compose("GET", "/v4/account")
    with qtbot.waitSignal(rig.api.started, timeout=WAIT_MS):
        QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(kit.seen()), timeout=WAIT_MS)  # Kit has it, and hangs

    ticks = heartbeat.ticks
    qtbot.waitUntil(lambda: heartbeat.ticks >= ticks + TICKS, timeout=WAIT_MS)
    assert rig.api.running
    assert composer.cancel_button.isVisible() and not composer.send_button.isVisible()
    assert "Waiting for Kit…" in all_widget_texts(rig.panel)
    composer.path_field.clear()
    QTest.keyClicks(composer.path_field, "/v4/tags")  # the page still takes typing
    assert composer.path_field.text() == "/v4/tags"

    with qtbot.waitSignal(rig.api.cancelled, timeout=WAIT_MS):
        QTest.mouseClick(composer.cancel_button, Qt.MouseButton.LeftButton)
    assert composer.send_button.isVisible() and composer.send_button.isEnabled()
    assert rig.panel.history_list.item(0).text().startswith("GET /v4/account\nCancelled")

    with qtbot.assertNotEmitted(rig.api.finished), qtbot.assertNotEmitted(rig.api.failed):
        kit.release.set()  # Kit finally answers: the answer is ignored
        qtbot.waitUntil(lambda: not rig.api.busy, timeout=WAIT_MS)
    assert rig.panel.response_view.status_text == ""
    assert heartbeat.ticks > ticks + TICKS
    heartbeat.stop()


class RevokeTap:
    """Wraps the sandbox's dispatch and keeps every token sent to its revocation endpoint."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self._dispatch = sandbox.dispatch
        self._lock = threading.Lock()
        self.revoked: list[str] = []

    def __call__(self, request: Request) -> Response:
        if request.path.endswith("/oauth/revoke"):
            with self._lock:
                self.revoked.append(request.form_or_json().get("token", ""))
        return self._dispatch(request)


def test_c69_a_hanging_token_endpoint_never_blocks_the_window_and_cancel_keeps_nothing(
    qtbot: QtBot,
    guis: Guis,
    standins: StandIns,
    kit_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    access = "late-access-" + secrets.token_urlsafe(24)
    refresh = "late-refresh-" + secrets.token_urlsafe(24)
    late = {"access_token": access, "refresh_token": refresh, "expires_in": 7200}
    answer: Behaviour = hang_then(reply(200, late))
    token = standins.start({TOKEN_PATH: answer})
    tap = RevokeTap(kit_sandbox)
    monkeypatch.setattr(kit_sandbox, "dispatch", tap)
    keyring = MemoryKeyring()
    settings = settings_with_token_endpoint(kit_sandbox, token.base_url)
    gui = guis.start(UserBrowser("allow").open, settings=settings, backend=keyring)
    session = gui.session
    assert session is not None
    heartbeat = Heartbeat()
    heartbeat.start()

    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: bool(token.seen()), timeout=WAIT_MS)  # the exchange hangs
    ticks = heartbeat.ticks
    qtbot.waitUntil(lambda: heartbeat.ticks >= ticks + TICKS, timeout=WAIT_MS)
    card = gui.window.card
    assert session.view.phase is Phase.FINISHING
    assert "Finishing" in card.accessibleDescription()
    assert card.primary_button.text() == "Cancel" and card.primary_button.isEnabled()
    gui.window.tabs.setCurrentIndex(1)  # the window still switches pages
    assert gui.window.tabs.currentWidget() is gui.window.api_panel
    gui.window.tabs.setCurrentIndex(0)

    QTest.mouseClick(card.primary_button, Qt.MouseButton.LeftButton)
    assert phase_of(session) is Phase.NOT_CONNECTED
    assert session.view.detail == "Connecting was cancelled."
    assert keyring.entries == {}

    token.release.set()  # Kit answers after all: those tokens are revoked, never kept
    revoked = {access, refresh}
    qtbot.waitUntil(lambda: set(tap.revoked) == revoked and not session.busy, timeout=WAIT_MS)
    assert keyring.entries == {}
    assert "set" not in keyring.calls  # nothing was ever written, not even half
    assert phase_of(session) is Phase.NOT_CONNECTED and session.view.tokens is None
    assert not [text for text in all_widget_texts(gui.window) if access in text]
    heartbeat.stop()
