"""Quitting with a real connection kept only in memory asks first (issue 16, polish).

The real window against a sandbox over HTTP, with a keyring that refuses every call (the
storage is then this run's memory, as on a computer without a Secret Service).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from keyring.errors import NoKeyringError
from pytestqt.qtbot import QtBot

from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import Phase
from tests.helpers.fake_keyrings import RaisingKeyring
from tests.helpers.gui_apps import QT_NOISE, connected_to
from tests.helpers.user_browser import UserBrowser

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)
WAIT_MS = 15_000


@pytest.fixture
def kit() -> Iterator[SandboxServer]:
    with SandboxServer(client_id="quit-" + secrets.token_hex(6), loopback_any_port=True) as kit:
        yield kit


def _connected(qtbot: QtBot, gui_apps: list[GuiApp], kit: SandboxServer) -> GuiApp:
    gui = connected_to(qtbot, gui_apps, kit, backend=RaisingKeyring(NoKeyringError()))
    storage = gui.session.view.storage if gui.session is not None else None
    assert storage is not None and not storage.secure
    return gui


@pytest.mark.expected_log(r"^Tokens are kept for this session only", logger="kit_desktop.auth")
def test_quitting_asks_and_keep_open_keeps_the_connection(
    qtbot: QtBot, gui_apps: list[GuiApp], kit: SandboxServer
) -> None:
    gui = _connected(qtbot, gui_apps, kit)
    window = gui.window

    window.close()

    box = window.quit_box
    assert box is not None and box.isVisible()
    assert box.text() == "Quit and lose the connection?"
    assert "kept only while Kit Desktop is open" in box.informativeText()
    assert "you will need to connect again" in box.informativeText()
    buttons = [button.text() for button in box.buttons()]
    assert sorted(buttons) == ["Keep open", "Quit"]
    assert box.defaultButton().text() == "Keep open"
    assert window.isVisible(), "nothing closes before the creator answers"
    keep = next(b for b in box.buttons() if b.text() == "Keep open")
    keep.click()
    qtbot.waitUntil(lambda: window.quit_box is None)
    assert window.isVisible()
    assert gui.session is not None and gui.session.view.phase is Phase.CONNECTED

    window.close()
    box = window.quit_box
    assert box is not None
    with qtbot.waitSignal(window.closing, timeout=WAIT_MS):
        next(b for b in box.buttons() if b.text() == "Quit").click()
    assert not window.isVisible()


def test_no_question_when_the_connection_is_saved_or_in_practice(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    from tests.helpers.gui_apps import show_app

    gui = show_app(qtbot, gui_apps, opener=UserBrowser("allow").open)  # practice mode
    session = gui.session
    assert session is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=WAIT_MS)
    with qtbot.waitSignal(gui.window.closing, timeout=WAIT_MS):
        gui.window.close()
    assert gui.window.quit_box is None
