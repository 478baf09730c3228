"""The receiver's start link, and who may use the loopback routes (catalogue 70 and 71).

Real sockets against a real :class:`LoopbackReceiver` and :class:`InstallEntry`. Which
account sent a request is decided by an injected judge here (the real one, reading
``/proc/net/tcp``, is tested with a real second account in ``tests/unit/test_peer.py`` and
``tests/catalogue/test_g_other_accounts.py``).
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator

import pytest

from kit_desktop.auth.install_entry import ASKING_CREATOR, InstallAnswer, InstallEntry
from kit_desktop.auth.loopback import START_PATH, LoopbackReceiver
from kit_desktop.auth.loopback_http import HttpRequest
from kit_desktop.auth.peer import lookup_available
from kit_desktop.auth.request_checks import PeerVerdict, not_a_visit, peer_verdict
from kit_desktop.errors import LinkReusedError
from tests.helpers.loopback import Waiter, send

STATE = "state-for-the-start-link-tests"
KIT = "http://127.0.0.1:9/v4/oauth/authorize?client_id=x&state=" + STATE
VISIT = (("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "document"))


def judged(verdict: PeerVerdict) -> LoopbackReceiver:
    receiver = LoopbackReceiver(
        ["http://127.0.0.1:0/callback"], STATE, timeout=10, judge=lambda request: verdict
    )
    receiver.set_authorization_url(KIT)
    return receiver


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with judged(PeerVerdict.SAME_ACCOUNT) as made:
        yield made


def test_the_start_link_holds_no_secret_and_sends_the_browser_to_kit(
    receiver: LoopbackReceiver,
) -> None:
    waiter = Waiter(receiver)
    assert receiver.start_url == f"http://127.0.0.1:{receiver.port}{START_PATH}"
    assert STATE not in receiver.start_url
    answer = send(receiver, START_PATH, headers=VISIT)
    assert answer.status == 302
    assert answer.headers["Location"] == KIT
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    again = send(receiver, START_PATH, headers=VISIT)  # this account, again: "Open again"
    assert again.status == 302
    assert waiter.running
    receiver.cancel()
    waiter.join()


def test_the_start_link_before_or_after_the_attempt_is_over() -> None:
    with LoopbackReceiver(["http://127.0.0.1:0/callback"], STATE, timeout=10) as receiver:
        waiter = Waiter(receiver, finish=(True, "Connected."))
        assert send(receiver, START_PATH).status == 410  # no URL yet
        receiver.set_authorization_url(KIT)
        assert send(receiver, f"/callback?code=c&state={STATE}").status == 302
        assert send(receiver, START_PATH).status == 410  # Kit's answer already came
        assert send(receiver, "/done").status == 200
        waiter.join(15)


@pytest.mark.parametrize(
    "headers",
    [
        (("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "image")),
        (("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "iframe")),
        (("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Dest", "empty")),
        (("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "style")),
        (("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Mode", "navigate")),
    ],
)
@pytest.mark.parametrize("path", [START_PATH, f"/callback?code=c&state={STATE}"])
def test_c71_what_a_web_page_makes_the_browser_fetch_is_refused(
    receiver: LoopbackReceiver, headers: tuple[tuple[str, str], ...], path: str
) -> None:
    waiter = Waiter(receiver)
    answer = send(receiver, path, headers=headers)
    assert answer.status == 403
    assert "Location" not in answer.headers
    assert "only acts on pages you open yourself" in answer.body
    assert waiter.running, "the attempt goes on"
    assert send(receiver, f"/callback?code=c&state={STATE}", headers=VISIT).status == 302
    assert waiter.result().code == "c"


@pytest.mark.parametrize("path", [START_PATH, f"/callback?code=c&state={STATE}"])
def test_c70_another_account_is_refused_and_the_attempt_goes_on(path: str) -> None:
    with judged(PeerVerdict.OTHER_ACCOUNT) as receiver:
        waiter = Waiter(receiver)
        answer = send(receiver, path, headers=VISIT)
        assert answer.status == 403
        assert "Another account on this computer" in answer.body
        assert "Copy link" in answer.body or "Paste the code" in answer.body
        assert waiter.running
        receiver.cancel()
        waiter.join()


def test_c70_an_unidentified_second_use_of_the_start_link_ends_the_attempt() -> None:
    # Where the account cannot be told (Windows, macOS), the link works once: a second
    # unidentified request may be the creator's browser after someone else took the URL.
    with judged(PeerVerdict.UNKNOWN) as receiver:
        waiter = Waiter(receiver)
        receiver.expect_browser()
        assert send(receiver, START_PATH, headers=VISIT).status == 302
        second = send(receiver, START_PATH, headers=VISIT)
        assert second.status == 409
        assert "Location" not in second.headers
        assert "stopped this attempt" in second.body
        assert isinstance(waiter.failure(), LinkReusedError)


def test_c70_an_unidentified_request_for_a_link_the_app_never_opened_ends_the_attempt() -> None:
    # An install's attempt, connect --no-browser, Copy link: the app never opened the
    # browser on the start link, so whoever asks for it is not the creator's browser.
    with judged(PeerVerdict.UNKNOWN) as receiver:
        waiter = Waiter(receiver)
        answer = send(receiver, START_PATH, headers=VISIT)
        assert answer.status == 409 and "Location" not in answer.headers
        assert isinstance(waiter.failure(), LinkReusedError)


@pytest.mark.parametrize("verdict", [PeerVerdict.OTHER_ACCOUNT, PeerVerdict.UNIDENTIFIED])
def test_c70_a_caller_the_kernel_cannot_name_is_refused_like_another_account(
    verdict: PeerVerdict,
) -> None:
    with judged(verdict) as receiver:
        waiter = Waiter(receiver)
        receiver.expect_browser()
        for path in (START_PATH, f"/callback?code=c&state={STATE}"):
            answer = send(receiver, path, headers=VISIT)
            assert answer.status == 403 and "was not sent from your account" in answer.body
        assert waiter.running
        receiver.cancel()
        waiter.join()


def test_c70_unidentified_requests_as_many_as_the_app_opened_the_browser() -> None:
    # "Open the page again" opens the browser once more: that request is expected.
    with judged(PeerVerdict.UNKNOWN) as receiver:
        waiter = Waiter(receiver)
        receiver.expect_browser()
        assert send(receiver, START_PATH, headers=VISIT).status == 302
        receiver.expect_browser()
        assert send(receiver, START_PATH, headers=VISIT).status == 302
        assert waiter.running
        assert send(receiver, START_PATH, headers=VISIT).status == 409  # one too many
        assert isinstance(waiter.failure(), LinkReusedError)


def test_the_checks_read_the_browsers_headers() -> None:
    def request(*headers: tuple[str, str]) -> HttpRequest:
        return HttpRequest("GET", "/", tuple((name.lower(), value) for name, value in headers))

    assert not_a_visit(request()) is None  # no Sec-Fetch headers: an older browser, curl
    assert not_a_visit(request(*VISIT)) is None
    assert not_a_visit(request(("Sec-Fetch-Mode", "Navigate"))) is None
    assert not_a_visit(request(("Sec-Fetch-Dest", "image"))) == "sec-fetch-dest is not document"
    assert peer_verdict(request()) is PeerVerdict.UNKNOWN  # no connection ends known


def entry(
    answer: InstallAnswer, verdict: PeerVerdict = PeerVerdict.SAME_ACCOUNT
) -> tuple[InstallEntry, list[str]]:
    asked: list[str] = []

    def on_install(redirect: str, trusted: bool) -> InstallAnswer:
        asked.append(redirect)
        return answer

    made = InstallEntry(
        "http://127.0.0.1:0/callback",
        on_install,
        app_hosts=("app.kit.com",),
        judge=lambda request: verdict,
    )
    return made, asked


def install(
    made: InstallEntry, headers: tuple[tuple[str, str], ...] = VISIT
) -> tuple[int, str | None, str]:
    """Ask ``made`` for an install as a browser would; return status, Location and body."""
    served = threading.Thread(target=made.serve, daemon=True)
    served.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", made.port, timeout=10)
        connection.request(
            "GET",
            "/kit/oauth?redirect=https%3A%2F%2Fapp.kit.com%2Fapps%2F1%3Fsuccess%3Dtrue",
            headers=dict(headers),
        )
        answer = connection.getresponse()
        body = answer.read().decode()
        connection.close()
        return answer.status, answer.getheader("Location"), body
    finally:
        made.close()
        served.join(5)


@pytest.mark.parametrize(
    ("headers", "verdict"),
    [
        ((("Sec-Fetch-Mode", "no-cors"), ("Sec-Fetch-Dest", "image")), PeerVerdict.SAME_ACCOUNT),
        ((("Sec-Fetch-Mode", "navigate"), ("Sec-Fetch-Dest", "iframe")), PeerVerdict.SAME_ACCOUNT),
        (VISIT, PeerVerdict.OTHER_ACCOUNT),
    ],
)
def test_c71_the_install_entry_starts_nothing_for_a_page_or_another_account(
    headers: tuple[tuple[str, str], ...], verdict: PeerVerdict
) -> None:
    made, asked = entry(KIT, verdict)
    status, location, _ = install(made, headers)
    assert status == 403 and location is None
    assert asked == []


def test_c71_the_install_entry_says_where_to_answer_when_the_app_asks() -> None:
    made, asked = entry(ASKING_CREATOR)
    status, location, body = install(made)
    assert status == 200 and location is None
    assert asked == ["https://app.kit.com/apps/1?success=true"]
    assert "Answer in Kit Desktop" in body and "Nothing changes unless you agree there" in body
    assert 'href="https://app.kit.com/apps/1?success=true"' in body


@pytest.mark.skipif(
    not lookup_available(),
    reason="only Linux (/proc/net/tcp) can tell a closed client from a live one; elsewhere "
    "every client is UNKNOWN and let through (docs/security.md)",
)
def test_c70_a_client_that_closes_before_the_answer_is_refused() -> None:
    # Another account could close its socket right after sending, so the kernel no longer
    # names it; a browser always waits for the answer. The real judge, once it has closed:
    closed = threading.Event()

    def judge_after_close(request: HttpRequest) -> PeerVerdict:
        closed.wait(5)
        return peer_verdict(request)

    with LoopbackReceiver(
        ["http://127.0.0.1:0/callback"], STATE, timeout=10, judge=judge_after_close
    ) as receiver:
        waiter = Waiter(receiver)
        head = (
            f"GET /callback?code=c&state={STATE} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{receiver.port}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sneaky:
            sneaky.sendall(head)
        closed.set()
        assert waiter.running, "the attempt goes on"
        closed_answer = send(receiver, f"/callback?code=real&state={STATE}", headers=VISIT)
        assert closed_answer.status == 302
        assert waiter.result().code == "real", "the closed client's code was not taken"
