"""The window follows changes another copy of the app made to the saved connection (issue 16, 11).

The window is the real app against a sandbox over HTTP with the real Secret Service
(through tests/run-suite.sh); the other copy is the real command line in a subprocess,
sharing the keyring entry, the refresh lock and the change stamp.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop import words
from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import Phase
from tests.helpers.browser import browser_env, chromium_path
from tests.helpers.gui_apps import QT_NOISE, connected_to, kit_settings, recorder
from tests.helpers.kit_env import kit_environment
from tests.helpers.main_process import run_main
from tests.helpers.realparts import require
from tests.helpers.screen import visible_text

pytestmark = [pytest.mark.qt_log_ignore(*QT_NOISE), pytest.mark.real_keyring]
ROOT = Path(__file__).resolve().parents[2]
WAIT_MS = 15_000


@pytest.fixture
def kit() -> Iterator[SandboxServer]:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    with SandboxServer(
        client_id="follow-" + secrets.token_hex(6), loopback_any_port=True
    ) as server:
        yield server


def _connected_window(qtbot: QtBot, gui_apps: list[GuiApp], server: SandboxServer) -> GuiApp:
    gui = connected_to(qtbot, gui_apps, server)
    assert gui.session is not None and gui.session.store_watch is not None
    assert gui.session.store_watch.watching
    return gui


def _other_copy(
    server: SandboxServer, tmp_path: Path, *command: str, extra: dict[str, str] | None = None
) -> str:
    env = {**kit_environment(server.base_url, server.app.client_id, tmp_path), **(extra or {})}
    env["XDG_DATA_HOME"] = os.environ["XDG_DATA_HOME"]  # the same data folder: one computer
    done = run_main(*command, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_disconnect_on_the_command_line_shows_in_the_window(
    qtbot: QtBot, gui_apps: list[GuiApp], kit: SandboxServer, tmp_path: Path
) -> None:
    gui = _connected_window(qtbot, gui_apps, kit)
    session = gui.session
    assert session is not None
    assert "Connected as" in visible_text(gui.window.card)

    _other_copy(kit, tmp_path, "disconnect")

    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=WAIT_MS)
    shown = visible_text(gui.window.card)
    assert words.DISCONNECTED_ELSEWHERE in shown
    assert "Connect to Kit" in gui.window.card.primary_button.text()
    assert "Saved securely" not in shown and "Connected as" not in shown


def test_a_refresh_elsewhere_is_taken_up_without_a_second_refresh(
    qtbot: QtBot, gui_apps: list[GuiApp], kit: SandboxServer, tmp_path: Path
) -> None:
    gui = _connected_window(qtbot, gui_apps, kit)
    session = gui.session
    assert session is not None and session.view.tokens is not None
    held_before = session.services.tokens.tokens
    assert held_before is not None
    refreshes = kit.oauth.refresh_requests
    notices: list[str] = []
    session.notice.connect(notices.append)

    _other_copy(kit, tmp_path, "refresh")

    store = KeyringTokenStore(profile_key(kit.base_url + "/v4/oauth/token", kit.app.client_id))
    saved = store.load()
    assert saved is not None and saved["access_token"] != held_before.access_token
    qtbot.waitUntil(
        lambda: (
            (held := session.services.tokens.tokens) is not None
            and held.access_token == saved["access_token"]
        ),
        timeout=WAIT_MS,
    )
    qtbot.waitUntil(lambda: words.CHANGED_ELSEWHERE in notices, timeout=WAIT_MS)
    assert session.view.phase is Phase.CONNECTED
    assert kit.oauth.refresh_requests == refreshes + 1, "only the other copy refreshed"

    session.refresh_now()  # the window's own refresh uses the rotated refresh token
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
    assert session.view.phase is Phase.CONNECTED, session.view.detail


def test_this_windows_own_changes_are_not_followed_up(
    qtbot: QtBot, gui_apps: list[GuiApp], kit: SandboxServer
) -> None:
    gui = _connected_window(qtbot, gui_apps, kit)
    session = gui.session
    assert session is not None and session.store_watch is not None
    reported: list[bool] = []
    session.store_watch.changed.connect(lambda: reported.append(True))
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
    qtbot.wait(500)
    assert reported == []


def test_a_connection_made_on_the_command_line_while_the_window_was_busy_shows_after(
    qtbot: QtBot, gui_apps: list[GuiApp], kit: SandboxServer, tmp_path: Path
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    opened: list[str] = []
    gui = GuiApp(kit_settings(kit), practice=False, opener=recorder(opened))
    gui_apps.append(gui)
    gui.show()
    qtbot.waitUntil(lambda: gui.session is not None and gui.session.view.storage is not None)
    session = gui.session
    assert session is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=WAIT_MS)
    gui.window.card.primary_button.click()  # Connect; the browser is never answered
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)

    _other_copy(kit, tmp_path, "connect", extra=browser_env("allow", tmp_path / "b.json"))
    qtbot.waitUntil(lambda: session.follow_pending, timeout=WAIT_MS)
    assert session.view.phase is Phase.WAITING, "its own attempt comes first"

    gui.window.card.primary_button.click()  # Cancel: now the saved connection shows
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=WAIT_MS)
    assert "Connected as Sandbox Creator Studio" in visible_text(gui.window.card)
    assert not session.follow_pending
