"""Catalogue D45-D48: no keyring, a disabled one, a locked one, and Windows' size limit.

The window (GuiApp in practice mode), the session and the command line run on the real
token store; keyring's own fail and null backends stand in for "nothing usable", and the
look-alikes in tests/helpers fail exactly as Credential Manager and Keychain do.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kit_desktop.auth.token_store import (
    SERVICE_NAME,
    SESSION_ONLY,
    KeyringTokenStore,
    SessionTokenStore,
    profile_key,
)
from kit_desktop.cli import Cli, add_commands
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.errors import StorageError, StorageLockedError, TokenTooLargeError
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import build_services
from kit_desktop.state import Phase
from kit_desktop.ui.notice import Notice
from tests.catalogue.cd_helpers import (
    REDIRECT_URI,
    Answer,
    Hostile,
    assert_plain,
    endpoint_settings,
    files_holding,
    make_services,
    sandbox_settings,
    sign_in_directly,
)
from tests.catalogue.cd_session import LoopProbe, Rig, connect, launch, stored_data
from tests.helpers.fake_keyrings import (
    CredentialManagerLikeKeyring,
    ForgetfulKeyring,
    KeychainLikeKeyring,
    LockedKeyring,
    MemoryKeyring,
    PyWinTypesError,
    RaisingKeyring,
)
from tests.helpers.more_fake_keyrings import WinVaultLikeKeyring
from tests.helpers.user_browser import UserBrowser

QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
PROFILE = "https://api.kit.com#d-tests"
ENTRY_OVERHEAD = len('{"v":1,"data":{"t":""}}')


@pytest.fixture
def system_keyring() -> Iterator[None]:
    """Let a test replace keyring's process-wide backend; put the old one back after."""
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[list[GuiApp]]:
    made: list[GuiApp] = []
    yield made
    for gui in made:
        gui.shutdown()
        gui.window.close()


def open_window(
    qtbot: QtBot, made: list[GuiApp], backend: KeyringBackend | None
) -> tuple[GuiApp, UserBrowser]:
    """The app's window in practice mode, built on ``backend`` (None: keyring's choice)."""
    browser = UserBrowser("allow")
    gui = GuiApp(
        Settings(redirect_uris=(REDIRECT_URI,)), practice=True, opener=browser.open, backend=backend
    )
    made.append(gui)
    gui.show()
    qtbot.waitUntil(
        lambda: gui.session is not None and gui.session.view.phase is Phase.NOT_CONNECTED,
        timeout=10_000,
    )
    return gui, browser


def connect_in_window(qtbot: QtBot, gui: GuiApp) -> None:
    session = gui.session
    assert session is not None
    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)


def storage_notice(gui: GuiApp) -> Notice:
    """The storage warning on the access panel (the notice with a "Try again" button)."""
    notices = [
        n
        for n in gui.window.token_panel.findChildren(Notice)
        if n.button is not None and n.button.text() == "Try again"
    ]
    assert len(notices) == 1
    return notices[0]


def run_cli(cli: Cli, *args: str) -> int:
    parser = argparse.ArgumentParser()
    add_commands(parser)
    return cli.run(parser.parse_args(list(args)))


def secrets_of(gui: GuiApp) -> set[str]:
    assert gui.sandbox is not None
    return gui.sandbox.oauth.issued_secrets()


# --- 45: no keyring at all -------------------------------------------------------------


@pytest.mark.qt_log_ignore(*QT_NOISE)
@pytest.mark.usefixtures("system_keyring")
@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c45_no_backend_warns_and_keeps_the_connection_in_memory_only(
    qtbot: QtBot,
    window: list[GuiApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    caplog.set_level(logging.INFO)
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # headless Linux
    gui, _ = open_window(qtbot, window, backend=None)

    connect_in_window(qtbot, gui)

    session = gui.session
    assert session is not None and session.view.storage is not None
    assert session.view.headline.startswith("Connected as")
    assert (session.view.storage.secure, session.view.storage.location) == (False, SESSION_ONLY)
    notice = storage_notice(gui)
    assert notice.isVisibleTo(gui.window)
    assert "secure storage is not available" in notice.text
    assert_plain(notice.text, *secrets_of(gui))
    assert session.services.tokens.tokens is not None
    xdg = [Path(v) for k, v in os.environ.items() if k.startswith("XDG_") and k.endswith("HOME")]
    roots = [tmp_path, Path(QSettings().fileName()).parent, *xdg]
    assert files_holding(roots, secrets_of(gui)) == []
    assert "Tokens are kept for this session only" in caplog.text  # the refusal was handled
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


# --- 46: the null keyring ----------------------------------------------------------------


@pytest.mark.usefixtures("system_keyring")
@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c46_the_null_backend_is_not_believed_and_next_run_is_not_connected(
    kit: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    keyring.core.init_backend()  # what keyring does at start-up with that variable
    assert type(keyring.get_keyring()).__module__ == "keyring.backends.null"
    settings = sandbox_settings(kit.base_url)
    services = build_services(settings)
    out, err = io.StringIO(), io.StringIO()
    browser = UserBrowser("allow")
    cli = Cli(settings, services=services, opener=browser.open, out=out, err=err)

    assert run_cli(cli, "connect") == 1  # each command is its own process: refuse (issue 16)

    said = err.getvalue().strip().splitlines()[-1]
    assert said.startswith("Not connected: the command line can't keep a connection")
    assert "Connected" not in out.getvalue()
    assert not services.store.is_secure
    assert services.store.location == SESSION_ONLY
    assert services.tokens.tokens is None
    assert kit.oauth.token_requests == 0, "no exchange: Kit issued nothing nothing could revoke"
    assert keyring.get_keyring().get_password(SERVICE_NAME, "sandbox#" + SANDBOX_CLIENT_ID) is None
    later = io.StringIO()
    next_run = Cli(settings, services=build_services(settings), out=later, err=io.StringIO())
    assert run_cli(next_run, "status") == 1
    assert later.getvalue().strip() == "Not connected to Kit."


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c46_connect_revokes_what_a_keyring_that_keeps_nothing_lost(kit: SandboxServer) -> None:
    """The read-back finds the write gone only after Kit issued the tokens: revoke them."""
    settings = sandbox_settings(kit.base_url)
    services = make_services(settings, ForgetfulKeyring())
    err = io.StringIO()
    cli = Cli(
        settings, services=services, opener=UserBrowser("allow").open, out=io.StringIO(), err=err
    )

    assert run_cli(cli, "connect") == 1

    assert err.getvalue().strip().splitlines()[-1].startswith("Not connected: the command line")
    assert kit.oauth.token_requests == 1  # the exchange happened, then the write was lost
    issued = [t for t in kit.oauth.issued_secrets() if kit.oauth.check_access_token(t).client_id]
    assert issued == [], "every token Kit issued is revoked"
    assert services.tokens.tokens is None


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c46_a_keyring_that_keeps_nothing_is_caught_by_the_read_back(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend = ForgetfulKeyring()
    session = rig.session(
        make_services(sandbox_settings(kit.base_url), backend), browser=UserBrowser("allow")
    )
    launch(qtbot, session)
    connect(qtbot, session)

    storage = session.view.storage
    assert storage is not None
    assert (storage.secure, storage.location) == (False, SESSION_ONLY)
    assert storage.warning == StorageError.default_message  # as with no keyring at all
    assert backend.calls[-2:] == ["set", "get"]
    assert session.services.tokens.tokens is not None


# --- 47: locked or denied ------------------------------------------------------------------


@pytest.mark.qt_log_ignore(*QT_NOISE)
@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c47_a_locked_keyring_says_so_and_try_again_saves_after_unlocking(
    qtbot: QtBot, window: list[GuiApp]
) -> None:
    backend = LockedKeyring()
    gui, _ = open_window(qtbot, window, backend)
    connect_in_window(qtbot, gui)
    session = gui.session
    assert session is not None

    notice = storage_notice(gui)
    assert notice.isVisibleTo(gui.window)
    assert notice.text == StorageLockedError.default_message
    assert "Unlock it and click Retry" in notice.text
    assert_plain(notice.text, *secrets_of(gui))
    assert backend.entries == {}
    tokens = session.services.tokens.tokens
    assert tokens is not None

    backend.locked = False  # the creator unlocks the keyring
    assert notice.button is not None
    QTest.mouseClick(notice.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.view.storage is not None and session.view.storage.secure)

    assert not notice.isVisibleTo(gui.window)
    assert gui.window.statusBar().currentMessage().startswith("Saved securely in ")
    stored = stored_data(backend)
    assert stored is not None and stored["access_token"] == tokens.access_token


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c47_a_keyring_locked_while_connected_keeps_the_saved_entry_and_the_app_working(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend = LockedKeyring()
    backend.locked = False
    services = make_services(sandbox_settings(kit.base_url), backend)
    session = rig.session(services, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    saved = dict(backend.entries)
    backend.locked = True  # the screen was locked, and with it the keyring
    probe = LoopProbe(session)

    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)

    assert session.view.phase is Phase.CONNECTED
    assert session.view.refresh_error == ""  # renewing itself worked
    assert session.view.storage is not None
    assert session.view.storage.warning == StorageLockedError.default_message
    assert backend.entries == saved  # nothing stored was lost
    renewed = services.tokens.tokens
    assert renewed is not None and renewed.access_token not in "".join(saved.values())
    assert probe.ticks > 0


@pytest.mark.parametrize(
    ("status", "words"),
    [(-25308, "Unlock it and click Retry"), (-25244, "Keychain Access")],
    ids=["interaction-not-allowed", "invalid-owner-edit"],
)
@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c47_keychain_refusals_are_storage_locked_and_keep_tokens_in_memory(
    kit: SandboxServer, status: int, words: str
) -> None:
    backend = KeychainLikeKeyring(add_status=status)
    services = make_services(sandbox_settings(kit.base_url), backend)

    tokens = sign_in_directly(services)

    warning = services.tokens.warning
    assert isinstance(warning, StorageLockedError)
    assert words in warning.user_message
    secrets = (tokens.access_token, tokens.refresh_token or "")
    assert_plain(warning.user_message, *secrets)
    assert all(secret not in f"{warning} {warning.detail!r}" for secret in secrets)
    assert services.tokens.tokens == tokens
    assert services.store.load() == tokens.to_payload()  # this run still has them
    assert backend.entries == {}


# --- 48: Windows Credential Manager's size limit ---------------------------------------


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c48_credwrite_refusing_a_large_token_keeps_the_previous_value() -> None:
    small = {"access_token": "at-small-0001", "refresh_token": "rt-small-0001", "expires_in": 60}
    large = {**small, "access_token": "at-" + "L" * 900, "refresh_token": "rt-large-0002"}
    with Hostile(Answer.json(200, small)) as server:
        backend = WinVaultLikeKeyring(blob_limit=1500)  # below the app's own 2560-byte guard
        settings = endpoint_settings(server.url)
        services = make_services(settings, backend)
        services.tokens.adopt(services.oauth.exchange("code", "v" * 43, REDIRECT_URI))
        profile = profile_key(settings.token_url, SANDBOX_CLIENT_ID)
        before = backend.get_password(SERVICE_NAME, profile)
        server.answer(Answer.json(200, large))

        renewed = services.tokens.refresh()

    warning = services.tokens.warning
    assert isinstance(warning, TokenTooLargeError)
    assert "too large for Windows Credential Manager" in warning.user_message
    assert "previously saved connection is unchanged" in warning.user_message
    assert backend.get_password(SERVICE_NAME, profile) == before
    assert services.tokens.tokens == renewed  # kept in memory for this run
    next_run = make_services(settings, backend).tokens.tokens
    assert next_run is not None and next_run.access_token == "at-small-0001"


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c48_a_renewal_too_large_for_credential_manager_keeps_the_saved_entry(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend = WinVaultLikeKeyring()
    services = make_services(sandbox_settings(kit.base_url), backend)
    session = rig.session(services, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    profile = profile_key(services.settings.token_url, SANDBOX_CLIENT_ID)
    saved = backend.get_password(SERVICE_NAME, profile)
    backend.blob_limit = 200  # CredWrite now refuses what the app's own guard lets through

    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)

    assert session.view.phase is Phase.CONNECTED
    assert session.view.storage is not None
    assert session.view.storage.warning == TokenTooLargeError.default_message
    assert backend.get_password(SERVICE_NAME, profile) == saved
    renewed = services.tokens.tokens
    assert renewed is not None and renewed.access_token not in (saved or "")


@pytest.mark.parametrize(("size", "saved"), [(1280, True), (1281, False)])
def test_c48_the_length_guard_refuses_1281_characters_before_calling_keyring(
    size: int, saved: bool
) -> None:
    backend = CredentialManagerLikeKeyring()
    store = KeyringTokenStore(PROFILE, backend=backend)
    payload = {"t": "x" * (size - ENTRY_OVERHEAD)}
    assert len(json.dumps({"v": 1, "data": payload}, separators=(",", ":"))) == size

    if saved:
        store.save(payload)
        assert store.load() == payload
        assert backend.calls == ["set", "get", "get"]
    else:
        with pytest.raises(TokenTooLargeError):
            store.save(payload)
        assert backend.calls == []  # refused before keyring was called


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c48_an_unwrapped_winerror_1783_from_any_backend_is_caught() -> None:
    error = PyWinTypesError(1783, "CredWrite", "The stub received bad data.")
    assert not isinstance(error, OSError | keyring.errors.KeyringError)
    store = SessionTokenStore(KeyringTokenStore(PROFILE, backend=RaisingKeyring(error)))
    payload: dict[str, Any] = {"access_token": "at-" + "x" * 40}

    store.save(payload)  # no exception escapes

    assert isinstance(store.warning, TokenTooLargeError)
    assert store.load() == payload


def test_connect_on_the_command_line_says_how_long_it_waits_and_how_to_start_again(
    kit: SandboxServer,
) -> None:
    """Issue 16, item 6: the wait is announced, and the timeout names the command."""
    settings = sandbox_settings(kit.base_url)
    err = io.StringIO()
    cli = Cli(
        settings, services=make_services(settings, MemoryKeyring()), out=io.StringIO(), err=err
    )
    cli.opener = lambda url: True  # a browser nobody looks at
    cli.flow_timeout = 1

    assert run_cli(cli, "connect") == 1

    lines = err.getvalue().strip().splitlines()
    assert (
        "Waiting for you to click Allow in your browser (up to 1 second; Ctrl+C stops)..." in lines
    )
    assert lines[-1] == (
        "Nothing came back from your browser within 1 second, so nothing was connected. "
        "Run connect again, then click Allow in your browser."
    )
