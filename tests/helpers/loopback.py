"""Talking to the app's loopback receiver over real sockets, as a browser (or an attacker) would.

Shared by the receiver's unit tests (tests/unit/test_loopback.py) and the security catalogue.
"""

from __future__ import annotations

import contextlib
import http.client
import secrets
import socket
import threading
from dataclasses import dataclass

from kit_desktop.auth.callback import AuthorizationResponse
from kit_desktop.auth.loopback import LoopbackReceiver

__all__ = [
    "CODE",
    "DEFAULT_HOST",
    "EPHEMERAL",
    "STATE",
    "VALID",
    "Answer",
    "Waiter",
    "assert_hardened",
    "assert_no_active_content",
    "finish_flow",
    "get",
    "holds_secret",
    "lan_address",
    "send",
]

#: The state of the flow under test, and a code Kit might hand back with it.
STATE = secrets.token_urlsafe(32)
CODE = "kit-code-" + secrets.token_urlsafe(24)
EPHEMERAL = "http://127.0.0.1:0/callback"
VALID = f"/callback?code={CODE}&state={STATE}"
DEFAULT_HOST = object()


@dataclass
class Answer:
    """A reply as :func:`send` read it."""

    status: int
    headers: http.client.HTTPMessage
    body: str


class Waiter:
    """Runs ``wait()`` (then, like the app, ``finish()`` and ``serve_done()``) on a thread."""

    def __init__(self, receiver: LoopbackReceiver, *, finish: tuple[bool, str] | None = None):
        self.receiver = receiver
        self.response: AuthorizationResponse | None = None
        self.error: BaseException | None = None
        self._finish = finish
        self.thread = threading.Thread(target=self._run, name="test-waiter", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.response = self.receiver.wait()
        except BaseException as exc:
            self.error = exc
            return
        if self._finish is not None:
            self.receiver.finish(*self._finish)
            self.receiver.serve_done()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def join(self, timeout: float = 5.0) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "wait() did not return in time"

    def result(self) -> AuthorizationResponse:
        self.join()
        assert self.error is None, repr(self.error)
        assert self.response is not None
        return self.response

    def failure(self) -> BaseException:
        self.join()
        assert self.error is not None
        return self.error


def send(
    receiver: LoopbackReceiver,
    target: str,
    *,
    method: str = "GET",
    host: object = DEFAULT_HOST,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    raw: bytes | None = None,
) -> Answer:
    """Send one request over a raw socket and parse the reply (by Content-Length)."""
    if raw is None:
        lines = [f"{method} {target} HTTP/1.1"]
        if host is DEFAULT_HOST:
            lines.append(f"Host: 127.0.0.1:{receiver.port}")
        elif host is not None:
            lines.append(f"Host: {host}")
        lines += [f"{name}: {value}" for name, value in headers]
        lines.append("Connection: close")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
        sender = threading.Thread(target=_send_quietly, args=(sock, raw), daemon=True)
        sender.start()
        response = http.client.HTTPResponse(sock, method=method)
        try:
            response.begin()
            text = response.read().decode("utf-8")
        finally:
            response.close()
        sender.join(10)
        return Answer(response.status, response.headers, text)


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.sendall(data)


def assert_hardened(answer: Answer) -> None:
    headers = answer.headers
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'")
    assert "unsafe" not in csp and "script-src" not in csp


def assert_no_active_content(body: str) -> None:
    lowered = body.lower()
    for needle in ("<script", "<img", "<link", "<iframe", "src=", "href=", "http://", "https://"):
        assert needle not in lowered


def holds_secret(receiver: LoopbackReceiver, secret: str) -> bool:
    held = [*vars(receiver).values(), *vars(vars(receiver)["_start"]).values()]
    for value in held:
        if isinstance(value, str) and secret in value:
            return True
        if isinstance(value, AuthorizationResponse) and secret in (value.code, value.state):
            return True
    return False


def lan_address() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith(("127.", "0.")) else address


def finish_flow(receiver: LoopbackReceiver, waiter: Waiter) -> AuthorizationResponse:
    """Send the valid callback and return what wait() produced."""
    answer = send(receiver, VALID)
    assert answer.status == 302
    return waiter.result()


def get(port: int, target: str) -> tuple[int, str]:
    """One GET from the test's thread; the receiver serves it on its own thread."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()
