"""Fuzzing the loopback receiver: request heads, callback queries and replies (catalogue A, B).

Mostly at the function level (``read_request``, ``LoopbackReceiver.respond``/``refuse``,
``check_callback``: no sockets, thousands of examples a second), plus one property that
throws arbitrary bytes at a live receiver over real sockets and then sends the real callback.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Iterator
from functools import partial

import pytest
from hypothesis import strategies as st

from kit_desktop.auth import pages
from kit_desktop.auth.callback import (
    MAX_DESCRIPTION_LENGTH,
    AuthorizationResponse,
    CallbackRejected,
    check_callback,
    parse_query,
)
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.loopback_http import (
    MAX_BODY,
    MAX_HEADERS,
    HttpRequest,
    Reply,
    RequestRefused,
    read_request,
)
from kit_desktop.errors import AuthorizationError, ConsentDeniedError, KitError
from tests.fuzz.loopback_inputs import (
    CODE,
    ONE_IN,
    OTHER_STATE,
    PATHS,
    STATE,
    TOKEN,
    clean_heads,
    expected_callback,
    parse_reply,
    queries,
    raw_heads,
    tags_in,
    tokens,
    weighted,
)
from tests.fuzz.support import Campaign, Settings, attempt, run_property, suite_settings

EPHEMERAL = "http://127.0.0.1:0/callback"
RENDERER = pages.PageRenderer.bundled()
ALLOWED_TAGS = tags_in(RENDERER.render(pages.outcome_page(False, "x", "https://app.kit.com/a")))
REFUSED_STATUSES = {400, 413, 414, 431}
TARGET = "loopback"


class ReceiverPool:
    """One live receiver at a time; a fresh one once a callback ended the current flow."""

    def __init__(self) -> None:
        self._current: LoopbackReceiver | None = None

    @property
    def receiver(self) -> LoopbackReceiver:
        if self._current is None:
            self._current = LoopbackReceiver([EPHEMERAL], STATE, pages=RENDERER)
        return self._current

    def renew(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


@contextlib.contextmanager
def receivers() -> Iterator[ReceiverPool]:
    pool = ReceiverPool()
    try:
        yield pool
    finally:
        pool.renew()


# --- what the rules say a request gets -----------------------------------------------------


def expected_status(request: HttpRequest, port: int) -> tuple[int, str]:
    """The status and callback verdict the catalogue (cases 6-8, 11-13, 24-27) asks for."""
    if request.method != "GET":
        return 405, ""
    target = request.target
    if not target.startswith("/") or "#" in target:
        return 400, ""
    hosts = request.header_values("host")
    if len(hosts) != 1:
        return 400, ""
    if hosts[0].lower() != f"127.0.0.1:{port}":
        return 421, ""
    path, _, query = target.partition("?")
    if path != "/callback":
        return 404, ""
    verdict = expected_callback(query).verdict
    return {"accepted": 302, "denied": 200, "error": 200}.get(verdict, 400), verdict


def check_answer(pool: ReceiverPool, request: HttpRequest) -> None:
    """``respond`` gives the expected, complete, hardened reply; only a valid callback ends."""
    receiver = pool.receiver
    status, verdict = expected_status(request, receiver.port)
    reply = receiver.respond(request)
    try:
        check_reply(reply, request, status, verdict)
        if reply.important:  # single use: the same callback again is refused
            assert parse_reply(receiver.respond(request).data).status == 410
    finally:
        if reply.important:  # the callback ended this flow: a new one for the next example
            pool.renew()


def check_reply(reply: Reply, request: HttpRequest, status: int, verdict: str) -> None:
    parsed = parse_reply(reply.data, head_only=request.method == "HEAD")
    assert parsed.status == status, (parsed.status, status, request)
    assert reply.important == (status in (200, 302))
    if status == 302:
        assert parsed.headers["location"] == "/done"
        assert reply.after_sent is not None
    else:
        assert "location" not in parsed.headers, parsed.headers
    if status == 405:
        assert parsed.headers["allow"] == "GET"
    if verdict in ("wrong_flow", "malformed"):
        page = pages.WRONG_FLOW if verdict == "wrong_flow" else pages.BAD_REQUEST
        assert page.heading.encode() in parsed.body
    if verdict in ("denied", "error"):
        assert b"Not connected" in parsed.body
    assert_inert(parsed.body)


def assert_inert(body: bytes) -> None:
    assert tags_in(body) <= ALLOWED_TAGS, tags_in(body) - ALLOWED_TAGS
    lowered = body.lower()
    assert b"<script" not in lowered and b"javascript:" not in lowered


# --- properties --------------------------------------------------------------------------


def check_callback_rules(query: str) -> None:
    """check_callback: never an undocumented error; accepts exactly what the rules accept."""
    expected = expected_callback(query)
    if expected.params is None:
        with pytest.raises(CallbackRejected):
            parse_query(query)
    else:
        assert parse_query(query) == expected.params
    params = expected.params or {}
    outcome = attempt(lambda: check_callback(query, STATE), CallbackRejected, KitError)
    if isinstance(outcome, CallbackRejected):
        assert expected.verdict in ("malformed", "wrong_flow"), (expected, outcome.reason)
        assert outcome.wrong_flow == (expected.verdict == "wrong_flow")
    elif isinstance(outcome, ConsentDeniedError):
        assert expected.verdict == "denied", expected
        assert outcome.detail == "error=access_denied"
    elif isinstance(outcome, AuthorizationError):
        assert expected.verdict == "error", expected
        assert_plain_message(outcome, params)
    else:
        assert isinstance(outcome, AuthorizationResponse), outcome
        assert expected.verdict == "accepted", expected
        assert (outcome.code, outcome.state) == (params["code"], STATE)
        assert outcome.iss == params.get("iss")
        shown = repr(outcome).replace(repr(outcome.iss), "")  # iss is public, whatever it holds
        assert CODE not in shown and STATE not in shown


def assert_plain_message(error: AuthorizationError, params: dict[str, str]) -> None:
    message = error.user_message
    assert message.isprintable(), message
    said = message.partition(" Kit said: ")[2]
    assert len(said) <= MAX_DESCRIPTION_LENGTH + 2, said  # plain text, cut, in quotes
    assert error.detail in {f"error={params['error']}", "error=(not recognised)"}


def check_head_bytes(pool: ReceiverPool, data: bytes) -> None:
    """Any bytes: a checked request or a refusal with a fixed status, then a complete reply."""
    data = data.replace(b"{port}", str(pool.receiver.port).encode())
    reader = io.BufferedReader(io.BytesIO(data))
    request = attempt(lambda: read_request(reader), RequestRefused, ConnectionAbortedError)
    if isinstance(request, ConnectionAbortedError):
        assert data == b""
        return
    if isinstance(request, RequestRefused):
        assert request.status in REFUSED_STATUSES, request
        reply: Reply = pool.receiver.refuse(request.status, request.reason)
        parsed = parse_reply(reply.data)
        assert parsed.status == request.status
        assert "location" not in parsed.headers
        assert_inert(parsed.body)
        return
    assert isinstance(request, HttpRequest)
    assert TOKEN.fullmatch(request.method)
    assert request.target.isascii() and " " not in request.target
    assert len(request.headers) <= MAX_HEADERS
    for name, value in request.headers:
        assert TOKEN.fullmatch(name) and name == name.lower()
        assert value == value.strip(" \t\r\n")
    assert not request.header_values("transfer-encoding")
    assert all(int(length) <= MAX_BODY for length in request.header_values("content-length"))
    check_answer(pool, request)


def check_clean_head(head: tuple[bytes, str, str, list[tuple[str, str]]]) -> None:
    """A head that follows every rule is read exactly as sent."""
    data, method, target, headers = head
    request = read_request(io.BufferedReader(io.BytesIO(data + b"ignored body")))
    assert request == HttpRequest(
        method, target, tuple((name.lower(), value) for name, value in headers)
    )


_METHODS = weighted((st.sampled_from(("GET",) * 8 + ("HEAD", "POST", "get")), 6), (tokens, 1))
_PATHS = st.sampled_from(("/callback",) * 4 + PATHS)
_HOSTS = st.sampled_from(("good",) * 6 + ("none", "twice", "name", "evil", "other-port"))
_EXTRA = st.lists(st.tuples(tokens.map(str.lower), st.text(max_size=20)), max_size=3)


@st.composite
def requests_(draw: st.DrawFn) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    method, path = draw(_METHODS), draw(_PATHS)
    target = path + ("?" + draw(queries()) if draw(ONE_IN[6]) else "")
    return method, target, draw(_HOSTS), tuple(draw(_EXTRA))


def check_request_value(
    pool: ReceiverPool, spec: tuple[str, str, str, tuple[tuple[str, str], ...]]
) -> None:
    method, target, host, extra = spec
    port = pool.receiver.port
    hosts = {
        "good": [f"127.0.0.1:{port}"],
        "none": [],
        "twice": [f"127.0.0.1:{port}"] * 2,
        "name": [f"localhost:{port}"],
        "evil": [f"evil.example:{port}"],
        "other-port": [f"127.0.0.1:{port + 1}"],
    }[host]
    headers = tuple(("host", value) for value in hosts) + extra
    check_answer(pool, HttpRequest(method, target, headers))


# --- the socket-level property -------------------------------------------------------------


class Waiter:
    """Runs ``receiver.wait()`` on a thread, as the app's loopback thread does."""

    def __init__(self, receiver: LoopbackReceiver) -> None:
        self.receiver = receiver
        self.result: AuthorizationResponse | BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="fuzz-waiter", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.receiver.wait()
        except BaseException as exc:
            self.result = exc


def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, close our side, and read the whole answer (or nothing) until close."""
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # reset by the receiver: dropping a connection is an allowed answer
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):  # a time-out here means the receiver hung
                received += chunk
    return bytes(received)


def check_over_socket(waiter: Waiter, data: bytes) -> None:
    """Arbitrary bytes get a complete hardened reply or a closed connection; the flow waits."""
    receiver = waiter.receiver
    answer = exchange(receiver.port, data.replace(b"{port}", str(receiver.port).encode()))
    if answer:
        head_only = data.startswith(b"HEAD ") and answer.endswith(b"\r\n\r\n")
        parsed = parse_reply(answer, head_only=head_only)
        assert parsed.status != 302 and "location" not in parsed.headers
    assert waiter.thread.is_alive() and waiter.result is None, waiter.result


def fuzz_over_socket(config: Settings) -> None:
    with LoopbackReceiver([EPHEMERAL], STATE, pages=RENDERER, request_timeout=1.0) as receiver:
        waiter = Waiter(receiver)
        run_property(TARGET, raw_heads(OTHER_STATE), partial(check_over_socket, waiter), config)
        callback = f"GET /callback?code={CODE}&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:{{port}}"
        answer = exchange(receiver.port, f"{callback}\r\n\r\n".format(port=receiver.port).encode())
        assert parse_reply(answer).headers["location"] == "/done"
        waiter.thread.join(10)
    assert isinstance(waiter.result, AuthorizationResponse), waiter.result
    assert waiter.result.code == CODE


def fuzz_callback(config: Settings) -> None:
    run_property(TARGET, queries(), check_callback_rules, config)


def fuzz_head_bytes(config: Settings) -> None:
    with receivers() as pool:
        run_property(TARGET, raw_heads(), partial(check_head_bytes, pool), config)


def fuzz_clean_heads(config: Settings) -> None:
    run_property(TARGET, clean_heads(), check_clean_head, config)


def fuzz_request_values(config: Settings) -> None:
    with receivers() as pool:
        run_property(TARGET, requests_(), partial(check_request_value, pool), config)


CAMPAIGNS = (
    Campaign(TARGET, "check_callback follows the documented rules", fuzz_callback, 3),
    Campaign(TARGET, "any head bytes: a refusal or a complete reply", fuzz_head_bytes, 3),
    Campaign(TARGET, "well-formed heads are read exactly", fuzz_clean_heads, 1),
    Campaign(TARGET, "respond(): status, Location and claims", fuzz_request_values, 2),
    Campaign(TARGET, "real sockets: answer or close, then the callback", fuzz_over_socket, 1),
)


# --- the suite -----------------------------------------------------------------------------


def test_callback_query_follows_the_documented_rules() -> None:
    fuzz_callback(suite_settings(300))


def test_any_head_bytes_get_a_refusal_or_a_complete_hardened_reply() -> None:
    fuzz_head_bytes(suite_settings(300))


def test_well_formed_heads_are_read_exactly() -> None:
    fuzz_clean_heads(suite_settings())


def test_respond_gives_the_expected_status_and_never_a_foreign_location() -> None:
    fuzz_request_values(suite_settings(200))


def test_arbitrary_bytes_over_sockets_then_the_real_callback_still_works() -> None:
    fuzz_over_socket(suite_settings(40))
