"""A late Allow (after Cancel, the timeout or Deny) gets the app's page, not "refused to connect".

Issue 16, item 3. A real session on a fixed port (as Kit registers them) against the
in-process sandbox over HTTP: the creator cancels (or the wait runs out), then Kit's answer
arrives at the attempt's port anyway. The app answers with a fixed page saying what happened
and what to do, exchanges nothing, and gives the port up the moment a new attempt begins
(which binds the same port at once and connects) or the window closes.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from kit_desktop.auth.late_answer import LateAnswerDesk
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.pages import late_page
from kit_desktop.auth.peer import PeerVerdict
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.errors import FlowCancelledError, FlowTimeoutError
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import build_services
from kit_desktop.state import AttemptView, Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.loopback import EPHEMERAL, STATE, get
from tests.helpers.ports import port_is_free, probed_port
from tests.helpers.user_browser import UserBrowser

WAIT_MS = 10_000
LATE_CODE = "late-code-0123456789abcdef"
CANCELLED = (
    "This connection attempt was cancelled in Kit Desktop, so nothing was connected.",
    "Go back to Kit Desktop and click \u201cConnect to Kit\u201d to start again.",
)
TIMED_OUT = (
    "Kit Desktop had stopped waiting for this connection (after 1 second), so nothing was "
    "connected.",
    "Go back to Kit Desktop and click \u201cTry again\u201d to start again.",
)
ENDED = (
    "This connection attempt had already ended in Kit Desktop, so nothing was connected.",
    "Go back to Kit Desktop and click \u201cConnect to Kit\u201d to start again.",
)


class App:
    """One session on a fixed-port redirect URI, against a sandbox, shut down at the end."""

    def __init__(self, qtbot: QtBot, tmp_path: Path) -> None:
        self.qtbot = qtbot
        self.port = probed_port()
        self.uri = f"http://127.0.0.1:{self.port}/callback"
        self.server = SandboxServer(
            client_id=SANDBOX_CLIENT_ID, loopback_any_port=True, redirect_uris=[self.uri]
        ).start()
        self.tmp_path = tmp_path
        self.attempts: list[AttemptView] = []
        self.sessions: list[KitSession] = []

    def session(self, opener: Callable[[str], bool], flow_timeout: float = 30.0) -> KitSession:
        settings = Settings(redirect_uris=(self.uri,)).with_sandbox(self.server.base_url)
        session = KitSession(
            build_services(settings, backend=MemoryKeyring()),
            opener=opener,
            settings_store=QSettings(str(self.tmp_path / "s.ini"), QSettings.Format.IniFormat),
            flow_timeout=flow_timeout,
        )
        session.attempt_changed.connect(self._record)
        self.sessions.append(session)
        session.start()
        self.qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=WAIT_MS)
        return session

    def _record(self, attempt: object) -> None:
        assert isinstance(attempt, AttemptView)
        self.attempts.append(attempt)

    def wait_phase(self, session: KitSession, phase: Phase, timeout: int = WAIT_MS) -> None:
        self.qtbot.waitUntil(lambda: session.view.phase is phase, timeout=timeout)

    def late_visit(self, attempt: AttemptView, code: str = LATE_CODE) -> requests.Response:
        """Kit's answer to ``attempt`` arriving now, as the browser would bring it."""
        query = f"code={quote(code)}&state={quote(attempt.state)}"
        return requests.get(f"{attempt.redirect_uri}?{query}", timeout=10)

    def close(self) -> None:
        for session in self.sessions:
            session.shutdown()
        self.server.stop()


@pytest.fixture
def app(qtbot: QtBot, tmp_path: Path) -> Iterator[App]:
    made = App(qtbot, tmp_path)
    yield made
    made.close()


def assert_late_page(answer: requests.Response, words: tuple[str, ...], *secrets: str) -> None:
    """The fixed page: its words, the receiver's strict headers, nothing from the request."""
    assert answer.status_code == 410
    for sentence in words:
        assert sentence in answer.text
    headers = answer.headers
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"].startswith("default-src 'none'; ")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert "<script" not in answer.text.lower()
    for secret in (LATE_CODE, *secrets):
        assert secret not in answer.text


def connect_again(app: App, session: KitSession, browser: UserBrowser) -> AttemptView:
    """Click Connect right away: the new attempt binds the same fixed port and connects."""
    before = len(app.attempts)
    browser.decision = "allow"
    session.connect_to_kit()
    app.wait_phase(session, Phase.CONNECTED)
    browser.join()
    assert len(app.attempts) == before + 1
    attempt = app.attempts[-1]
    assert attempt.redirect_uri == app.uri  # the same fixed port, taken over from the page
    assert browser.visits[-1].done_status == 200
    return attempt


def test_cancel_then_allow_gets_the_page_and_connect_binds_the_same_port(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kit_desktop")
    browser = UserBrowser("ignore")
    session = app.session(browser.open)
    attention: list[bool] = []
    session.attention_requested.connect(lambda: attention.append(True))
    session.connect_to_kit()
    app.wait_phase(session, Phase.WAITING)
    session.cancel()
    app.wait_phase(session, Phase.NOT_CONNECTED)
    (attempt,) = app.attempts

    answer = app.late_visit(attempt)

    assert_late_page(answer, CANCELLED, attempt.state)
    assert app.server.oauth.token_requests == 0  # the code was never used
    assert session.view.phase is Phase.NOT_CONNECTED
    assert session.view.detail == "Connecting was cancelled."
    assert not session.busy  # nothing runs for the creator to wait on
    assert attention == []  # a late answer does not pull the window forward
    # Only this attempt's answer hears that it was cancelled; a stranger's is told less.
    other = requests.get(f"{app.uri}?code={LATE_CODE}&state=someone-else", timeout=10)
    assert other.status_code == 410 and "cancelled" not in other.text
    assert requests.get(f"http://127.0.0.1:{app.port}/done", timeout=10).status_code == 404
    start = requests.get(f"http://127.0.0.1:{app.port}/start", timeout=10)
    assert_late_page(start, CANCELLED, attempt.state)  # the start link says so too

    second = connect_again(app, session, browser)

    assert app.server.oauth.token_requests == 1  # only the new attempt's code
    assert second.state != attempt.state
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("kit_desktop"))
    assert "answered a late callback" in logged
    for secret in (LATE_CODE, attempt.state, second.state):
        assert secret not in logged


def test_timeout_then_allow_gets_the_page_and_connect_binds_the_same_port(app: App) -> None:
    browser = UserBrowser("ignore")
    session = app.session(browser.open, flow_timeout=1)
    session.connect_to_kit()
    app.wait_phase(session, Phase.FAILED, timeout=5000)
    assert session.view.last_error_code == "FlowTimeoutError"
    (attempt,) = app.attempts

    answer = app.late_visit(attempt)

    assert_late_page(answer, TIMED_OUT, attempt.state)
    assert app.server.oauth.token_requests == 0
    assert session.view.phase is Phase.FAILED
    session.flow_timeout = 30.0  # the next attempt waits long enough for the browser
    connect_again(app, session, browser)
    assert app.server.oauth.token_requests == 1


def test_a_second_visit_after_deny_says_the_attempt_had_ended(app: App) -> None:
    browser = UserBrowser("deny")
    session = app.session(browser.open)
    session.connect_to_kit()
    app.qtbot.waitUntil(lambda: "You chose not to connect" in session.view.detail, timeout=WAIT_MS)
    browser.join()
    assert browser.visits[0].callback_status == 200  # the first answer: "you chose not to"
    (attempt,) = app.attempts

    answer = app.late_visit(attempt)

    assert_late_page(answer, ENDED, attempt.state)
    assert app.server.oauth.token_requests == 0
    connect_again(app, session, browser)


def test_a_late_answer_cannot_touch_the_newer_attempt(app: App) -> None:
    browser = UserBrowser("ignore")
    session = app.session(browser.open)
    session.connect_to_kit()
    app.wait_phase(session, Phase.WAITING)
    session.cancel()
    app.wait_phase(session, Phase.NOT_CONNECTED)
    session.connect_to_kit()
    app.wait_phase(session, Phase.WAITING)
    first, second = app.attempts
    assert second.redirect_uri == first.redirect_uri

    answer = app.late_visit(first)  # reaches the new attempt's receiver now

    assert answer.status_code == 400  # "not for this connection": ignored
    app.qtbot.wait(200)
    assert session.view.phase is Phase.WAITING
    assert app.server.oauth.token_requests == 0


def test_closing_the_window_frees_the_port(app: App) -> None:
    session = app.session(UserBrowser("ignore").open)
    session.connect_to_kit()
    app.wait_phase(session, Phase.WAITING)
    session.cancel()
    app.wait_phase(session, Phase.NOT_CONNECTED)
    assert app.late_visit(app.attempts[0]).status_code == 410
    assert not port_is_free(app.port)

    session.shutdown()

    assert port_is_free(app.port)
    with pytest.raises(requests.ConnectionError):
        app.late_visit(app.attempts[0])


# --- the parts: the page stops by itself, refuses other accounts, knows a pasted answer ----


def test_the_page_stops_by_itself_after_its_window(qtbot: QtBot) -> None:
    receiver = LoopbackReceiver([EPHEMERAL], STATE, timeout=0.1)
    with pytest.raises(FlowTimeoutError) as ended:
        receiver.wait()
    late = receiver.hand_over(late_page(ended.value))
    assert late is not None
    assert LateAnswerDesk(window=0.5).slot()(late)
    status, page = get(receiver.port, f"/callback?code={LATE_CODE}&state={STATE}")
    assert status == 410 and "had stopped waiting" in page

    qtbot.waitUntil(lambda: late.closed, timeout=5000)

    assert port_is_free(receiver.port)
    receiver.close()  # nothing left to close: the page had the port


def test_another_account_is_refused_as_at_the_callback() -> None:
    receiver = LoopbackReceiver(
        [EPHEMERAL], STATE, judge=lambda _request: PeerVerdict.OTHER_ACCOUNT
    )
    receiver.cancel()
    with pytest.raises(FlowCancelledError) as ended:
        receiver.wait()
    late = receiver.hand_over(late_page(ended.value))
    assert late is not None
    desk = LateAnswerDesk()
    assert desk.slot()(late)
    try:
        status, page = get(receiver.port, f"/callback?code={LATE_CODE}&state={STATE}")
        assert status == 403 and "Another account on this computer" in page
        assert "cancelled" not in page
    finally:
        desk.stop()
    assert port_is_free(receiver.port)


def test_a_stop_before_the_hand_in_frees_the_port_at_once() -> None:
    receiver = LoopbackReceiver([EPHEMERAL], STATE)
    receiver.cancel()
    with pytest.raises(FlowCancelledError) as ended:
        receiver.wait()
    desk = LateAnswerDesk()
    slot = desk.slot()
    desk.stop()  # a new attempt began before the old thread handed its port in
    late = receiver.hand_over(late_page(ended.value))
    assert late is not None

    assert not slot(late)

    assert port_is_free(receiver.port)


def test_a_pasted_answer_is_not_called_cancelled(qtbot: QtBot) -> None:
    desk = LateAnswerDesk()
    thread = LoopbackThread(LoopbackReceiver([EPHEMERAL], STATE), late=desk.slot())
    port = int(thread.redirect_uri.rsplit(":", 1)[1].split("/", 1)[0])
    try:
        with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
            thread.start()
            thread.cancel(answered=True)
        status, page = get(port, f"/callback?code={LATE_CODE}&state={STATE}")
        assert status == 410 and "already received Kit" in page and "cancelled" not in page
    finally:
        desk.stop()
    assert port_is_free(port)


def test_a_stopped_thread_hands_nothing_over(qtbot: QtBot) -> None:
    desk = LateAnswerDesk()
    thread = LoopbackThread(LoopbackReceiver([EPHEMERAL], STATE), late=desk.slot())
    port = int(thread.redirect_uri.rsplit(":", 1)[1].split("/", 1)[0])
    thread.start()
    assert thread.stop(5000)  # the window closing, or a new attempt replacing this one
    assert desk.serving is None
    assert port_is_free(port)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_requests_already_in_flight_get_the_new_answer() -> None:
    """A connection opened while the attempt waited is answered by whoever holds the port."""
    receiver = LoopbackReceiver([EPHEMERAL], STATE)
    sock = socket.create_connection(("127.0.0.1", receiver.port), timeout=10)
    ready = threading.Event()
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            ready.set()
            receiver.wait()
        except BaseException as exc:  # the test reads it
            outcome.append(exc)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    ready.wait(5)
    desk = LateAnswerDesk()
    try:
        receiver.cancel()
        waiter.join(5)
        (ended,) = outcome
        assert isinstance(ended, FlowCancelledError)
        late = receiver.hand_over(late_page(ended))
        assert late is not None and desk.slot()(late)
        with sock:
            sock.sendall(
                f"GET /callback?code={LATE_CODE}&state={STATE} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{receiver.port}\r\n\r\n".encode()
            )
            sock.settimeout(10)
            answer = b""
            while b"</html>" not in answer and (chunk := sock.recv(65536)):
                answer += chunk
        # Perhaps accepted before the hand-over, read after it: the late page answers.
        assert answer.startswith(b"HTTP/1.1 410 ")
        assert CANCELLED[0].encode() in answer
    finally:
        desk.stop()
