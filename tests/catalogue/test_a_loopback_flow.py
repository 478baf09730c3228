"""Catalogue A14-A18: result pages, redirects, logs, single use, timeout and cancel."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from pytestqt.qtbot import QtBot

from kit_desktop.auth.install_entry import InstallRefusedError, check_install_redirect
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.config import KIT_APP_HOSTS
from kit_desktop.errors import FlowCancelledError, FlowTimeoutError
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import AttemptView, Phase
from tests.helpers.loopback import (
    CODE,
    EPHEMERAL,
    STATE,
    VALID,
    Waiter,
    assert_no_active_content,
    holds_secret,
    send,
)
from tests.helpers.ports import port_is_free
from tests.helpers.user_browser import UserBrowser
from tests.qt.test_session import (
    WAIT_MS,
    Sessions,
    assert_port_free,
    attempts_of,
    connect,
    launch,
    port_of,
    wait_phase,
)

KIT_PAGE = "https://app.kit.com/apps/42?success=true"
EVIL = ("redirect=https://evil.example", "next=//evil.example", "return_to=https%3A%2F%2Fevil")


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        yield rec


def the_attempt(attempts: list[object]) -> AttemptView:
    (attempt,) = attempts
    assert isinstance(attempt, AttemptView)
    return attempt


# --- 14. success page hygiene -----------------------------------------------------------------


def test_c14_success_page_hygiene(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver, finish=(True, "Connected as Ada (ada@example.com)."))
    with requests.Session() as browser:  # follows the redirect as a browser does
        browser.trust_env = False
        done = browser.get(f"{receiver.redirect_uri}?code={CODE}&state={STATE}", timeout=10)
    assert running.result().code == CODE
    (redirect,) = done.history
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == "/done"  # the code leaves the address bar
    assert done.status_code == 200
    assert done.url == f"http://127.0.0.1:{receiver.port}/done"
    for answer in (redirect, done):
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Security-Policy"].startswith("default-src 'none';")
        assert_no_active_content(answer.text)
        assert CODE not in answer.text and STATE not in answer.text
    assert "Connected as Ada (ada@example.com)." in done.text


def test_c14_success_page_hygiene_session(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    browser = UserBrowser("allow")
    session = sessions.new(server, browser=browser)
    attempts = attempts_of(session)
    launch(qtbot, session)
    connect(qtbot, session)
    browser.join()
    visit = browser.visits[0]
    assert (visit.callback_status, visit.done_status) == (302, 200)
    attempt = the_attempt(attempts.values)
    for secret in (*server.oauth.issued_secrets(), attempt.state, attempt.verifier):
        assert secret not in visit.done_page
    assert_no_active_content(visit.done_page)
    assert "Connected as" in visit.done_page


# --- 15. no open redirect ---------------------------------------------------------------------


@pytest.mark.parametrize("extra", EVIL)
def test_c15_no_open_redirect_query_ignored(receiver: LoopbackReceiver, extra: str) -> None:
    running = Waiter(receiver, finish=(True, "Connected."))
    refused = send(receiver, f"/callback?code=x&state=wrong&{extra}")
    assert refused.status == 400
    assert "Location" not in refused.headers
    accepted = send(receiver, f"{VALID}&{extra}")
    assert accepted.status == 302
    assert accepted.headers["Location"] == "/done"
    done = send(receiver, "/done")
    assert done.status == 200
    assert "Location" not in done.headers
    assert "evil" not in accepted.body + done.body
    running.join()


def test_c15_no_open_redirect_install_returns_to_kit_only() -> None:
    back_to = check_install_redirect(KIT_PAGE, KIT_APP_HOSTS)
    with LoopbackReceiver([EPHEMERAL], STATE, back_to=back_to) as rec:
        running = Waiter(rec, finish=(True, "Connected."))
        assert send(rec, f"{VALID}&{EVIL[0]}").headers["Location"] == "/done"
        done = send(rec, "/done")
        running.join()
    assert done.status == 303
    assert done.headers["Location"] == KIT_PAGE
    assert "evil" not in done.body


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example/apps/1",
        "//evil.example/apps/1",
        "https://app.kit.com.evil.example/apps/1",
        "https://app.kit.com@evil.example/apps/1",
        "http://app.kit.com/apps/1",
        "https://app.kit.com:8443/apps/1",
        "https://app.kit.com/oauth/authorize",
        "https://app.kit.com/apps/../logout",
        "javascript:alert(1)//app.kit.com/apps/",
    ],
)
def test_c15_no_open_redirect_only_kit_app_pages(value: str) -> None:
    with pytest.raises(InstallRefusedError):
        check_install_redirect(value, KIT_APP_HOSTS)


# --- 16. no secrets in logs -------------------------------------------------------------------


def test_c16_no_secrets_in_logs(
    qtbot: QtBot,
    server: SandboxServer,
    sessions: Sessions,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger, everything
    browser = UserBrowser("allow")
    session = sessions.new(server, browser=browser)
    attempts = attempts_of(session)
    launch(qtbot, session)
    connect(qtbot, session)
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
    assert session.view.phase is Phase.CONNECTED and session.view.refresh_error == ""
    browser.join()
    sessions.stop(session)
    out, err = capfd.readouterr()

    attempt = the_attempt(attempts.values)
    secrets = {*server.oauth.issued_secrets(), attempt.state, attempt.verifier}
    assert len(server.oauth.issued_secrets()) >= 5  # code, two access and two refresh tokens
    # The creator's browser stand-in logs its own URLs through urllib3: not the app's output.
    stand_in = {thread.ident for thread in browser._threads}
    app_records = [r for r in caplog.records if r.thread not in stand_in]
    stand_in_text = "\n".join(r.getMessage() for r in caplog.records if r.thread in stand_in)
    assert attempt.state in stand_in_text  # the capture does see query-bearing URLs
    assert any(r.name.startswith("kit_desktop") for r in app_records)
    text = "\n".join(r.getMessage() for r in app_records)
    for secret in secrets:
        assert secret not in text
        assert secret not in out and secret not in err


# --- 17. single use, then close ---------------------------------------------------------------


def test_c17_single_use_then_close(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver)
    assert send(receiver, VALID).status == 302
    first = running.result()
    serving = threading.Thread(target=receiver.serve_done, daemon=True)
    serving.start()  # the short grace period after the callback, as the app runs it
    again = send(receiver, f"/callback?code=second-{CODE}&state={STATE}")
    assert again.status == 410
    assert send(receiver, VALID).status == 410  # the same URL replayed
    receiver.cancel()
    serving.join(5)
    assert not serving.is_alive()
    assert receiver.wait() is first  # nothing replaced the first answer
    port = receiver.port
    receiver.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_c17_single_use_then_close_thread(qtbot: QtBot) -> None:
    thread = LoopbackThread(LoopbackReceiver([EPHEMERAL], STATE))
    received: list[object] = []
    thread.received.connect(received.append)
    try:
        with qtbot.waitSignal(thread.received, timeout=5000), qtbot.assertNotEmitted(thread.failed):
            thread.start()
            assert send_to(thread, VALID) == 302
        assert send_to(thread, f"/callback?code=other&state={STATE}") == 410
        thread.finish(True, "Connected.")
        with qtbot.waitSignal(thread.finished, timeout=5000):
            assert send_to(thread, "/done") == 200
        assert len(received) == 1
        with pytest.raises(ConnectionRefusedError):
            send_to(thread, VALID)
    finally:
        assert thread.stop()


def send_to(thread: LoopbackThread, target: str) -> int:
    port = int(thread.redirect_uri.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        return int(sock.recv(64).split(b" ")[1])


def test_c17_single_use_then_close_session(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    browser = UserBrowser("allow")
    session = sessions.new(server, browser=browser)
    attempts = attempts_of(session)
    launch(qtbot, session)
    connect(qtbot, session)
    browser.join()
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    attempt = the_attempt(attempts.values)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{attempt.redirect_uri}?code={CODE}&state={attempt.state}", timeout=5)
    assert server.oauth.token_requests == 1
    assert session.view.phase is Phase.CONNECTED


# --- 18. timeout and cancel -------------------------------------------------------------------


def test_c18_timeout_releases_port_and_state() -> None:
    rec = LoopbackReceiver([EPHEMERAL], STATE, timeout=0.3)
    uri = rec.redirect_uri  # the port it bound, from now on a fixed one
    try:
        with pytest.raises(FlowTimeoutError):
            rec.wait()
    finally:
        rec.close()
    assert not holds_secret(rec, STATE)
    with LoopbackReceiver([uri], "next-attempt") as again:  # the same fixed port, at once
        assert again.redirect_uri == uri


def test_c18_cancel_releases_port_and_state() -> None:
    rec = LoopbackReceiver([EPHEMERAL], STATE)
    uri = rec.redirect_uri
    running = Waiter(rec)
    rec.cancel()
    assert isinstance(running.failure(), FlowCancelledError)
    rec.close()
    assert not holds_secret(rec, STATE)
    assert port_is_free(rec.port)
    with LoopbackReceiver([uri], "next-attempt") as again:
        assert again.redirect_uri == uri


def assert_attempt_forgotten(session: KitSession) -> None:
    assert session.attempts.attempt is None  # the verifier and state went with the attempt
    assert session.view.tokens is None
    assert not session.view.phase.attempt_running


def test_c18_cancel_session_back_to_not_connected(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server)
    attempts = attempts_of(session)
    launch(qtbot, session)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.WAITING)
    session.cancel()
    wait_phase(qtbot, session, Phase.NOT_CONNECTED)
    assert session.view.headline == "Not connected"
    assert session.view.detail == FlowCancelledError.default_message
    assert_attempt_forgotten(session)
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    # The port answers a late Allow with a page (tests/qt/test_late_answer.py) until a new
    # attempt binds it (at once, same test file) or the window closes.
    sessions.stop(session)
    assert_port_free(port_of(the_attempt(attempts.values)))
    assert server.oauth.token_requests == 0


def test_c18_timeout_session_back_to_signed_out(
    qtbot: QtBot, server: SandboxServer, sessions: Sessions
) -> None:
    session = sessions.new(server, flow_timeout=0.5)
    attempts = attempts_of(session)
    launch(qtbot, session)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED, timeout=5000)
    assert session.view.detail.startswith("Nothing came back from your browser within ")
    assert "Click “Try again”, then click Allow" in session.view.detail  # the FAILED button
    assert session.view.waiting_until is None
    assert_attempt_forgotten(session)
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)
    # The port answers a late Allow with a page (tests/qt/test_late_answer.py) until a new
    # attempt binds it (at once, same test file) or the window closes.
    sessions.stop(session)
    assert_port_free(port_of(the_attempt(attempts.values)))
