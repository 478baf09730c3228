"""KitSession end to end: a real session, a real sandbox over HTTP, a creator at the browser."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread
from pytestqt.qtbot import QtBot

from kit_desktop import words
from kit_desktop.auth.browser import BrowserOpener
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.errors import (
    ConsentDeniedError,
    ReconnectNeededError,
    ServerError,
)
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.renewal import AUTO_RENEW_KEY
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.services import build_services
from kit_desktop.state import AttemptView, Phase, SessionView
from tests.helpers import flow
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.user_browser import UserBrowser

REDIRECT_URI = "http://127.0.0.1:0/callback"
WHO = "Sandbox Creator Studio (creator@example.com)"
WAIT_MS = 10_000
TOKEN_PATH = "/v4/oauth/token"
REVOKE_PATH = "/v4/oauth/revoke"


class Recorder:
    """Keeps what a signal carried, and on which thread each emission ran (direct connection)."""

    def __init__(self) -> None:
        self.values: list[object] = []
        self.on_gui_thread: list[bool] = []

    def record(self, value: object = None) -> None:
        app = QCoreApplication.instance()
        assert app is not None
        self.on_gui_thread.append(QThread.currentThread() is app.thread())
        self.values.append(value)

    def views(self) -> list[SessionView]:
        return [value for value in self.values if isinstance(value, SessionView)]

    def phases(self) -> list[Phase]:
        seen: list[Phase] = []
        for view in self.views():
            if not seen or seen[-1] is not view.phase:
                seen.append(view.phase)
        return seen


class Sessions:
    """Makes sessions on one settings file and one keyring, and shuts them all down."""

    def __init__(self, qtbot: QtBot, tmp_path: Path) -> None:
        self.qtbot = qtbot
        self.ini = tmp_path / "settings.ini"
        self.keyring = MemoryKeyring()
        self.changes: list[Recorder] = []
        self._made: list[KitSession] = []

    def new(
        self,
        server: SandboxServer,
        *,
        browser: UserBrowser | None = None,
        opener: BrowserOpener | None = None,
        backend: KeyringBackend | None = None,
        sandbox: SandboxServer | None = None,
        flow_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> KitSession:
        settings = Settings(redirect_uris=(REDIRECT_URI,)).with_sandbox(server.base_url)
        services = build_services(settings, backend=backend or self.keyring)
        session = KitSession(
            services,
            practice=sandbox is not None,
            sandbox=sandbox,
            opener=opener or (browser or UserBrowser("ignore")).open,
            settings_store=QSettings(str(self.ini), QSettings.Format.IniFormat),
            flow_timeout=flow_timeout,
            clock=clock,
        )
        changes = Recorder()
        session.changed.connect(changes.record, Qt.ConnectionType.DirectConnection)
        self.changes.append(changes)
        self._made.append(session)
        return session

    def stop(self, session: KitSession) -> None:
        """Close like the window does, then let the last results arrive."""
        session.shutdown()
        self.qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)

    def close_all(self) -> None:
        for session in self._made:
            self.stop(session)


@pytest.fixture
def servers() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes that accept this app's loopback redirect on any port."""
    started: list[SandboxServer] = []

    def start(token_lifetime: int = 7200) -> SandboxServer:
        server = SandboxServer(
            client_id=SANDBOX_CLIENT_ID,
            loopback_any_port=True,
            redirect_uris=[REDIRECT_URI],
            token_lifetime=token_lifetime,
        ).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(servers: Callable[..., SandboxServer]) -> SandboxServer:
    return servers()


@pytest.fixture
def sessions(qtbot: QtBot, tmp_path: Path) -> Iterator[Sessions]:
    made = Sessions(qtbot, tmp_path)
    yield made
    made.close_all()
    for changes in made.changes:
        assert all(changes.on_gui_thread), "a session slot ran off the GUI thread"


# --- helpers -----------------------------------------------------------------------------


def wait_phase(qtbot: QtBot, session: KitSession, phase: Phase, timeout: int = WAIT_MS) -> None:
    """Wait until ``session`` is in ``phase``; stop early (and fail) on an unexpected end."""
    ends = {Phase.FAILED, Phase.RECONNECT_NEEDED} - {phase}

    def reached() -> bool:
        return session.view.phase is phase or session.view.phase in ends

    qtbot.waitUntil(reached, timeout=timeout)
    assert session.view.phase is phase, session.view


def phase_of(session: KitSession) -> Phase:
    """The phase now (a call, so type checkers do not carry an earlier check over)."""
    return session.view.phase


def launch(qtbot: QtBot, session: KitSession) -> None:
    """Start the session as the app does at launch and wait for the saved-connection check."""
    session.start()
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)


def connect(qtbot: QtBot, session: KitSession) -> None:
    """Connect through the (allowing) browser and wait for CONNECTED."""
    with qtbot.waitSignal(session.attention_requested, timeout=WAIT_MS):
        session.connect_to_kit()
    wait_phase(qtbot, session, Phase.CONNECTED)


def access_token(session: KitSession) -> str:
    tokens = session.view.tokens
    assert tokens is not None
    return tokens.access_token


def refresh_token(session: KitSession) -> str:
    tokens = session.services.tokens.tokens
    assert tokens is not None and tokens.refresh_token is not None
    return tokens.refresh_token


def stored_payload(keyring: MemoryKeyring) -> dict[str, object] | None:
    """The one saved entry's token data, or None when nothing is saved."""
    if not keyring.entries:
        return None
    (value,) = keyring.entries.values()
    data = json.loads(value)["data"]
    assert isinstance(data, dict)
    return data


def all_revoked(server: SandboxServer) -> bool:
    """Whether no token the sandbox ever issued still works."""
    return all(
        server.oauth.check_access_token(secret).status == "invalid"
        for secret in server.oauth.issued_secrets()
    )


def port_of(attempt: AttemptView) -> int:
    port = int(attempt.redirect_uri.rsplit(":", 1)[1].split("/", 1)[0])
    assert attempt.redirect_uri == f"http://127.0.0.1:{port}/callback"
    return port


def assert_port_free(port: int) -> None:
    """Bind the port ourselves: it only works once the app's listener is closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", port))


def attempts_of(session: KitSession) -> Recorder:
    recorder = Recorder()
    session.attempt_changed.connect(recorder.record)
    return recorder


# --- connecting ---------------------------------------------------------------------------


def test_connect_flow_reaches_connected(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    browser = UserBrowser("allow")
    session = sessions.new(server, browser=browser)
    attempts = attempts_of(session)
    launch(qtbot, session)

    connect(qtbot, session)

    view = session.view
    assert view.headline == f"Connected as {WHO}"
    assert view.account is not None and view.account.email == "creator@example.com"
    assert view.storage is not None and view.storage.secure
    assert server.oauth.check_access_token(access_token(session)).status == "ok"
    assert stored_payload(sessions.keyring) is not None
    phases = sessions.changes[0].phases()
    assert phases[0] is Phase.NOT_CONNECTED
    assert phases[1] is Phase.OPENING
    assert phases[-2:] == [Phase.FINISHING, Phase.CONNECTED]
    (attempt,) = attempts.values
    assert isinstance(attempt, AttemptView)
    assert port_of(attempt) != 0
    browser.join()
    # The browser is opened on the receiver's start link, which leads to the attempt's URL.
    assert browser.visits[0].url == f"http://127.0.0.1:{port_of(attempt)}/start"
    assert browser.visits[0].consent_url == attempt.url
    visit = browser.visits[0]
    assert (visit.error, visit.callback_status, visit.done_status) == ("", 302, 200)
    assert f"Connected as {WHO}" in visit.done_page


def test_deny_then_connect_again_with_fresh_values(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    browser = UserBrowser("deny")
    session = sessions.new(server, browser=browser)
    attempts = attempts_of(session)
    launch(qtbot, session)

    session.connect_to_kit()
    qtbot.waitUntil(
        lambda: session.view.detail == ConsentDeniedError.default_message, timeout=WAIT_MS
    )

    assert session.view.phase is Phase.NOT_CONNECTED
    assert "You chose not to connect" in session.view.detail
    assert session.view.tokens is None
    assert server.oauth.token_requests == 0
    browser.join()
    assert browser.visits[0].callback_status == 200

    browser.decision = "allow"
    connect(qtbot, session)
    first, second = attempts.values
    assert isinstance(first, AttemptView) and isinstance(second, AttemptView)
    assert port_of(first) != 0 and port_of(second) != 0
    assert first.verifier != second.verifier
    assert first.challenge != second.challenge
    assert first.state != second.state
    assert first.url != second.url


def test_deny_brings_the_window_forward_cancel_and_timeout_do_not(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    """Issue 16, item 12: Kit's answer, Allow or Deny, brings the window to the front."""
    browser = UserBrowser("deny")
    session = sessions.new(server, browser=browser, flow_timeout=1)
    called: list[object] = []
    session.attention_requested.connect(lambda: called.append("front"))
    launch(qtbot, session)

    session.connect_to_kit()
    qtbot.waitUntil(lambda: "You chose not to connect" in session.view.detail, timeout=WAIT_MS)
    browser.join()
    assert called == ["front"]

    browser.decision = "ignore"
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED, timeout=5000)  # the 1 s wait ran out
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)
    session.cancel()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)
    assert called == ["front"], "nothing came from Kit: the window stays where it is"


def test_no_answer_times_out(qtbot: QtBot, server: SandboxServer, sessions: Sessions) -> None:
    session = sessions.new(server, flow_timeout=1)
    attempts = attempts_of(session)
    launch(qtbot, session)

    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED, timeout=5000)

    assert session.view.detail.startswith("Nothing came back from your browser within ")
    assert "Click “Try again”, then click Allow" in session.view.detail  # the FAILED button
    assert session.view.last_error_code == "FlowTimeoutError"
    assert session.view.waiting_until is None
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    (attempt,) = attempts.values
    assert isinstance(attempt, AttemptView)
    sessions.stop(session)  # till then the port answers a late Allow (test_late_answer.py)
    assert_port_free(port_of(attempt))


def test_no_browser_still_waits_with_the_link(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    def no_browser(url: str) -> bool:
        return False

    session = sessions.new(server, opener=no_browser)
    launch(qtbot, session)

    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)

    assert "Copy link" in session.view.detail
    session.cancel()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)


def test_unknown_account_still_connects_and_tells_the_browser(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    server.set_fault("/v4/account", Fault("status", status=503, times=1))
    browser = UserBrowser("allow")
    session = sessions.new(server, browser=browser)
    launch(qtbot, session)

    connect(qtbot, session)

    assert session.view.headline == "Connected to Kit"
    assert session.view.account is None
    assert session.view.detail  # why the account is not shown
    browser.join()
    assert "Connected to Kit." in browser.visits[0].done_page


def test_cancel_while_waiting_frees_the_port(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server)
    attempts = attempts_of(session)
    launch(qtbot, session)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)
    assert session.view.waiting_until is not None

    session.cancel()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)

    assert session.view.detail == "Connecting was cancelled."
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    (attempt,) = attempts.values
    assert isinstance(attempt, AttemptView)
    sessions.stop(session)  # till then the port answers a late Allow (test_late_answer.py)
    assert_port_free(port_of(attempt))


def test_cancel_during_exchange_keeps_nothing(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    server.set_fault(TOKEN_PATH, Fault("delay", seconds=0.8, times=1))
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    with qtbot.waitSignal(session.attention_requested, timeout=WAIT_MS):
        session.connect_to_kit()
    assert phase_of(session) is Phase.FINISHING

    session.cancel()

    assert phase_of(session) is Phase.NOT_CONNECTED
    assert session.view.detail == "Connecting was cancelled."
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    assert server.oauth.token_requests == 1
    assert session.view.phase is Phase.NOT_CONNECTED
    assert session.view.tokens is None
    assert stored_payload(sessions.keyring) is None
    assert session.services.tokens.tokens is None
    assert all_revoked(server)


def test_cancel_while_saving_keeps_nothing(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    server.set_fault("/v4/account", Fault("delay", seconds=0.8, times=1))
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    session.connect_to_kit()
    qtbot.waitUntil(lambda: stored_payload(sessions.keyring) is not None, timeout=WAIT_MS)
    assert phase_of(session) is Phase.FINISHING

    session.cancel()

    assert phase_of(session) is Phase.NOT_CONNECTED
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    assert session.view.phase is Phase.NOT_CONNECTED
    assert stored_payload(sessions.keyring) is None
    assert session.services.tokens.tokens is None
    assert all_revoked(server)


def test_second_connect_is_ignored(qtbot: QtBot, server: SandboxServer, sessions: Sessions) -> None:
    browser = UserBrowser("ignore")
    session = sessions.new(server, browser=browser)
    attempts = attempts_of(session)

    session.start()
    session.connect_to_kit()
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)
    qtbot.waitUntil(lambda: session.view.storage is not None, timeout=WAIT_MS)
    assert session.view.phase is Phase.WAITING  # the saved-connection check did not undo it
    session.connect_to_kit()

    assert len(attempts.values) == 1
    assert browser.opened == 1
    assert len(session.findChildren(LoopbackThread)) == 1
    session.cancel()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)


def test_shutdown_while_waiting_stops_the_listener(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server)
    attempts = attempts_of(session)
    launch(qtbot, session)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)
    (thread,) = session.findChildren(LoopbackThread)

    session.shutdown()  # waits at most 2 s for the thread

    assert thread.isFinished()
    (attempt,) = attempts.values
    assert isinstance(attempt, AttemptView)
    assert_port_free(port_of(attempt))


# --- renewing -----------------------------------------------------------------------------


def test_refresh_now_renews_the_tokens(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    before, requests_before = access_token(session), server.oauth.token_requests
    changes = sessions.changes[0]
    seen = len(changes.values)

    session.refresh_now()
    assert session.view.refreshing
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)

    assert session.view.phase is Phase.CONNECTED
    assert session.view.refresh_error == ""
    assert session.view.headline == f"Connected as {WHO}"
    assert access_token(session) != before
    assert server.oauth.token_requests == requests_before + 1
    assert [view.refreshing for view in changes.views()[seen:]] == [True, False]
    tokens = session.view.tokens
    assert tokens is not None and tokens.last_renewed is not None
    payload = stored_payload(sessions.keyring)
    assert payload is not None and payload["access_token"] == access_token(session)
    assert server.oauth.check_access_token(access_token(session)).status == "ok"


def test_access_is_renewed_automatically(
    qtbot: QtBot, servers: Callable[..., SandboxServer], sessions: Sessions
) -> None:
    server = servers(token_lifetime=61)  # inside the 60 s margin one second after issue
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    before, requests_before = access_token(session), server.oauth.token_requests
    changes = sessions.changes[0]
    seen = len(changes.values)

    qtbot.waitUntil(lambda: access_token(session) != before, timeout=5000)

    new = changes.views()[seen:]
    assert [view.phase for view in new][:2] == [Phase.RENEWING, Phase.CONNECTED]
    assert new[1].tokens is not None and new[1].tokens.access_token != before
    assert new[1].headline == f"Connected as {WHO}"
    assert server.oauth.token_requests > requests_before
    payload = stored_payload(sessions.keyring)
    assert payload is not None and payload["access_token"] != before


def test_a_failed_renewal_backs_off_before_trying_again(
    qtbot: QtBot, servers: Callable[..., SandboxServer], sessions: Sessions
) -> None:
    server = servers(token_lifetime=61)  # due one second after issue
    now = [time.time()]
    session = sessions.new(server, browser=UserBrowser("allow"), clock=lambda: now[0])
    launch(qtbot, session)
    session.renewal.stop()  # this test looks itself, with its own clock
    connect(qtbot, session)
    tokens = session.view.tokens
    assert tokens is not None and tokens.expires_at is not None
    expires_at = tokens.expires_at
    qtbot.waitUntil(lambda: time.time() >= expires_at - 59, timeout=WAIT_MS)
    server.set_fault(TOKEN_PATH, Fault("status", status=503, times=1))
    before, requests_before = access_token(session), server.oauth.token_requests

    now[0] = time.time()
    assert session.renewal.check()
    qtbot.waitUntil(lambda: session.view.refresh_error != "", timeout=WAIT_MS)
    assert session.view.phase is Phase.CONNECTED and access_token(session) == before

    now[0] += 29.9
    assert not session.renewal.check(), "Kit is not asked again within 30 seconds"
    now[0] += 0.2
    assert session.renewal.check()
    qtbot.waitUntil(lambda: access_token(session) != before, timeout=WAIT_MS)
    assert session.view.refresh_error == "" and session.view.phase is Phase.CONNECTED
    assert server.oauth.token_requests == requests_before + 1  # the 503 never reached it


def test_refresh_refused_means_reconnect(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    revoked = requests.post(
        server.base_url + REVOKE_PATH,
        data={"token": refresh_token(session), "client_id": SANDBOX_CLIENT_ID},
        timeout=5,
    )
    assert revoked.status_code == 200

    session.refresh_now()
    wait_phase(qtbot, session, Phase.RECONNECT_NEEDED)

    assert session.view.detail == ReconnectNeededError.default_message
    assert session.view.tokens is None
    assert not session.view.refreshing
    assert stored_payload(sessions.keyring) is None


def test_transient_refresh_failure_stays_connected(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    before = access_token(session)
    server.set_fault(TOKEN_PATH, Fault("status", status=503, times=1))

    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)

    assert session.view.phase is Phase.CONNECTED
    assert session.view.refresh_error == ServerError.default_message
    assert access_token(session) == before
    payload = stored_payload(sessions.keyring)
    assert payload is not None and payload["access_token"] == before
    assert server.oauth.check_access_token(before).status == "ok"


# --- disconnecting ------------------------------------------------------------------------


def test_disconnect_revokes_and_forgets(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    access, refresh = access_token(session), refresh_token(session)

    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)

    assert session.view.detail == words.REVOKED
    assert session.view.tokens is None and session.view.account is None
    assert stored_payload(sessions.keyring) is None
    assert server.oauth.check_access_token(access).status == "invalid"
    assert flow.refresh(server.base_url, refresh).status_code == 400


def test_disconnect_when_kit_cannot_be_reached(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    access = access_token(session)
    server.set_fault(REVOKE_PATH, Fault("drop"))  # no answer at all (a 503 is an answer)

    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)

    assert "could not be reached" in session.view.detail
    assert session.view.tokens is None
    assert stored_payload(sessions.keyring) is None
    assert server.oauth.check_access_token(access).status == "ok"  # honest: still live at Kit


def test_no_renewal_while_disconnecting(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    requests_before = server.oauth.token_requests
    server.set_fault(REVOKE_PATH, Fault("delay", seconds=0.5, times=1))

    session.disconnect_account()
    session.refresh_now()  # clicked while Kit is still being told
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)

    assert server.oauth.token_requests == requests_before
    assert session.view.tokens is None and not session.view.refreshing
    assert stored_payload(sessions.keyring) is None
    assert all_revoked(server)


def test_disconnect_waits_for_a_renewal_in_flight(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)
    issued_before, requests_before = server.oauth.issued_secrets(), server.oauth.token_requests
    server.set_fault(TOKEN_PATH, Fault("delay", seconds=0.5, times=1))

    session.refresh_now()
    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)

    assert session.view.phase is Phase.NOT_CONNECTED
    assert session.view.tokens is None and not session.view.refreshing
    assert stored_payload(sessions.keyring) is None
    assert server.oauth.token_requests == requests_before + 1
    # The disconnect waited for the renewal, so the tokens it brought were the ones revoked.
    renewed = server.oauth.issued_secrets() - issued_before
    assert renewed
    assert all(server.oauth.check_access_token(s).status == "invalid" for s in renewed)


# --- relaunching --------------------------------------------------------------------------


def test_relaunch_restores_without_a_browser(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    first = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, first)
    connect(qtbot, first)
    access = access_token(first)
    sessions.stop(first)
    requests_before = server.oauth.token_requests

    browser = UserBrowser("ignore")
    second = sessions.new(server, browser=browser)
    second.start()
    wait_phase(qtbot, second, Phase.CONNECTED)

    assert second.view.headline == f"Connected as {WHO}"
    assert access_token(second) == access
    assert browser.opened == 0
    assert server.oauth.token_requests == requests_before


def test_relaunch_with_expired_access_renews_silently(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    first = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, first)
    connect(qtbot, first)
    access = access_token(first)
    sessions.stop(first)
    server.oauth.expire_access_token(access)
    requests_before = server.oauth.token_requests

    second = sessions.new(server)
    second.start()
    wait_phase(qtbot, second, Phase.CONNECTED)

    assert second.view.headline == f"Connected as {WHO}"
    assert access_token(second) != access
    assert server.oauth.token_requests == requests_before + 1
    assert server.oauth.check_access_token(access_token(second)).status == "ok"
    payload = stored_payload(sessions.keyring)
    assert payload is not None and payload["access_token"] == access_token(second)


def test_practice_connection_survives_a_new_sandbox(
    qtbot: QtBot, servers: Callable[..., SandboxServer], sessions: Sessions
) -> None:
    old = servers()
    first = sessions.new(old, browser=UserBrowser("allow"), sandbox=old)
    launch(qtbot, first)
    connect(qtbot, first)
    access = access_token(first)
    sessions.stop(first)
    old.stop()

    new = servers()
    assert new.port != old.port
    browser = UserBrowser("ignore")
    second = sessions.new(new, browser=browser, sandbox=new)
    second.start()
    wait_phase(qtbot, second, Phase.CONNECTED)

    assert second.view.practice
    assert second.view.headline == f"Connected as {WHO}"
    assert access_token(second) == access
    assert new.oauth.check_access_token(access).status == "ok"
    assert browser.opened == 0


# --- storage, settings, diagnostics -------------------------------------------------------


@pytest.mark.expected_log("kept for this session only", logger="kit_desktop.auth.token_store")
def test_without_a_keyring_connecting_still_works(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"), backend=fail.Keyring())  # type: ignore[no-untyped-call]
    launch(qtbot, session)
    connect(qtbot, session)

    assert session.view.headline == f"Connected as {WHO}"
    storage = session.view.storage
    assert storage is not None
    assert not storage.secure
    assert storage.location == "this session only"
    assert storage.warning


def test_auto_renew_choice_is_remembered(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    assert sessions.new(server).view.auto_renew  # on unless the creator turned it off
    session = sessions.new(server)

    session.set_auto_renew(False)

    assert not session.view.auto_renew
    assert "auto_renew=false" in sessions.ini.read_text(
        encoding="utf-8"
    )  # on disk at once, not at exit
    stored = QSettings(str(sessions.ini), QSettings.Format.IniFormat)
    assert stored.value(AUTO_RENEW_KEY, True, type=bool) is False
    assert not sessions.new(server).view.auto_renew


def test_diagnostics_name_the_redirect_uri_and_no_secret(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    launch(qtbot, session)
    connect(qtbot, session)

    text = session.diagnostics()

    assert REDIRECT_URI in text
    assert "State: connected" in text
    assert access_token(session) not in text
    assert refresh_token(session) not in text


def test_every_session_slot_runs_on_the_gui_thread(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, browser=UserBrowser("allow"))
    attention = Recorder()
    session.attention_requested.connect(attention.record, Qt.ConnectionType.DirectConnection)
    launch(qtbot, session)
    connect(qtbot, session)
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
    session.disconnect_account()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)

    changes = sessions.changes[0]
    assert len(changes.on_gui_thread) > 5
    assert all(changes.on_gui_thread)
    assert attention.on_gui_thread == [True]
