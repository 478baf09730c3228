"""Shared pieces for the section E/F and full-flow redaction tests: API page rigs and windows.

It holds no tests. The stand-in servers live in :mod:`tests.catalogue.ef_standins`.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Slot
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.api.answer import ApiResult
from kit_desktop.api.client import KitApiClient
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.errors import KitError
from kit_desktop.gui.gui_app import GuiApp, wire_api
from kit_desktop.qt.api_requests import ApiRequests
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import Phase
from kit_desktop.ui.api_panel import ApiPanel
from tests.helpers import flow
from tests.helpers.fake_keyrings import MemoryKeyring

WAIT_MS = 10_000
#: The offscreen platform cannot size, raise or grab; nothing else is ignored.
QT_NOISE = (
    r"^This plugin does not support (propagateSizeHints|raise|grabbing the keyboard)\(?\)?$",
)
#: The loopback redirect URI with an ephemeral port (the sandboxes accept any port).
EPHEMERAL_REDIRECT = "http://127.0.0.1:0/callback"


# --- the API page, wired to a client ------------------------------------------------------


def fresh_tokens() -> TokenSet:
    """Tokens of the shape Kit issues, for stand-in origins that accept any token."""
    body = {
        "access_token": "stand-in-access-" + secrets.token_urlsafe(24),
        "refresh_token": "stand-in-refresh-" + secrets.token_urlsafe(24),
        "token_type": "Bearer",
        "expires_in": 7200,
        "scope": "public",
    }
    return TokenSet.from_response(body, received_at=time.time())


@dataclass
class PanelRig:
    """The real API page and its controller, wired, with a connected client."""

    qtbot: QtBot
    tokens: TokenManager
    client: KitApiClient
    api: ApiRequests
    panel: ApiPanel

    @property
    def access_token(self) -> str:
        current = self.tokens.tokens
        assert current is not None
        return current.access_token

    @property
    def refresh_token(self) -> str:
        current = self.tokens.tokens
        assert current is not None and current.refresh_token is not None
        return current.refresh_token

    def compose(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        body: str = "",
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Fill in the composer as a creator would end up with it."""
        self.panel.composer.load(method, path, query, body, headers)

    def click_and_wait(self, button: QWidget) -> ApiResult | KitError:
        """Click ``button`` and wait for the request's outcome (and the body's display)."""
        return click_and_wait(self.qtbot, self.api, self.panel, button)

    def send(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        body: str = "",
        headers: Sequence[tuple[str, str]] = (),
    ) -> ApiResult | KitError:
        """Compose and press Send."""
        self.compose(method, path, query, body, headers)
        return self.click_and_wait(self.panel.composer.send_button)

    @property
    def message(self) -> str:
        """The warning the page shows ('' when none)."""
        notice = self.panel.response_view.message
        return notice.text if notice.isVisibleTo(self.panel) else ""

    def close(self) -> None:
        self.api.shutdown()
        self.qtbot.waitUntil(lambda: not self.api.busy, timeout=WAIT_MS)


def click_and_wait(
    qtbot: QtBot, api: ApiRequests, panel: ApiPanel, button: QWidget
) -> ApiResult | KitError:
    """Click ``button`` (Send, Next page...) and wait for the outcome and the body's display."""
    outcomes: list[object] = []
    api.finished.connect(outcomes.append)
    api.failed.connect(outcomes.append)
    try:
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(outcomes), timeout=WAIT_MS)
    finally:
        api.finished.disconnect(outcomes.append)
        api.failed.disconnect(outcomes.append)
    outcome = outcomes[0]
    assert isinstance(outcome, ApiResult | KitError)
    qtbot.waitUntil(lambda: not panel.response_view.body_view.filling, timeout=WAIT_MS)
    return outcome


def panel_rig(
    qtbot: QtBot,
    *,
    api_url: str,
    sandbox: SandboxServer | None = None,
    **client_options: Any,
) -> PanelRig:
    """The real API page and controller with a connected client whose API origin is ``api_url``.

    With a ``sandbox`` the tokens come from a real flow on it (and renew there); without one
    they are made up (a stand-in origin accepts any token).
    """
    base = sandbox.base_url if sandbox is not None else api_url
    settings = dataclasses.replace(Settings().with_sandbox(base), api_url=api_url)
    tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
    if sandbox is not None:
        body = flow.connect(sandbox.base_url)
        tokens.adopt(TokenSet.from_response(body, received_at=time.time()))
    else:
        tokens.adopt(fresh_tokens())
    client = KitApiClient(settings, tokens, **client_options)
    api = ApiRequests(client)
    panel = ApiPanel(choose_save_path=lambda _parent, _name: "")
    qtbot.addWidget(panel)
    panel.resize(1100, 760)
    panel.show()
    qtbot.waitExposed(panel)
    wire_api(panel, api)
    panel.show_connected(True)
    return PanelRig(qtbot, tokens, client, api, panel)


class Rigs:
    """Makes API page rigs for one test; :meth:`close_all` shuts each one down."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self._made: list[PanelRig] = []

    def make(self, **options: Any) -> PanelRig:
        rig = panel_rig(self.qtbot, **options)
        self._made.append(rig)
        return rig

    def close_all(self) -> None:
        for rig in self._made:
            rig.close()


# --- the whole app ------------------------------------------------------------------------


class Heartbeat(QObject):
    """A 1 ms timer on the GUI thread that counts its ticks."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.ticks += 1


def on_gui_thread() -> bool:
    """Whether the caller runs on the application's (GUI) thread."""
    app = QCoreApplication.instance()
    assert app is not None
    return QThread.currentThread() is app.thread()


class Guis:
    """Makes :class:`GuiApp` windows and shuts every one down at the end."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.made: list[GuiApp] = []

    def start(
        self,
        opener: Callable[[str], bool],
        *,
        settings: Settings | None = None,
        backend: MemoryKeyring | None = None,
    ) -> GuiApp:
        """Show a practice window (or one on ``settings``) and wait until it is not connected.

        Practice here answers on the loopback directly (``route="direct"``): these tests
        send Kit's answer to the attempt's redirect URI themselves.
        """
        practice = settings is None
        gui = GuiApp(
            settings or Settings(redirect_uris=(EPHEMERAL_REDIRECT,), route="direct"),
            practice=practice,
            opener=opener,
            backend=backend or MemoryKeyring(),
        )
        self.made.append(gui)
        gui.show()
        self.qtbot.waitUntil(
            lambda: gui.session is not None and gui.session.view.phase is Phase.NOT_CONNECTED,
            timeout=WAIT_MS,
        )
        return gui

    def close_all(self) -> None:
        for gui in self.made:
            gui.shutdown()
            gui.window.close()


def sandbox_for_settings(client_id: str = SANDBOX_CLIENT_ID) -> SandboxServer:
    """A started sandbox that accepts the app's loopback redirect on any port (consent shown)."""
    return SandboxServer(
        client_id=client_id, loopback_any_port=True, redirect_uris=[EPHEMERAL_REDIRECT]
    ).start()


def all_widget_texts(root: QWidget) -> list[str]:
    """What every label, field, text view, table and list under ``root`` shows right now."""
    from PySide6.QtWidgets import (
        QAbstractButton,
        QLabel,
        QLineEdit,
        QListWidget,
        QPlainTextEdit,
        QTableWidget,
    )

    texts: list[str] = [root.windowTitle()]
    texts += [w.text() for w in root.findChildren(QLabel)]
    texts += [w.text() for w in root.findChildren(QAbstractButton)]
    texts += [w.displayText() for w in root.findChildren(QLineEdit)]
    texts += [w.toPlainText() for w in root.findChildren(QPlainTextEdit)]
    texts += [
        w.toolTip() + w.accessibleName() + w.accessibleDescription()
        for w in root.findChildren(QWidget)
    ]
    for table in root.findChildren(QTableWidget):
        for r in range(table.rowCount()):
            for c in range(table.columnCount()):
                item = table.item(r, c)
                if item is not None:
                    texts.append(item.text())
    for history in root.findChildren(QListWidget):
        for r in range(history.count()):
            entry = history.item(r)
            texts.append(entry.text() + entry.toolTip())
    return texts


def connect_gui(qtbot: QtBot, gui: GuiApp) -> KitSession:
    """Press Connect (the browser stand-in allows) and wait until connected."""
    session = gui.session
    assert session is not None
    gui.window.connect_requested.emit()
    ends = (Phase.CONNECTED, Phase.FAILED, Phase.RECONNECT_NEEDED)
    qtbot.waitUntil(lambda: session.view.phase in ends, timeout=WAIT_MS)
    assert session.view.phase is Phase.CONNECTED, session.view
    return session


def gui_send(
    qtbot: QtBot,
    gui: GuiApp,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] = (),
    body: str = "",
) -> ApiResult | KitError:
    """Compose a request on the window's API page, press Send and wait for the outcome."""
    panel, api = gui.window.api_panel, gui.api
    assert api is not None
    gui.window.tabs.setCurrentWidget(panel)
    panel.composer.load(method, path, query, body, ())
    return click_and_wait(qtbot, api, panel, panel.composer.send_button)


class ThreadRecorder(QObject):
    """Connect with ``Qt.DirectConnection``: notes on which thread each emission ran."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[object] = []
        self.on_gui_thread: list[bool] = []

    @Slot()
    @Slot(object)
    def record(self, value: object = None) -> None:
        self.on_gui_thread.append(on_gui_thread())
        self.values.append(value)


def port_of(uri: str) -> int:
    """The port of a loopback redirect URI."""
    port = urlsplit(uri).port
    assert port
    return port
