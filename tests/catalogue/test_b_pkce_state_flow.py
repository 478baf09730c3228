"""Catalogue B24-B30: state checks, Kit's errors, fresh transactions, injected values, hygiene."""

from __future__ import annotations

import hmac
import secrets
import threading
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
import requests
from pytestqt.qtbot import QtBot

from kit_desktop.auth.callback import (
    ERROR_MESSAGES,
    MAX_DESCRIPTION_LENGTH,
    CallbackRejected,
    check_callback,
)
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.config import Settings
from kit_desktop.connection import Connection
from kit_desktop.errors import AuthorizationError, ConsentDeniedError
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import build_services
from kit_desktop.state import AttemptView, Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.flow import consent_id
from tests.helpers.loopback import CODE, EPHEMERAL, STATE, VALID, Waiter, get, send
from tests.helpers.user_browser import UserBrowser
from tests.qt.test_session import (
    WAIT_MS,
    Recorder,
    Sessions,
    attempts_of,
    launch,
    port_of,
    wait_phase,
)

ATTACKER = "ATTACKER-" + secrets.token_urlsafe(12)
XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


class Flow:
    """A session waiting for Kit's answer; the test plays the browser by hand."""

    def __init__(self, qtbot: QtBot, session: KitSession, attempts: Recorder) -> None:
        self.qtbot = qtbot
        self.session = session
        self.attempts = attempts

    @property
    def attempt(self) -> AttemptView:
        attempt = self.attempts.values[-1]
        assert isinstance(attempt, AttemptView)
        return attempt

    def start(self) -> AttemptView:
        self.session.connect_to_kit()
        wait_phase(self.qtbot, self.session, Phase.WAITING)
        return self.attempt

    def kit_answer(self, decision: str = "allow") -> dict[str, str]:
        """Click Allow or Deny at the sandbox; return the callback's parameters (not sent)."""
        with requests.Session() as http:
            http.trust_env = False
            page = http.get(self.attempt.url, allow_redirects=False, timeout=10)
            decided = http.post(
                urljoin(self.attempt.url, "/oauth/authorize/decision"),
                data={"consent_id": consent_id(page.text), "decision": decision},
                allow_redirects=False,
                timeout=10,
            )
        location = urlsplit(decided.headers["Location"])
        assert f"http://{location.netloc}{location.path}" == self.attempt.redirect_uri
        return dict(parse_qsl(location.query, strict_parsing=True))

    def callback(self, params: dict[str, str]) -> tuple[int, str]:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        return get(port_of(self.attempt), f"/callback?{query}")


@pytest.fixture
def flow(qtbot: QtBot, server: SandboxServer, sessions: Sessions) -> Flow:
    session = sessions.new(server, browser=UserBrowser("ignore"))
    attempts = attempts_of(session)
    launch(qtbot, session)
    return Flow(qtbot, session, attempts)


def assert_still_waiting(flow: Flow, server: SandboxServer) -> None:
    assert flow.session.view.phase is Phase.WAITING
    assert server.oauth.token_requests == 0


def finish(flow: Flow, server: SandboxServer, params: dict[str, str]) -> None:
    """Deliver Kit's answer as a browser would (callback, then ``/done``) and wait for it."""
    status, _ = flow.callback(params)
    assert status == 302
    done: list[int] = []
    tab = threading.Thread(  # /done waits for the session's outcome: not on the GUI thread
        target=lambda: done.append(get(port_of(flow.attempt), "/done")[0]), daemon=True
    )
    tab.start()
    wait_phase(flow.qtbot, flow.session, Phase.CONNECTED)
    tab.join(10)
    assert done == [200]
    assert server.oauth.token_requests == 1


def without(params: dict[str, str], *names: str, **changes: str) -> dict[str, str]:
    kept = {k: v for k, v in params.items() if k not in names}
    return {**kept, **changes}


def kit_connection() -> Connection:
    """The app's connection steps for real Kit (nothing is sent over the network here)."""
    settings = Settings(client_id="catalogue-client", redirect_uris=(EPHEMERAL,), route="direct")
    return Connection(build_services(settings, backend=MemoryKeyring()))


# --- 24. missing state ------------------------------------------------------------------------


def test_c24_missing_state(flow: Flow, server: SandboxServer) -> None:
    flow.start()
    answer = flow.kit_answer()
    for params in (without(answer, "state"), without(answer, state="")):
        status, page = flow.callback(params)
        assert status == 400
        assert "not for this connection" in page
        assert_still_waiting(flow, server)
    finish(flow, server, answer)


def test_c24_missing_state_unit() -> None:
    for query in (f"code={CODE}", f"code={CODE}&state=", f"state=&code={CODE}"):
        with pytest.raises(CallbackRejected) as caught:
            check_callback(query, STATE)
        assert caught.value.wrong_flow


# --- 25. wrong state keeps waiting ------------------------------------------------------------


def test_c25_wrong_state_keeps_waiting(flow: Flow, server: SandboxServer) -> None:
    flow.start()
    previous = flow.kit_answer()  # the first flow's genuine answer, never delivered
    flow.session.cancel()
    wait_phase(flow.qtbot, flow.session, Phase.NOT_CONNECTED)
    flow.start()
    answer = flow.kit_answer()
    assert previous["state"] != answer["state"]
    wrong = [
        previous,
        without(answer, state=previous["state"]),
        without(answer, state=secrets.token_urlsafe(32)),
        without(answer, state=answer["state"][:-1]),
        without(answer, state=answer["state"] + "A"),
    ]
    for params in wrong:
        assert flow.callback(params)[0] == 400
        assert_still_waiting(flow, server)
    finish(flow, server, answer)


def test_c25_wrong_state_keeps_waiting_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        running = Waiter(rec)
        assert send(rec, f"/callback?code={CODE}&state=not-{STATE}").status == 400
        assert (f"not-{STATE}".encode(), STATE.encode()) in calls
        assert running.running
        assert send(rec, VALID).status == 302
        assert running.result().code == CODE
    assert (STATE.encode(), STATE.encode()) in calls


# --- 26. error without a valid state ----------------------------------------------------------


def test_c26_error_without_valid_state(flow: Flow, server: SandboxServer) -> None:
    flow.start()
    for params in (
        {"error": "access_denied"},
        {"error": "access_denied", "state": "wrong"},
        {"error": "server_error", "error_description": "forged", "state": STATE},
    ):
        assert flow.callback(params)[0] == 400
        assert_still_waiting(flow, server)
    denial = flow.kit_answer("deny")
    assert denial["error"] == "access_denied"
    status, page = flow.callback(denial)
    assert status == 200
    assert "You chose not to connect" in page
    wait_phase(flow.qtbot, flow.session, Phase.NOT_CONNECTED)
    view = flow.session.view
    assert (view.headline, view.detail) == ("Not connected", ConsentDeniedError.default_message)
    assert view.tokens is None
    assert server.oauth.token_requests == 0


@pytest.mark.parametrize("error", sorted(ERROR_MESSAGES))
def test_c26_error_allow_list(error: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        check_callback(f"error={error}&state={STATE}", STATE)
    assert caught.value.user_message == ERROR_MESSAGES[error]


@pytest.mark.parametrize("error", ["made_up", "%3Cb%3Ebold%3C%2Fb%3E", "access_denied%20"])
def test_c26_error_allow_list_unknown(error: str) -> None:
    with pytest.raises(AuthorizationError) as caught:
        check_callback(f"error={error}&state={STATE}", STATE)
    assert caught.value.user_message == AuthorizationError.default_message
    assert caught.value.detail == "error=(not recognised)"


def test_c26_error_description_plain_and_short() -> None:
    description = "<b>Line</b>\none\ttwo\x07" + "x" * 1000
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        running = Waiter(rec)
        query = f"error=server_error&error_description={quote(description, safe='')}"
        assert send(rec, f"/callback?{query}&state={STATE}").status == 200
        failure = running.failure()
    assert isinstance(failure, AuthorizationError)
    message = failure.user_message
    said = message.split("Kit said: \u201c", 1)[1].rstrip("\u201d")
    assert said.startswith("<b>Line</b> one two x")  # plain text, to be shown as plain text
    assert len(said) <= MAX_DESCRIPTION_LENGTH
    assert message.isprintable()


# --- 27. both code and error ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "phase"),
    [("access_denied", Phase.NOT_CONNECTED), ("server_error", Phase.FAILED)],
)
def test_c27_code_and_error(flow: Flow, server: SandboxServer, error: str, phase: Phase) -> None:
    flow.start()
    answer = flow.kit_answer()
    assert flow.callback({**answer, "error": error})[0] == 200
    wait_phase(flow.qtbot, flow.session, phase)
    assert flow.session.view.tokens is None
    flow.qtbot.waitUntil(lambda: not flow.session.busy, timeout=WAIT_MS)
    assert server.oauth.token_requests == 0  # the code was never exchanged
