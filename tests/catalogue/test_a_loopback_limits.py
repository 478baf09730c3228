"""Catalogue A9-A13: slow clients, oversized and malformed input, duplicates, escaping."""

from __future__ import annotations

import contextlib
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from kit_desktop.auth import pages
from kit_desktop.auth.callback import CallbackRejected, parse_query
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.pages import Page, PageRenderer
from kit_desktop.errors import AuthorizationError
from tests.helpers.loopback import (
    CODE,
    EPHEMERAL,
    STATE,
    VALID,
    Answer,
    Waiter,
    assert_hardened,
    finish_flow,
    send,
)

DECOY = "decoy-code-not-to-be-used"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        yield rec


@pytest.fixture
def waiter(receiver: LoopbackReceiver) -> Iterator[Waiter]:
    running = Waiter(receiver)
    yield running
    receiver.cancel()
    running.join()


def assert_dropped(sock: socket.socket) -> None:
    """The server closed the connection without an answer (EOF or reset)."""
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(1) == b""


def assert_still_open(sock: socket.socket) -> None:
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(1)


def assert_no_markup(answer: Answer) -> None:
    lowered = answer.body.lower()
    assert "<script" not in lowered and "<img" not in lowered


# --- 9. idle or slow clients ------------------------------------------------------------------


def test_c09_idle_client_does_not_block() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=60) as rec:
        running = Waiter(rec)
        idle = [socket.create_connection(("127.0.0.1", rec.port), timeout=10) for _ in range(8)]
        try:
            assert finish_flow(rec, running).code == CODE
            for sock in idle:
                assert_still_open(sock)  # nothing had to be dropped for the callback to pass
        finally:
            for sock in idle:
                sock.close()


def test_c09_slow_client_does_not_block() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=60) as rec:
        running = Waiter(rec)
        stop, started = threading.Event(), threading.Event()

        def drip(sock: socket.socket) -> None:
            for byte in f"GET /callback?code={DECOY}&state={STATE} HTTP/1.1\r\n".encode():
                with contextlib.suppress(OSError):
                    sock.send(bytes([byte]))
                started.set()
                if stop.wait(0.3):  # the attack's own pace: one byte at a time
                    return

        with socket.create_connection(("127.0.0.1", rec.port), timeout=10) as slow:
            dripper = threading.Thread(target=drip, args=(slow,), daemon=True)
            dripper.start()
            assert started.wait(10)
            assert finish_flow(rec, running).code == CODE
            stop.set()
            dripper.join(10)


@pytest.mark.parametrize("sent", [b"", b"GET /callback?code=", b"G"], ids=["idle", "half", "byte"])
def test_c09_idle_client_dropped_after_timeout(sent: bytes) -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=0.3) as rec:
        running = Waiter(rec)
        with socket.create_connection(("127.0.0.1", rec.port), timeout=10) as idle:
            idle.sendall(sent)
            assert_dropped(idle)  # recv waits up to 10 s; the receiver gives up after 0.3 s
        assert running.running
        assert finish_flow(rec, running).code == CODE


# --- 10. oversized input ----------------------------------------------------------------------


def test_c10_oversized_url_414_memory_flat(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    assert send(receiver, "/callback?code=" + "A" * 100_000 + f"&state={STATE}").status == 414
    target = "/callback?code=" + "B" * 1_000_000 + f"&state={STATE}"
    raw = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\n\r\n".encode()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        answer = send(receiver, "", raw=raw)
        grown = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert answer.status == 414
    assert_hardened(answer)
    assert grown < 256 * 1024  # a 1 MB request line is never held in memory
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize(
    "headers",
    [
        tuple((f"X-Filler-{i}", "x") for i in range(500)),
        (("X-Big", "y" * 70_000),),
    ],
    ids=["500-headers", "70kb-header"],
)
def test_c10_oversized_headers_431(
    receiver: LoopbackReceiver, waiter: Waiter, headers: tuple[tuple[str, str], ...]
) -> None:
    answer = send(receiver, VALID, headers=headers)
    assert answer.status == 431
    assert_hardened(answer)
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_c10_huge_content_length_413(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    head = (
        f"GET /callback?code={DECOY}&state={STATE} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{receiver.port}\r\nContent-Length: {10**9}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
        sock.sendall(head.encode())  # no body follows: the 413 must not wait for it
        assert sock.recv(64).startswith(b"HTTP/1.1 413 ")
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


# --- 11. malformed query ----------------------------------------------------------------------

MALFORMED = {
    "bad-escape": f"code=%ZZ&state={STATE}",
    "non-utf8": f"code=%FF&state={STATE}",
    "nul": f"code=ab%00cd&state={STATE}",
    "empty-code": f"code=&state={STATE}",
    "code-3kb": f"code={'c' * 3000}&state={STATE}",
    "non-ascii-code": f"code=caf\u00e9&state={STATE}",
    "control-char": f"code=%0Aabc&state={STATE}",
    "no-equals": f"code={DECOY}&state={STATE}&junk",
}


@pytest.mark.parametrize("query", MALFORMED.values(), ids=MALFORMED.keys())
def test_c11_malformed_query_rejected(
    receiver: LoopbackReceiver, waiter: Waiter, query: str
) -> None:
    generic = PageRenderer().render(pages.BAD_REQUEST).decode("utf-8")
    answer = send(receiver, f"/callback?{quote(query, safe='%&=')}")
    assert answer.status == 400
    assert answer.body == generic  # the generic page: nothing of the input echoed
    assert_hardened(answer)
    assert waiter.running  # no answer handed on, so no token request can follow
    assert finish_flow(receiver, waiter).code == CODE


def test_c11_ten_kb_code_rejected(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    assert send(receiver, f"/callback?code={'c' * 10_240}&state={STATE}").status == 414
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_c11_state_decoded_exactly_once(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    first = f"%{ord(STATE[0]):02X}"
    double = f"%25{first[1:]}{STATE[1:]}"  # decodes once to "%XX...", twice to STATE
    assert send(receiver, f"/callback?code={DECOY}&state={double}").status == 400
    assert waiter.running
    single = f"{first}{STATE[1:]}"  # decodes once to STATE: accepted
    assert send(receiver, f"/callback?code={CODE}&state={single}").status == 302
    assert waiter.result().code == CODE
    assert parse_query("state=%2541") == {"state": "%41"}


# --- 12. duplicate parameters -----------------------------------------------------------------

DUPLICATES = {
    "code-twice": f"code=A&code=B&state={STATE}",
    "state-twice": f"code={DECOY}&state={STATE}&state=T",
    "same-state-twice": f"code={DECOY}&state={STATE}&state={STATE}",
    "encoded-name": f"code=A&%63ode=B&state={STATE}",
    "plus-name": f"code=A&state={STATE}&a+b=1&a%20b=2",
}


@pytest.mark.parametrize("query", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_c12_duplicate_parameters_rejected(
    receiver: LoopbackReceiver, waiter: Waiter, query: str
) -> None:
    answer = send(receiver, f"/callback?{query}")
    assert answer.status == 400
    assert waiter.running
    with pytest.raises(CallbackRejected, match="repeated"):
        parse_query(query)
    assert finish_flow(receiver, waiter).code == CODE  # neither A nor B was kept


# --- 13. XSS in the error page ----------------------------------------------------------------


@pytest.mark.parametrize("encoded", [True, False], ids=["percent-encoded", "raw"])
def test_c13_xss_error_page_escaped(
    receiver: LoopbackReceiver, waiter: Waiter, encoded: bool
) -> None:
    error, description = SCRIPT, IMG
    if encoded:
        error, description = quote(error, safe=""), quote(description, safe="")
    else:
        description = description.replace(" ", "+")
    answer = send(
        receiver, f"/callback?error={error}&error_description={description}&state={STATE}"
    )
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert_no_markup(answer)
    assert "&lt;img src=x onerror=alert(1)&gt;" in answer.body  # shown, as text
    failure = waiter.failure()
    assert isinstance(failure, AuthorizationError)
    assert "script" not in failure.user_message  # an unknown error value is never echoed


@pytest.mark.parametrize(
    "target",
    [
        f"/{quote(SCRIPT)}?state={STATE}",
        f"/callback?code={quote(SCRIPT)}&state=wrong",
        f"/callback?code={quote(IMG)}&state={STATE}&code=x",
    ],
    ids=["404", "wrong-state", "duplicate"],
)
def test_c13_xss_refusal_pages_echo_nothing(
    receiver: LoopbackReceiver, waiter: Waiter, target: str
) -> None:
    answer = send(receiver, target)
    assert answer.status in (400, 404)
    assert_hardened(answer)
    assert_no_markup(answer)
    assert "alert" not in answer.body
    assert waiter.running


def test_c13_xss_done_page_escapes_failure_message(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver, finish=(False, f"Kit said {SCRIPT} {IMG}"))
    assert send(receiver, VALID).status == 302
    done = send(receiver, "/done")
    running.join()
    assert_hardened(done)
    assert_no_markup(done)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in done.body


def test_c13_xss_renderer_escapes_every_field() -> None:
    payload = f"\"'{SCRIPT}{IMG}&"
    page = Page(400, payload, payload, payload, "error", ("https://app.kit.com/apps/1", payload))
    html = PageRenderer().render(page).decode("utf-8").lower()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&quot;&#x27;" in html
