"""Catalogue D49-D54: partial writes, fidelity, no plaintext, persistence, hangs, clean-up.

Sessions run on the real token store over keyring look-alikes (Keychain's delete-then-add,
keyring's own Windows logic over an in-memory Credential Manager, a keyring that hangs
like an unanswered unlock prompt) and, where it is about the real store, the real Secret
Service started by tests/run-suite.sh.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kit_desktop.auth.token_store import (
    SERVICE_NAME,
    KeyringTokenStore,
    SessionTokenStore,
    StorageTimeoutError,
    profile_key,
)
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.errors import CorruptEntryError
from kit_desktop.log import log_file, setup_logging
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import build_services
from kit_desktop.state import Phase
from tests.catalogue.cd_helpers import (
    REDIRECT_URI,
    RecordingSession,
    files_holding,
    make_services,
    sandbox_settings,
    throwaway_secret_service,
)
from tests.catalogue.cd_session import (
    LoopProbe,
    Rig,
    connect,
    launch,
    phase_of,
    stored_data,
    wait_phase,
)
from tests.helpers.fake_keyrings import KeychainLikeKeyring, MemoryKeyring
from tests.helpers.more_fake_keyrings import StallingKeyring, WinVaultLikeKeyring
from tests.helpers.realparts import require
from tests.helpers.user_browser import UserBrowser

PROFILE = "sandbox#" + SANDBOX_CLIENT_ID
REAL_STORE = "a Secret Service (run through tests/run-suite.sh)"


def token_posts(http: RecordingSession, kit: SandboxServer) -> int:
    return len(http.posts_to(f"{kit.base_url}/v4/oauth/token"))


def current(session_tokens: TokenManager) -> TokenSet:
    tokens = session_tokens.tokens
    assert tokens is not None
    return tokens


# --- 49: partial writes and inconsistent records -------------------------------------------


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c49_a_failed_add_after_keychains_delete_keeps_the_rotated_tokens_until_saved(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend, http = KeychainLikeKeyring(), RecordingSession()
    services = make_services(sandbox_settings(kit.base_url), backend, session=http)
    session = rig.session(services, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    backend.add_status = -25299  # SecItemAdd fails after SecItemDelete succeeded

    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)

    rotated = current(services.tokens)
    assert stored_data(backend) is None  # the Keychain lost the old item...
    assert session.view.storage is not None and not session.view.storage.secure
    assert session.view.phase is Phase.CONNECTED  # ...the app did not lose the tokens
    session.refresh_now()  # the next renewal uses the rotated token, never the stale one
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)
    sent = [p.data["refresh_token"] for p in http.posts_to(services.settings.token_url)[1:]]
    assert sent[-1] == rotated.refresh_token
    assert len(set(sent)) == len(sent)

    backend.add_status = None  # e.g. the creator fixed the Keychain item
    session.retry_storage()
    qtbot.waitUntil(lambda: session.view.storage is not None and session.view.storage.secure)
    stored = stored_data(backend)
    assert stored is not None and stored["refresh_token"] == current(services.tokens).refresh_token


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c49_after_a_lost_entry_the_next_start_asks_to_connect_without_sending_anything(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend = KeychainLikeKeyring()
    first = rig.session(
        make_services(sandbox_settings(kit.base_url), backend), browser=UserBrowser()
    )
    launch(qtbot, first)
    first.services.tokens.adopt(  # a save that failed half-way: the item is gone
        TokenSet("at-aaaa-1111", "rt-bbbb-2222", "Bearer", "public", 1.0, None)
    )
    backend.add_status = -25299
    first.services.tokens.adopt(TokenSet("at-cccc-3333", "rt-dddd-4444", "Bearer", None, 2.0, None))
    rig.stop(first)
    backend.add_status = None
    http = RecordingSession()

    second = rig.session(make_services(sandbox_settings(kit.base_url), backend, session=http))
    launch(qtbot, second)

    assert second.view.phase is Phase.NOT_CONNECTED
    assert second.view.headline == "Not connected"
    assert http.sent == []


@pytest.mark.parametrize(
    "raw",
    [
        '{"v":1,"data":{"access_token":"at-cut-off',
        "not json at all",
        '{"v":1,"data":{"v":1,"access_token":"","refresh_token":"rt","received_at":1}}',
        '{"v":2,"data":{}}',
    ],
    ids=["truncated", "not-json", "inconsistent-record", "newer-version"],
)
def test_c49_a_corrupt_entry_at_start_asks_to_connect_and_is_replaced_later(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, raw: str
) -> None:
    backend, http = MemoryKeyring(), RecordingSession()
    backend.entries[(SERVICE_NAME, PROFILE)] = raw
    services = make_services(sandbox_settings(kit.base_url), backend, session=http)
    session = rig.session(services, browser=UserBrowser("allow"))

    launch(qtbot, session)

    assert session.view.phase is Phase.NOT_CONNECTED
    assert isinstance(services.tokens.warning, CorruptEntryError)
    assert session.view.storage is not None
    assert session.view.storage.warning == services.tokens.warning.user_message
    assert "connect again" in session.view.storage.warning
    assert http.sent == []  # no stale refresh token goes anywhere
    assert backend.entries[(SERVICE_NAME, PROFILE)] == raw  # left alone...
    connect(qtbot, session)
    stored = stored_data(backend)  # ...until a new connection replaces it
    assert stored is not None and stored["access_token"] == current(services.tokens).access_token


# --- 50: round-trip fidelity -----------------------------------------------------------


JWT_LIKE = ".".join(secrets.token_urlsafe(n).rstrip("=") for n in (36, 1450, 64))


def difficult_tokens(*, big: bool) -> TokenSet:
    access = ("a-_.~+/=b" + JWT_LIKE) if big else "a-_.~+/=b=="
    return TokenSet(access, "==+/~._-rt", "Bearer", "public read", 1_790_000_000.25, 1.8e9)


def round_trip(backend: KeyringBackend, profile: str, tokens: TokenSet) -> None:
    """Save through the app, read back through a new store, then delete twice."""
    manager = TokenManager(
        _no_refresh, SessionTokenStore(KeyringTokenStore(profile, backend=backend))
    )
    manager.adopt(tokens)
    assert manager.warning is None
    again = TokenManager(
        _no_refresh, SessionTokenStore(KeyringTokenStore(profile, backend=backend))
    )
    assert again.tokens == tokens
    assert KeyringTokenStore(profile + "-someone-else", backend=backend).load() is None
    store = KeyringTokenStore(profile, backend=backend)
    store.delete()
    store.delete()  # a missing entry on delete is fine (PasswordDeleteError handled)
    assert store.load() is None


class _NoRefresh:
    def refresh(self, refresh_token: str) -> TokenSet:
        raise AssertionError("no refresh in a storage test")


_no_refresh = _NoRefresh()


@pytest.mark.real_keyring
def test_c50_difficult_tokens_and_a_unicode_label_round_trip_in_the_real_secret_service() -> None:
    require(throwaway_secret_service(), REAL_STORE)
    from keyring.backends import SecretService

    profile = profile_key("http://127.0.0.1:1/t", f"Zoë-東京-🚀-{uuid.uuid4().hex}")
    assert profile.startswith("sandbox#Zoë-東京-🚀-")
    backend: KeyringBackend = SecretService.Keyring()  # type: ignore[no-untyped-call]
    round_trip(backend, profile, difficult_tokens(big=True))
    assert len(JWT_LIKE) > 2000


@pytest.mark.parametrize(
    ("backend_type", "big"),
    [(KeychainLikeKeyring, True), (WinVaultLikeKeyring, False)],
    ids=["keychain-like-2kb", "credential-manager-like"],
)
def test_c50_round_trip_on_the_macos_and_windows_look_alikes(
    backend_type: type[KeyringBackend], big: bool
) -> None:
    round_trip(backend_type(), "sandbox#Zoë-東京", difficult_tokens(big=big))


# --- 51: no plaintext copy anywhere -----------------------------------------------------


@pytest.fixture
def app_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app's own file logging at DEBUG, into this test's folders."""
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    logger = logging.getLogger("kit_desktop")
    handlers, level = list(logger.handlers), logger.level
    monkeypatch.setattr(logger, "_kit_configured", False, raising=False)
    setup_logging(logging.DEBUG)
    yield log_file()
    for handler in set(logger.handlers) - set(handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level)


@pytest.mark.parametrize(
    "backend_kind",
    [
        "keyring",
        pytest.param(
            "no-keyring",
            marks=pytest.mark.expected_log(
                r"^Tokens are kept for this session only: ", logger="kit_desktop.auth"
            ),
        ),
    ],
)
def test_c51_no_token_lands_in_any_file_after_login_refresh_and_logout(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, tmp_path: Path, app_logging: Path, backend_kind: str
) -> None:
    backend = MemoryKeyring() if backend_kind == "keyring" else fail.Keyring()  # type: ignore[no-untyped-call]
    session = rig.session(
        build_services(sandbox_settings(kit.base_url), backend=backend),
        browser=UserBrowser("allow"),
    )
    launch(qtbot, session)
    connect(qtbot, session)
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)
    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)
    rig.stop(session)

    issued = kit.oauth.issued_secrets()
    assert len(issued) >= 5  # a code and two rounds of tokens
    assert "Token storage for" in app_logging.read_text(encoding="utf-8")
    assert files_holding([tmp_path, rig.ini.parent], issued) == []


# --- 52: Windows persistence ----------------------------------------------------------------


def test_c52_every_credential_is_written_for_this_computer_only(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend = WinVaultLikeKeyring()
    session = rig.session(
        make_services(sandbox_settings(kit.base_url), backend), browser=UserBrowser("allow")
    )
    launch(qtbot, session)
    connect(qtbot, session)
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)

    assert session.view.storage is not None and session.view.storage.location == (
        "Windows Credential Manager"
    )
    assert (
        len(backend.writes) >= 3
    )  # the first save, then keyring's compound re-save and the new one
    assert {write.persist for write in backend.writes} == {2}  # CRED_PERSIST_LOCAL_MACHINE
    bare = WinVaultLikeKeyring()
    bare.set_password("x", "y", "z")
    assert bare.writes[0].persist is None  # keyring alone would use its roaming default


# --- 53: the keyring off the GUI thread -----------------------------------------------------


class PaintCounter(QObject):
    """Counts the paint events a widget receives."""

    def __init__(self, widget: QLabel) -> None:
        super().__init__()
        self.paints = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


@pytest.fixture
def stalling() -> Iterator[StallingKeyring]:
    backend = StallingKeyring()
    yield backend
    backend.release()


def test_c53_the_window_keeps_painting_while_the_keyring_hangs_at_start(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, stalling: StallingKeyring
) -> None:
    stalling.stall()
    session = rig.session(build_services(sandbox_settings(kit.base_url), backend=stalling))
    label = QLabel("starting")
    qtbot.addWidget(label)
    label.show()
    painted = PaintCounter(label)
    probe = LoopProbe(session)
    probe.ticked.connect(label.setNum)  # a repaint on every tick

    session.start()  # returns at once: the keyring is asked on a worker thread

    assert stalling.stalled
    qtbot.waitUntil(stalling.entered.is_set, timeout=5000)
    qtbot.waitUntil(lambda: probe.ticks >= 20 and painted.paints >= 5, timeout=5000)
    assert stalling.stalled and session.busy  # all that while the keyring still hangs
    stalling.release()
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    probe.stop()
    assert session.view.phase is Phase.NOT_CONNECTED
    assert session.view.storage is not None and session.view.storage.secure


@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_c53_connecting_works_while_the_keyring_hangs_and_try_again_saves_later(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, stalling: StallingKeyring
) -> None:
    stalling.stall()
    services = make_services(sandbox_settings(kit.base_url), stalling, call_timeout=0.3)
    session = rig.session(services, browser=UserBrowser("allow"))

    launch(qtbot, session)
    assert session.view.storage is not None
    assert session.view.storage.warning == StorageTimeoutError.default_message
    connect(qtbot, session)

    assert session.view.storage is not None and not session.view.storage.secure
    assert stored_data(stalling) is None
    stalling.release()  # the unlock prompt is answered at last
    session.retry_storage()
    qtbot.waitUntil(lambda: session.view.storage is not None and session.view.storage.secure)
    stored = stored_data(stalling)
    assert stored is not None and stored["access_token"] == current(services.tokens).access_token


def test_c53_cancel_while_the_save_hangs_keeps_nothing(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, stalling: StallingKeyring
) -> None:
    session = rig.session(
        build_services(sandbox_settings(kit.base_url), backend=stalling),
        browser=UserBrowser("allow"),
    )
    launch(qtbot, session)
    stalling.stall()
    probe = LoopProbe(session)
    session.connect_to_kit()
    qtbot.waitUntil(stalling.entered.is_set, timeout=5000)  # saving the new tokens hangs
    assert phase_of(session) is Phase.FINISHING

    session.cancel()

    assert phase_of(session) is Phase.NOT_CONNECTED  # at once, while the keyring hangs
    ticks = probe.ticks
    qtbot.waitUntil(lambda: probe.ticks > ticks + 5, timeout=5000)
    stalling.release()
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    probe.stop()
    assert session.view.phase is Phase.NOT_CONNECTED
    assert stored_data(stalling) is None
    assert session.services.tokens.tokens is None
    issued = kit.oauth.issued_secrets()
    assert all(kit.oauth.check_access_token(s).status == "invalid" for s in issued)


# --- 54: stable naming and full clean-up ---------------------------------------------------


def test_c54_logout_leaves_no_credential_behind_not_even_a_compound_one(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    backend = WinVaultLikeKeyring()
    other = KeyringTokenStore("https://api.kit.com#another-app", backend=backend)
    session = rig.session(
        make_services(sandbox_settings(kit.base_url), backend), browser=UserBrowser("allow")
    )
    launch(qtbot, session)
    connect(qtbot, session)
    other.save({"who": "another app"})  # moves ours to the compound target PROFILE@service
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)
    assert PROFILE in backend.usernames()

    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)

    assert PROFILE not in backend.usernames()
    assert not any(target.startswith(PROFILE) for target in backend.credentials)
    assert other.load() == {"who": "another app"}
    other.delete()
    assert backend.credentials == {}


def test_c54_the_entry_name_never_depends_on_the_account_or_the_sandbox_port(
    qtbot: QtBot, rig: Rig
) -> None:
    backend = MemoryKeyring()
    for _ in range(2):  # a new sandbox (new port) each time, as practice mode does
        with SandboxServer(
            client_id=SANDBOX_CLIENT_ID, loopback_any_port=True, redirect_uris=[REDIRECT_URI]
        ) as kit:
            session = rig.session(
                make_services(sandbox_settings(kit.base_url), backend),
                browser=UserBrowser("allow"),
            )
            launch(qtbot, session)
            if session.view.phase is not Phase.CONNECTED:
                connect(qtbot, session)
            rig.stop(session)
    assert [username for _, username in backend.entries] == [PROFILE]
    assert "creator" not in json.dumps(list(backend.entries))


@pytest.mark.real_keyring
def test_c54_the_real_secret_service_holds_no_item_after_logout(qtbot: QtBot, rig: Rig) -> None:
    require(throwaway_secret_service(), REAL_STORE)
    import secretstorage
    from keyring.backends import SecretService

    client_id = f"d54-{uuid.uuid4().hex}"
    profile = f"sandbox#{client_id}"
    with SandboxServer(
        client_id=client_id, loopback_any_port=True, redirect_uris=[REDIRECT_URI]
    ) as kit:
        backend: KeyringBackend = SecretService.Keyring()  # type: ignore[no-untyped-call]
        settings = sandbox_settings(kit.base_url, client_id=client_id)
        session = rig.session(
            build_services(settings, backend=backend), browser=UserBrowser("allow")
        )
        launch(qtbot, session)
        connect(qtbot, session)
        session.refresh_now()
        qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)
        connection = secretstorage.dbus_init()
        try:
            collection = secretstorage.get_default_collection(connection)
            query = {"service": SERVICE_NAME, "username": profile}
            assert len(list(collection.search_items(query))) == 1  # replaced, never duplicated
            session.disconnect_account()
            wait_phase(qtbot, session, Phase.NOT_CONNECTED)
            assert list(collection.search_items(query)) == []
        finally:
            connection.close()


def test_c76_cancel_while_a_replacement_is_saved_brings_the_saved_connection_back(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, stalling: StallingKeyring
) -> None:
    # An install the creator agreed to replaces a saved connection, the keyring hangs while
    # the new tokens are saved, and the creator clicks Cancel: the new tokens are undone and
    # revoked, the saved ones come back, and nothing is revoked that is still in use.
    session = rig.session(
        build_services(sandbox_settings(kit.base_url), backend=stalling),
        browser=UserBrowser("allow"),
    )
    launch(qtbot, session)
    connect(qtbot, session)
    saved = current(session.services.tokens).access_token
    assert session.start_install("https://app.kit.com/apps/1") is not None  # it asks first
    stalling.stall()
    session.answer_install(True)
    qtbot.waitUntil(stalling.entered.is_set, timeout=10_000)  # saving the new tokens hangs
    assert phase_of(session) is Phase.FINISHING

    session.cancel()

    assert phase_of(session) is Phase.NOT_CONNECTED  # at once, while the keyring hangs
    stalling.release()
    qtbot.waitUntil(lambda: phase_of(session) is Phase.CONNECTED, timeout=10_000)
    assert current(session.services.tokens).access_token == saved
    stored = stored_data(stalling)
    assert stored is not None and stored["access_token"] == saved
    assert kit.oauth.check_access_token(saved).status == "ok", "the saved one is not revoked"
    others = kit.oauth.issued_secrets() - {saved}
    live = [s for s in others if kit.oauth.check_access_token(s).status == "ok"]
    assert live == [], "the new access token was revoked"
