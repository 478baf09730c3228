"""The loopback receiver against real sockets: security catalogue sections A and B (24-30)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import logging
import re
import secrets
import socket
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from kit_desktop.auth import loopback, loopback_http
from kit_desktop.auth.callback import (
    AuthorizationResponse,
    CallbackRejected,
    check_callback,
    parse_query,
)
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.pages import (
    NEUTRAL_DONE,
    NOT_FOUND,
    WRONG_FLOW,
    Page,
    PageRenderer,
    outcome_page,
)
from kit_desktop.errors import (
    AuthorizationError,
    ConfigError,
    ConsentDeniedError,
    FlowCancelledError,
    FlowTimeoutError,
    ForeignIssuerError,
    KitError,
    PortInUseError,
)
from tests.helpers.loopback import (
    CODE,
    EPHEMERAL,
    STATE,
    VALID,
    Waiter,
    assert_hardened,
    assert_no_active_content,
    finish_flow,
    holds_secret,
    lan_address,
    send,
)
from tests.helpers.ports import ipv6_loopback, listening_port, port_is_free, probed_port
from tests.helpers.realparts import require


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


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port held by another listening socket for the whole test."""
    with listening_port() as port:
        yield port


# --- A1-A5: binding -------------------------------------------------------------------------


def test_a1_binds_loopback_only(receiver: LoopbackReceiver) -> None:
    assert receiver.server_address == ("127.0.0.1", receiver.port)
    others = ["127.0.0.2"] if sys.platform.startswith("linux") else []
    lan = lan_address()
    if lan is not None:
        others.append(lan)
    for address in others:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, receiver.port), timeout=5).close()


@pytest.mark.parametrize(
    "uri",
    [
        "http://0.0.0.0:0/callback",
        "http://[::]:0/callback",
        "http://localhost:0/callback",
        "http://:0/callback",
        "http://192.0.2.2:0/callback",
        "https://127.0.0.1:0/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:0/done",
    ],
)
def test_a1_refuses_non_loopback_redirect_uris(uri: str) -> None:
    with pytest.raises(ConfigError):
        LoopbackReceiver([uri], STATE)


def test_a2_redirect_uri_is_an_ip_literal_with_the_bound_port(receiver: LoopbackReceiver) -> None:
    assert re.fullmatch(r"http://(127\.0\.0\.1|\[::1\]):\d+/callback", receiver.redirect_uri)
    assert receiver.redirect_uri == f"http://127.0.0.1:{receiver.port}/callback"
    assert receiver.port != 0
    assert "localhost" not in receiver.redirect_uri


def test_a2_fixed_port_redirect_uri_is_byte_identical() -> None:
    port = probed_port()
    uri = f"http://127.0.0.1:{port}/oauth/kit/callback"
    with LoopbackReceiver([uri], STATE) as rec:
        assert rec.redirect_uri == uri
        assert rec.port == port


def test_a3_ephemeral_ports_differ() -> None:
    with (
        LoopbackReceiver([EPHEMERAL], STATE) as first,
        LoopbackReceiver([EPHEMERAL], STATE) as second,
    ):
        assert first.port != second.port
        assert 0 not in (first.port, second.port)


def test_a3_busy_fixed_port_is_a_clear_error(busy_port: int) -> None:
    with pytest.raises(PortInUseError) as caught:
        LoopbackReceiver([f"http://127.0.0.1:{busy_port}/callback"], STATE)
    assert caught.value.port == busy_port
    assert str(busy_port) in caught.value.user_message


def test_a3_all_busy_names_the_first_port(busy_port: int) -> None:
    with listening_port() as second:
        uris = [f"http://127.0.0.1:{p}/callback" for p in (busy_port, second)]
        with pytest.raises(PortInUseError) as caught:
            LoopbackReceiver(uris, STATE)
    assert caught.value.port == busy_port


def test_a3_busy_port_falls_through_to_the_next_redirect_uri(busy_port: int) -> None:
    uris = [f"http://127.0.0.1:{busy_port}/callback", EPHEMERAL]
    with LoopbackReceiver(uris, STATE) as rec:
        assert rec.port not in (0, busy_port)
        assert rec.redirect_uri == f"http://127.0.0.1:{rec.port}/callback"


def test_a4_a_reuseaddr_socket_on_the_port_blocks_us() -> None:
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", 0))  # bound, not even listening
        port = squatter.getsockname()[1]
        with pytest.raises(PortInUseError):
            LoopbackReceiver([f"http://127.0.0.1:{port}/callback"], STATE)


def test_a4_no_second_receiver_on_a_live_port(receiver: LoopbackReceiver) -> None:
    with pytest.raises(PortInUseError):
        LoopbackReceiver([f"http://127.0.0.1:{receiver.port}/callback"], STATE)
    with socket.socket() as intruder:
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            intruder.bind(("127.0.0.1", receiver.port))


def test_a5_ipv6_loopback_when_configured(busy_port: int) -> None:
    require(ipv6_loopback(), "an IPv6 loopback address (::1)")
    uris = [f"http://127.0.0.1:{busy_port}/callback", "http://[::1]:0/callback"]
    with LoopbackReceiver(uris, STATE) as rec:
        assert rec.server_address == ("::1", rec.port)
        assert rec.redirect_uri == f"http://[::1]:{rec.port}/callback"
        running = Waiter(rec)
        with socket.create_connection(("::1", rec.port), timeout=10) as sock:
            sock.sendall(f"GET {VALID} HTTP/1.1\r\nHost: [::1]:{rec.port}\r\n\r\n".encode())
            response = http.client.HTTPResponse(sock)
            response.begin()
            assert response.status == 302
        assert running.result().code == CODE


# --- A6-A12: what is refused, while the flow keeps waiting ------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/", "/favicon.ico", "/callback/../x", "/CALLBACK", "/callbackX", "/callback/", "/done"],
)
def test_a6_wrong_path_is_404_and_the_flow_keeps_waiting(
    receiver: LoopbackReceiver, waiter: Waiter, target: str
) -> None:
    answer = send(receiver, f"{target}?code={CODE}&state={STATE}")
    reference = send(receiver, "/nothing-here")
    assert answer.status == 404
    assert answer.body == reference.body
    assert CODE not in answer.body and STATE not in answer.body
    assert_hardened(answer)
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize("method", ["POST", "PUT", "OPTIONS", "DELETE", "HEAD"])
def test_a7_non_get_is_405(receiver: LoopbackReceiver, waiter: Waiter, method: str) -> None:
    body = b"code=x&state=y" * 20
    answer = send(
        receiver,
        VALID,
        method=method,
        headers=(("Content-Length", str(len(body))),),
        body=body,
    )
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET"
    assert_hardened(answer)
    if method == "HEAD":
        assert answer.body == ""
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_a7_huge_post_body_is_not_read(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    answer = send(receiver, VALID, method="POST", headers=(("Content-Length", "1000000000"),))
    assert answer.status == 413
    answer = send(receiver, VALID, method="POST", headers=(("Transfer-Encoding", "chunked"),))
    assert answer.status == 413
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (None, 400),
        ("evil.example:{port}", 421),
        ("evil.example", 421),
        ("localhost:{port}", 421),
        ("127.0.0.1:1", 421),
        ("127.0.0.1", 421),
        ("[::1]:{port}", 421),
    ],
)
def test_a8_host_header_is_checked(
    receiver: LoopbackReceiver, waiter: Waiter, host: str | None, status: int
) -> None:
    value = None if host is None else host.format(port=receiver.port)
    answer = send(receiver, VALID, host=value)
    assert answer.status == status
    assert_hardened(answer)
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_a8_two_host_headers_are_refused(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    answer = send(receiver, VALID, headers=(("Host", "evil.example"),))
    assert answer.status == 400
    assert waiter.running


def test_a9_idle_connection_does_not_block() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=60) as rec:
        running = Waiter(rec)
        with socket.create_connection(("127.0.0.1", rec.port), timeout=10) as idle:
            answer = send(rec, VALID)
            assert answer.status == 302
            assert running.result().code == CODE
            idle.setblocking(False)
            with pytest.raises(BlockingIOError):  # still open: it never held anything up
                idle.recv(1)


def test_a9_slow_client_does_not_block() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=60) as rec:
        running = Waiter(rec)
        stop = threading.Event()
        first_byte_sent = threading.Event()

        def drip(sock: socket.socket) -> None:
            for char in f"GET {VALID} HTTP/1.1\r\n":
                if stop.is_set():
                    return
                with contextlib.suppress(OSError):
                    sock.send(char.encode())
                first_byte_sent.set()
                stop.wait(0.5)  # the attack itself: one byte every half second

        with socket.create_connection(("127.0.0.1", rec.port), timeout=10) as slow:
            dripper = threading.Thread(target=drip, args=(slow,), daemon=True)
            dripper.start()
            assert first_byte_sent.wait(10)
            assert send(rec, VALID).status == 302
            assert running.result().code == CODE
            stop.set()
            dripper.join(10)


def assert_dropped(sock: socket.socket) -> None:
    with contextlib.suppress(ConnectionResetError):  # dropped: EOF or reset
        assert sock.recv(1) == b""


@pytest.mark.parametrize("sent", [b"", b"GET /callback?"])
def test_a9_idle_and_slow_connections_are_dropped(sent: bytes) -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=0.5) as rec:
        running = Waiter(rec)
        with socket.create_connection(("127.0.0.1", rec.port), timeout=10) as idle:
            idle.sendall(sent)
            assert_dropped(idle)
        assert running.running
        assert finish_flow(rec, running).code == CODE


def test_a9_over_the_cap_the_oldest_idle_connection_makes_room() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=60) as rec:
        running = Waiter(rec)
        idle = [
            socket.create_connection(("127.0.0.1", rec.port), timeout=10)
            for _ in range(loopback_http.MAX_CONNECTIONS)
        ]
        try:
            assert finish_flow(rec, running).code == CODE
            assert_dropped(idle[0])  # the oldest idle one gave up its place
        finally:
            for sock in idle:
                sock.close()


def test_a9_many_idle_connections_do_not_block() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, request_timeout=60) as rec:
        running = Waiter(rec)
        idle = [socket.create_connection(("127.0.0.1", rec.port), timeout=10) for _ in range(8)]
        try:
            assert finish_flow(rec, running).code == CODE
        finally:
            for sock in idle:
                sock.close()


def test_a10_long_url_is_414_and_memory_stays_flat(
    receiver: LoopbackReceiver, waiter: Waiter
) -> None:
    target = "/callback?code=" + "A" * 1_000_000 + f"&state={STATE}"
    raw = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\n\r\n".encode()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        answer = send(receiver, "", raw=raw)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert answer.status == 414
    assert_hardened(answer)
    assert peak < 256 * 1024  # a 1 MB request line costs the server a few KB
    assert waiter.running
    assert send(receiver, "/callback?code=" + "A" * 100_000).status == 414
    assert finish_flow(receiver, waiter).code == CODE


def test_a10_too_many_or_too_large_headers_are_431(
    receiver: LoopbackReceiver, waiter: Waiter
) -> None:
    many = tuple((f"X-Filler-{i}", "x") for i in range(500))
    assert send(receiver, VALID, headers=many).status == 431
    large = tuple((f"X-Large-{i}", "y" * 6000) for i in range(4))
    assert send(receiver, VALID, headers=large).status == 431
    assert send(receiver, VALID, headers=(("X-One", "z" * 70_000),)).status == 431
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_a10_huge_content_length_is_413(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    answer = send(receiver, VALID, headers=(("Content-Length", str(10**9)),))
    assert answer.status == 413
    assert_hardened(answer)
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /callback\r\n\r\n",
        b"GET /callback HTTP/2.0\r\n\r\n",
        b"GET /callback?code=\xff&state=x HTTP/1.1\r\n\r\n",
        b"GET http://evil.example/callback HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        b"GET /callback HTTP/1.1\r\n folded: header\r\n\r\n",
        b"GET /callback HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    ],
)
def test_a10_malformed_requests_are_400(
    receiver: LoopbackReceiver, waiter: Waiter, raw: bytes
) -> None:
    answer = send(receiver, "", raw=raw)
    assert answer.status == 400
    assert_hardened(answer)
    assert waiter.running


@pytest.mark.parametrize(
    "query",
    [
        f"code=%ZZ&state={STATE}",
        f"code=%FF&state={STATE}",
        f"code=%E2%82&state={STATE}",
        f"code=abc%00def&state={STATE}",
        f"code=&state={STATE}",
        f"code={'c' * 2049}&state={STATE}",
        f"code=%0Aabc&state={STATE}",
        f"code=é&state={STATE}",
        f"code={CODE}&state={quote(quote(STATE, safe=''), safe='')}%2541",
        f"code={CODE}&state={STATE}&",
        f"code={CODE}&state={STATE}&novalue",
        f"state={STATE}",
        "",
    ],
    ids=[
        "bad-escape",
        "non-utf8",
        "truncated-utf8",
        "nul",
        "empty-code",
        "code-over-2kb",
        "control-char",
        "non-ascii-code",
        "double-encoded-state",
        "trailing-ampersand",
        "field-without-equals",
        "no-code",
        "empty",
    ],
)
def test_a11_malformed_query_is_rejected_and_the_flow_keeps_waiting(
    receiver: LoopbackReceiver, waiter: Waiter, query: str
) -> None:
    answer = send(receiver, f"/callback?{quote(query, safe='%&=')}")
    assert answer.status == 400
    assert_hardened(answer)
    assert CODE not in answer.body and STATE not in answer.body
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_a11_ten_kilobyte_code_is_refused(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    assert send(receiver, f"/callback?code={'c' * 10_000}&state={STATE}").status == 414
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_a11_state_is_decoded_exactly_once() -> None:
    assert parse_query("state=%2541") == {"state": "%41"}
    assert parse_query("a+b=c+d%2B") == {"a b": "c d+"}
    with pytest.raises(CallbackRejected):
        check_callback(f"code=x&state={quote(STATE + '%')}25", STATE)


@pytest.mark.parametrize(
    "query",
    [
        f"code=A&code=B&state={STATE}",
        f"code={CODE}&state={STATE}&state=other",
        f"code={CODE}&state={STATE}&state={STATE}",
        f"code={CODE}&state={STATE}&error=a&error=b",
        f"code={CODE}&c%6Fde=B&state={STATE}",
    ],
    ids=["code-twice", "state-twice", "same-state-twice", "error-twice", "encoded-name-twice"],
)
def test_a12_duplicate_parameters_are_rejected(
    receiver: LoopbackReceiver, waiter: Waiter, query: str
) -> None:
    answer = send(receiver, f"/callback?{query}")
    assert answer.status == 400
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


# --- A13-A17: pages, redirects, logs, single use ----------------------------------------------


@pytest.mark.parametrize("encode", [True, False])
def test_a13_error_page_escapes_everything(
    receiver: LoopbackReceiver, waiter: Waiter, encode: bool
) -> None:
    error = "<script>alert(1)</script>"
    description = "<img src=x onerror=alert(1)>"
    if encode:
        error, description = quote(error, safe=""), quote(description, safe="")
    else:
        description = description.replace(" ", "+")
    query = f"error={error}&error_description={description}&state={STATE}"
    answer = send(receiver, f"/callback?{query}")
    assert answer.status == 200
    assert_hardened(answer)
    lowered = answer.body.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert "&lt;img src=x onerror=alert(1)&gt;" in answer.body
    failure = waiter.failure()
    assert isinstance(failure, AuthorizationError)
    assert "<img src=x onerror=alert(1)>" in failure.user_message  # plain text, for plain widgets
    assert "script" not in failure.user_message  # unknown error codes are never echoed


def test_a14_success_page_hygiene(receiver: LoopbackReceiver) -> None:
    message = "You're connected to Kit. You can close this tab and return to Kit Desktop."
    running = Waiter(receiver, finish=(True, message))
    redirect = send(receiver, VALID)
    assert redirect.status == 302
    assert redirect.headers["Location"] == "/done"
    done = send(receiver, "/done")
    running.join()
    for answer in (redirect, done):
        assert_hardened(answer)
        assert_no_active_content(answer.body)
        assert CODE not in answer.body and STATE not in answer.body
    assert done.status == 200
    assert "You&#x27;re connected to Kit." in done.body
    assert running.result().code == CODE


def test_a14_done_page_escapes_the_failure_message(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver, finish=(False, "<b>Kit said no</b> & more"))
    assert send(receiver, VALID).status == 302
    done = send(receiver, "/done")
    assert "&lt;b&gt;Kit said no&lt;/b&gt; &amp; more" in done.body
    assert "<b>" not in done.body
    running.join()


def test_a14_done_before_finish_shows_a_neutral_page(
    receiver: LoopbackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loopback, "DONE_WAIT", 0.2)
    running = Waiter(receiver)
    assert send(receiver, VALID).status == 302
    assert running.result().code == CODE
    serving = threading.Thread(target=receiver.serve_done, daemon=True)
    serving.start()
    done = send(receiver, "/done")
    serving.join(10)
    assert not serving.is_alive()
    assert done.status == 200
    assert "Return to Kit Desktop" in done.body


def test_a14_the_browser_lands_on_done(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver, finish=(True, "Connected."))
    with requests.Session() as session:
        page = session.get(receiver.redirect_uri, params={"code": CODE, "state": STATE}, timeout=10)
    assert page.status_code == 200
    assert page.url == f"http://127.0.0.1:{receiver.port}/done"
    assert [r.status_code for r in page.history] == [302]
    running.join()
    assert running.result().code == CODE


@pytest.mark.parametrize(
    "extra",
    ["redirect=https://evil.example", "next=//evil.example", "return_to=https%3A%2F%2Fevil"],
)
def test_a15_no_open_redirect(receiver: LoopbackReceiver, waiter: Waiter, extra: str) -> None:
    refused = send(receiver, f"/callback?code={CODE}&state=wrong&{extra}")
    assert not 300 <= refused.status < 400
    assert "Location" not in refused.headers
    accepted = send(receiver, f"{VALID}&{extra}")
    assert accepted.status == 302
    assert accepted.headers["Location"] == "/done"
    assert "evil" not in accepted.body
    assert waiter.result().code == CODE


def test_a16_no_secrets_in_logs(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        running = Waiter(rec, finish=(True, "Connected."))
        send(rec, f"/callback?code={CODE}&state=nope")
        send(rec, f"/callback?code={CODE}")
        send(rec, f"/favicon.ico?code={CODE}&state={STATE}")
        send(rec, VALID, method="POST")
        send(rec, VALID, host="evil.example")
        send(rec, VALID)
        send(rec, "/done")
        response = running.result()
        logging.getLogger("test").debug("response: %r", response)
    out, err = capfd.readouterr()
    assert caplog.records, "the receiver should log a redacted summary"
    for text in (caplog.text, out, err):
        assert CODE not in text
        assert STATE not in text
    assert "[redacted]" in caplog.text


def test_a17_single_use_then_close(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver)
    first = send(receiver, VALID)
    assert first.status == 302
    response = running.result()
    serving = threading.Thread(target=receiver.serve_done, daemon=True)
    serving.start()  # the grace period after the callback: only /done is served
    other = send(receiver, f"/callback?code=second-code&state={STATE}")
    assert other.status == 410
    assert send(receiver, VALID).status == 410
    receiver.cancel()
    serving.join(5)
    assert receiver.wait() is response  # nothing replaced the first answer
    port = receiver.port
    receiver.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_a17_concurrent_valid_callbacks_give_one_answer(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver, finish=(True, "Connected."))  # then serves the grace period
    statuses: list[int] = []
    lock = threading.Lock()

    def hit() -> None:
        status = send(receiver, VALID).status
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    receiver.cancel()
    assert sorted(statuses) == [302] + [410] * 7
    assert running.result().code == CODE


# --- A18 and B30: timeout, cancel, close ------------------------------------------------------


def test_a18_timeout_frees_the_port_and_wipes_the_state() -> None:
    rec = LoopbackReceiver([EPHEMERAL], STATE, timeout=0.3)
    port = rec.port
    try:
        with pytest.raises(FlowTimeoutError):
            rec.wait()
    finally:
        rec.close()
    assert port_is_free(port)
    assert not holds_secret(rec, STATE)


def test_a18_timeout_follows_the_injected_clock() -> None:
    ticks = iter(range(0, 10_000, 100))
    with (
        LoopbackReceiver([EPHEMERAL], STATE, timeout=250, clock=lambda: float(next(ticks))) as rec,
        pytest.raises(FlowTimeoutError),
    ):
        rec.wait()


def test_a18_cancel_returns_quickly_and_frees_the_port(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver)
    receiver.cancel()
    running.join(timeout=1.0)
    assert isinstance(running.error, FlowCancelledError)
    receiver.close()
    assert port_is_free(receiver.port)
    assert not holds_secret(receiver, STATE)


def test_a18_close_from_another_thread_while_waiting(receiver: LoopbackReceiver) -> None:
    running = Waiter(receiver)
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as idle:
        idle.sendall(b"GET /call")
        receiver.close()
        running.join(timeout=2.0)
        assert isinstance(running.error, FlowCancelledError)
        assert port_is_free(receiver.port)  # even with a connection still open on it


def test_a18_close_is_idempotent_and_final(receiver: LoopbackReceiver) -> None:
    receiver.close()
    receiver.close()
    receiver.finish(True, "ignored")
    assert receiver.closed
    with pytest.raises(FlowCancelledError):
        receiver.wait()
    receiver.serve_done()


def test_a18_same_fixed_port_can_be_bound_again_after_a_full_flow() -> None:
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        running = Waiter(rec, finish=(True, "Connected."))
        with requests.Session() as session:
            assert session.get(rec.redirect_uri + VALID[9:], timeout=10).status_code == 200
        running.join()
        port = rec.port
    with LoopbackReceiver([f"http://127.0.0.1:{port}/callback"], "another-state") as again:
        assert again.port == port


def test_b30_state_and_code_are_gone_after_each_ending() -> None:
    for ending in ("success", "denied", "cancel"):
        rec = LoopbackReceiver([EPHEMERAL], STATE)
        running = Waiter(rec)
        if ending == "success":
            send(rec, VALID)
        elif ending == "denied":
            send(rec, f"/callback?error=access_denied&state={STATE}")
        else:
            rec.cancel()
        running.join()
        rec.close()
        assert not holds_secret(rec, STATE), ending
        assert not holds_secret(rec, CODE), ending
        assert STATE not in repr(rec)


# --- B24-B29: state, errors and extra parameters ------------------------------------------------


def test_b24_missing_state_is_rejected(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    answer = send(receiver, f"/callback?code={CODE}")
    assert answer.status == 400
    assert "not for this connection" in answer.body
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize(
    "state",
    ["wrong", secrets.token_urlsafe(32), STATE[:-1], STATE + "x", STATE.upper(), "%C3%A9", "%00"],
    ids=["word", "other-flow", "truncated", "extended", "upper-case", "non-ascii", "nul"],
)
def test_b25_wrong_state_keeps_waiting(
    receiver: LoopbackReceiver, waiter: Waiter, state: str
) -> None:
    answer = send(receiver, f"/callback?code={CODE}&state={state}")
    assert answer.status == 400
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize("state", ["", "&state=wrong"])
def test_b26_error_without_valid_state_is_ignored(
    receiver: LoopbackReceiver, waiter: Waiter, state: str
) -> None:
    answer = send(receiver, f"/callback?error=access_denied{state}")
    assert answer.status == 400
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


def test_b26_access_denied_with_valid_state_ends_the_flow(
    receiver: LoopbackReceiver, waiter: Waiter
) -> None:
    answer = send(receiver, f"/callback?error=access_denied&state={STATE}")
    assert answer.status == 200
    assert "You chose not to connect" in answer.body
    failure = waiter.failure()
    assert isinstance(failure, ConsentDeniedError)
    assert failure.user_message == ConsentDeniedError.default_message


def test_b26_error_description_is_plain_and_short(
    receiver: LoopbackReceiver, waiter: Waiter
) -> None:
    description = quote("Line\none\t" + "x" * 1000, safe="")
    send(receiver, f"/callback?error=server_error&error_description={description}&state={STATE}")
    failure = waiter.failure()
    assert isinstance(failure, AuthorizationError)
    said = failure.user_message.split("Kit said: ")[1]
    assert len(said) <= 202  # the quotes around at most 200 characters
    assert "\n" not in failure.user_message and "\t" not in failure.user_message
    assert failure.user_message.startswith("Kit had a problem")


def test_b26_unknown_error_codes_get_the_generic_message() -> None:
    with pytest.raises(AuthorizationError) as caught:
        check_callback(f"error=made_up_error&state={STATE}", STATE)
    assert caught.value.user_message == AuthorizationError.default_message
    assert "made_up_error" not in str(caught.value)


@pytest.mark.parametrize("error", ["access_denied", "invalid_scope"])
def test_b27_code_and_error_together_is_an_error(
    receiver: LoopbackReceiver, waiter: Waiter, error: str
) -> None:
    send(receiver, f"/callback?code={CODE}&error={error}&state={STATE}")
    failure = waiter.failure()
    assert isinstance(failure, ConsentDeniedError | AuthorizationError)
    assert waiter.response is None


def test_b28_a_new_receiver_does_not_accept_the_old_state() -> None:
    old_state, new_state = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with LoopbackReceiver([EPHEMERAL], old_state) as first:
        port = first.port
    with LoopbackReceiver([f"http://127.0.0.1:{port}/callback"], new_state) as second:
        running = Waiter(second)
        assert send(second, f"/callback?code={CODE}&state={old_state}").status == 400
        assert running.running
        assert send(second, f"/callback?code={CODE}&state={new_state}").status == 302
        assert running.result().state == new_state


def test_b29_injected_parameters_are_ignored(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    send(receiver, f"{VALID}&access_token=ATTACKER&token_type=bearer&scope=admin")
    response = waiter.result()
    assert response == AuthorizationResponse(code=CODE, state=STATE, iss=None)


@pytest.mark.parametrize(
    ("iss", "accepted"),
    [(None, True), ("https://api.kit.com", True), ("https://evil", False), ("", True)],
)
def test_b29_issuer_must_match_when_present(iss: str | None, accepted: bool) -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, expected_issuer="https://api.kit.com") as rec:
        running = Waiter(rec)
        suffix = "" if iss is None else f"&iss={quote(iss, safe='')}"
        answer = send(rec, VALID + suffix)
        if accepted:
            assert answer.status == 302
            assert running.result().iss == (iss or None)
        else:  # this attempt's state: a real answer from another server ends the attempt
            assert answer.status == 400
            assert isinstance(running.failure(), ForeignIssuerError)


def test_b29_issuer_is_reported_when_not_pinned(receiver: LoopbackReceiver, waiter: Waiter) -> None:
    send(receiver, f"{VALID}&iss=https%3A%2F%2Fapi.kit.com")
    assert waiter.result().iss == "https://api.kit.com"


# --- the pure parts ------------------------------------------------------------------------


def test_response_repr_is_redacted() -> None:
    response = AuthorizationResponse(code=CODE, state=STATE, iss="https://api.kit.com")
    for text in (repr(response), str(response), f"{response}"):
        assert CODE not in text and STATE not in text
    assert "https://api.kit.com" in repr(response)


@given(st.text(max_size=300))
def test_check_callback_never_fails_unexpectedly(query: str) -> None:
    with contextlib.suppress(CallbackRejected, KitError):
        check_callback(query, STATE)


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_any_printable_code_round_trips(code: str) -> None:
    query = f"code={quote(code, safe='')}&state={STATE}"
    assert check_callback(query, STATE).code == code


def test_state_must_be_printable() -> None:
    for bad in ("", "a\nb", "é"):
        with pytest.raises(ValueError, match="state"):
            LoopbackReceiver([EPHEMERAL], bad)


@pytest.mark.parametrize("page", [NOT_FOUND, WRONG_FLOW, NEUTRAL_DONE, outcome_page(True, "")])
def test_pages_are_accessible_and_self_contained(page: Page) -> None:
    renderer = PageRenderer()
    html = renderer.render(page).decode("utf-8")
    assert html.startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert f"<title>{page.heading}".replace("'", "&#x27;") in html
    assert html.count("<h1") == 1
    assert "Kit Desktop" in html
    assert 'name="viewport"' in html and "prefers-color-scheme: dark" in html
    assert_no_active_content(html)
    style = re.search(r"<style>(.*)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in renderer.content_security_policy
