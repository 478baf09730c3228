"""The composed window (GuiApp): practice mode, keyboard connect, diagnostics, closing mid-flow."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import AttemptView, Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.user_browser import UserBrowser

SETTINGS = Settings(redirect_uris=("http://127.0.0.1:0/callback",))
QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)


@pytest.fixture
def gui_for(qtbot: QtBot) -> Iterator[list[GuiApp]]:  # qtbot first: QApplication exists
    made: list[GuiApp] = []
    yield made
    for gui in made:
        gui.shutdown()
        gui.window.close()


def start(qtbot: QtBot, made: list[GuiApp], browser: UserBrowser) -> GuiApp:
    gui = GuiApp(SETTINGS, practice=True, opener=browser.open, backend=MemoryKeyring())
    made.append(gui)
    gui.show()
    qtbot.waitUntil(
        lambda: gui.session is not None and gui.session.view.phase is Phase.NOT_CONNECTED,
        timeout=10_000,
    )
    return gui


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_ctrl_k_connects_in_practice_mode(qtbot: QtBot, gui_for: list[GuiApp]) -> None:
    browser = UserBrowser("allow")
    gui = start(qtbot, gui_for, browser)
    assert gui.window.practice_banner.isVisible()
    QTest.keyClick(gui.window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    session = gui.session
    assert session is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=15_000)
    assert session.view.headline == "Connected as Sandbox Creator Studio (creator@example.com)"
    assert session.view.headline in gui.window.card.accessibleDescription()
    browser.join()
    assert "Connected as Sandbox Creator Studio" in browser.visits[0].done_page

    gui.window.diagnostics_requested.emit()
    copied = QGuiApplication.clipboard().text()
    assert "Redirect URIs: http://127.0.0.1:0/callback" in copied
    assert session.view.tokens is not None
    assert session.view.tokens.access_token not in copied


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_closing_the_window_while_waiting_stops_the_listener(
    qtbot: QtBot, gui_for: list[GuiApp]
) -> None:
    gui = start(qtbot, gui_for, UserBrowser("ignore"))
    session = gui.session
    assert session is not None
    attempts: list[AttemptView] = []
    session.attempt_changed.connect(attempts.append)
    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=10_000)
    port = urlsplit(attempts[-1].redirect_uri).port
    assert port
    gui.window.close()
    assert gui.session is None, "closing shuts the session down"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_api_panel_request_with_revoked_access_shows_reconnect_needed(
    qtbot: QtBot, gui_for: list[GuiApp]
) -> None:
    gui = start(qtbot, gui_for, UserBrowser("allow"))
    session, sandbox = gui.session, gui.sandbox
    assert session is not None
    assert sandbox is not None
    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=15_000)
    tokens = session.view.tokens
    assert tokens is not None
    revoked = requests.post(
        f"{sandbox.base_url}/oauth/revoke",
        data={"token": tokens.access_token, "client_id": sandbox.app.client_id},
        timeout=5,
    )
    assert revoked.status_code == 200
    assert gui.api is not None
    gui.api.send("GET", "/v4/account")
    qtbot.waitUntil(lambda: session.view.phase is Phase.RECONNECT_NEEDED, timeout=15_000)
    assert "Reconnect" in session.view.headline
