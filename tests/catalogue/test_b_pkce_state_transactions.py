"""Catalogue B28-B30: a fresh transaction each time, injected values, verifier/state hygiene."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from kit_desktop.auth.install_entry import ASKING_CREATOR
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.config import Settings
from kit_desktop.errors import ForeignIssuerError
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import build_services
from kit_desktop.state import Phase
from tests.catalogue.test_b_pkce_state_flow import ATTACKER, Flow, finish, kit_connection
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.loopback import CODE, EPHEMERAL, STATE, VALID, Waiter, get, holds_secret, send
from tests.helpers.ports import port_is_free, probed_port
from tests.helpers.user_browser import UserBrowser
from tests.qt.test_session import (
    WAIT_MS,
    Sessions,
    attempts_of,
    launch,
    port_of,
    stored_payload,
    wait_phase,
)

XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


@pytest.fixture
def flow(qtbot: QtBot, server: SandboxServer, sessions: Sessions) -> Flow:
    session = sessions.new(server, browser=UserBrowser("ignore"))
    attempts = attempts_of(session)
    launch(qtbot, session)
    return Flow(qtbot, session, attempts)


# --- 28. a new transaction each time ----------------------------------------------------------


def test_c28_new_transaction_each_time(flow: Flow, server: SandboxServer) -> None:
    first = flow.start()
    flow.session.cancel()
    wait_phase(flow.qtbot, flow.session, Phase.NOT_CONNECTED)
    second = flow.start()
    assert first.state != second.state
    assert first.verifier != second.verifier
    assert first.challenge != second.challenge
    assert (first.state, first.verifier) != (second.state, second.verifier)
    finish(flow, server, flow.kit_answer())


class Held:
    """Holds a replaced attempt's thread just before it closes its receiver.

    ``LoopbackThread`` emits ``failed`` and only then closes the receiver; a slot connected
    directly runs on that thread, so blocking in it freezes the moment where the old
    listener is still open: a legal interleaving that otherwise depends on timing.
    """

    def __init__(self, session: KitSession) -> None:
        (self.thread,) = session.findChildren(LoopbackThread)
        self.release = threading.Event()
        self.thread.failed.connect(self._hold, Qt.ConnectionType.DirectConnection)

    def _hold(self, _error: object) -> None:
        self.release.wait(3)

    def finish(self) -> None:
        self.release.set()
        assert self.thread.wait(5000)


def new_session(qtbot: QtBot, server: SandboxServer, tmp_path: Path, *uris: str) -> KitSession:
    settings = Settings(redirect_uris=uris).with_sandbox(server.base_url)
    return KitSession(
        build_services(settings, backend=MemoryKeyring()),
        opener=UserBrowser("ignore").open,
        settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )


def close_session(qtbot: QtBot, session: KitSession) -> None:
    session.shutdown()
    for thread in session.findChildren(LoopbackThread):
        assert thread.wait(5000)
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)


def test_c28_new_transaction_closes_old_listener(
    qtbot: QtBot, server: SandboxServer, tmp_path: Path
) -> None:
    ports = [probed_port(), probed_port()]
    session = new_session(
        qtbot, server, tmp_path, *(f"http://127.0.0.1:{p}/callback" for p in ports)
    )
    try:
        flow = Flow(qtbot, session, attempts_of(session))
        first = flow.start()
        assert port_of(first) == ports[0]
        held = Held(session)
        # An install while connecting asks first (case 71); the creator agrees.
        assert session.start_install("https://app.kit.com/apps/42") is ASKING_CREATOR
        session.answer_install(True)
        second = flow.attempt
        # #1 was stopped (its port freed) before #2 bound, so #2 listens where #1 did.
        assert port_of(second) == ports[0]
        assert port_is_free(ports[1])
        assert {second.state, second.verifier}.isdisjoint({first.state, first.verifier})
        held.finish()
        for state in (first.state, second.state[:-1]):
            assert get(ports[0], f"/callback?code={CODE}&state={quote(state)}")[0] == 400
        qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)
        assert server.oauth.token_requests == 0
    finally:
        close_session(qtbot, session)


def test_c28_new_transaction_replaces_single_port_listener(
    qtbot: QtBot, server: SandboxServer, tmp_path: Path
) -> None:
    uri = f"http://127.0.0.1:{probed_port()}/callback"
    session = new_session(qtbot, server, tmp_path, uri)
    flow = Flow(qtbot, session, attempts_of(session))
    first = flow.start()
    held = Held(session)
    try:
        assert session.start_install("https://app.kit.com/apps/42") is ASKING_CREATOR
        session.answer_install(True)  # the creator agrees (case 71)
        held.finish()
        assert session.view.last_error_code != "PortInUseError", session.view.detail
        assert flow.attempt.redirect_uri == uri and flow.attempt.state != first.state
        qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)
    finally:
        held.release.set()
        close_session(qtbot, session)


def test_c28_new_transaction_each_time_core() -> None:
    connection = kit_connection()
    first_receiver, first = connection.begin_attempt()
    first_receiver.close()
    second_receiver, second = connection.begin_attempt()
    with second_receiver:
        assert {first.state, first.verifier}.isdisjoint({second.state, second.verifier})
        running = Waiter(second_receiver)
        assert send(second_receiver, f"/callback?code={CODE}&state={first.state}").status == 400
        assert running.running
        assert send(second_receiver, f"/callback?code={CODE}&state={second.state}").status == 302
        assert running.result().state == second.state


# --- 29. extra or injected parameters ---------------------------------------------------------


def test_c29_injected_parameters_ignored(
    flow: Flow, server: SandboxServer, sessions: Sessions
) -> None:
    flow.start()
    answer = flow.kit_answer()
    injected = {
        **answer,
        "access_token": ATTACKER,
        "refresh_token": ATTACKER + "-r",
        "token_type": "bearer",
        "expires_in": "999999999",
    }
    finish(flow, server, injected)
    tokens = flow.session.view.tokens
    assert tokens is not None and ATTACKER not in tokens.access_token
    assert server.oauth.check_access_token(tokens.access_token).status == "ok"
    assert ATTACKER not in str(stored_payload(sessions.keyring))


@pytest.mark.parametrize(
    ("iss", "accepted"),
    [(None, True), ("https://api.kit.com", True), ("https://evil.example", False)],
)
def test_c29_issuer_checked(iss: str | None, accepted: bool) -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, expected_issuer="https://api.kit.com") as rec:
        running = Waiter(rec)
        suffix = "" if iss is None else f"&iss={quote(iss, safe='')}"
        status = send(rec, VALID + suffix).status
        if accepted:
            assert status == 302
            assert running.result().iss == iss
        else:  # this attempt's state: explained at once, not left to time out
            assert status == 400
            assert isinstance(running.failure(), ForeignIssuerError)


def test_c29_issuer_checked_app_path() -> None:
    receiver, attempt = kit_connection().begin_attempt()
    with receiver:
        running = Waiter(receiver)
        evil = quote("https://evil.example", safe="")
        stray = send(receiver, f"/callback?code={CODE}&state=not-this-one&iss={evil}")
        alive = running.running
        answer = send(receiver, f"/callback?code={CODE}&state={attempt.state}&iss={evil}")
        failure = running.failure()
    assert (stray.status, answer.status) == (400, 400)
    assert alive, "a wrong state is ignored, whatever its issuer"
    assert isinstance(failure, ForeignIssuerError)


# --- 30. verifier and state hygiene -----------------------------------------------------------


def files_hold(roots: list[Path], values: list[str]) -> list[str]:
    """Files under ``roots`` whose bytes contain any of ``values``."""
    found = []
    needles = [value.encode() for value in values]
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            if path.is_file() and any(needle in path.read_bytes() for needle in needles):
                found.append(str(path))
    return found


def _success(flow: Flow, server: SandboxServer) -> Phase:
    finish(flow, server, flow.kit_answer())
    return Phase.CONNECTED


def _denied(flow: Flow, server: SandboxServer) -> Phase:
    assert flow.callback(flow.kit_answer("deny"))[0] == 200
    return Phase.NOT_CONNECTED


def _cancelled(flow: Flow, server: SandboxServer) -> Phase:
    flow.session.cancel()
    return Phase.NOT_CONNECTED


ENDINGS: dict[str, Callable[[Flow, SandboxServer], Phase]] = {
    "success": _success,
    "denied": _denied,
    "cancelled": _cancelled,
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_c30_verifier_state_hygiene(
    flow: Flow, server: SandboxServer, sessions: Sessions, tmp_path: Path, ending: str
) -> None:
    attempt = flow.start()
    flow.session.set_auto_renew(False)  # the app writes its settings file during the attempt
    phase = ENDINGS[ending](flow, server)
    wait_phase(flow.qtbot, flow.session, phase)
    flow.qtbot.waitUntil(lambda: not flow.session.busy, timeout=WAIT_MS)
    assert flow.session.attempts.attempt is None  # the session's memory of the attempt is gone
    secrets_ = [attempt.state, attempt.verifier]
    assert not any(value in str(sessions.keyring.entries) for value in secrets_)
    xdg = [Path(os.environ[name]) for name in XDG if name in os.environ]
    assert sessions.ini.is_file()
    assert files_hold([tmp_path, *xdg], secrets_) == []


def test_c30_verifier_state_hygiene_core() -> None:
    receiver, attempt = kit_connection().begin_attempt()
    running = Waiter(receiver)
    assert send(receiver, f"/callback?code={CODE}&state={attempt.state}").status == 302
    assert running.result().code == CODE
    receiver.close()
    assert not holds_secret(receiver, attempt.state)
    assert not holds_secret(receiver, CODE)
    for text in (repr(attempt), str(attempt), repr(receiver)):
        assert attempt.state not in text and attempt.verifier not in text
