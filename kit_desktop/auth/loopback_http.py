"""A small, strict HTTP/1.1 server for the loopback receiver (stdlib socketserver, no Qt)."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import selectors
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_log = logging.getLogger("kit_desktop.auth.loopback")

#: Longest request line accepted (longer: 414).
MAX_REQUEST_LINE = 8 * 1024
#: Most header fields accepted (more: 431).
MAX_HEADERS = 64
#: Most bytes of header fields accepted (more: 431).
MAX_HEAD_BYTES = 16 * 1024
#: Largest request body announced before refusing with 413; bodies are never parsed.
MAX_BODY = 1024
#: Most connections handled at once. A connection over the cap takes the place of the
#: oldest one still sending its request head (or lingering after its reply), so idle and
#: slow clients can never lock the real callback out; with no such one it is reset.
MAX_CONNECTIONS = 32
#: Seconds a client has to send its whole request head.
REQUEST_TIMEOUT = 3.0
#: Seconds to wait for the client to close after the reply, and bytes drained meanwhile.
LINGER_TIMEOUT = 1.0
LINGER_BYTES = 64 * 1024
#: Seconds between checks for cancel, timeout and closing.
POLL_INTERVAL = 0.2

_LINGER_RESET = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DIGITS = re.compile(r"[0-9]{1,19}")

Address = tuple[str, int]


@dataclass(frozen=True)
class HttpRequest:
    """A request head that passed the HTTP-level checks.

    Attributes:
        method: The method token, as sent.
        target: The raw request target (path and query), never decoded.
        headers: ``(lower-case name, value)`` pairs, in order.
        local: The server's end of the connection ``(host, port)``, when known.
        peer: The client's end of the connection ``(host, port)``, when known.
    """

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    local: Address | None = None
    peer: Address | None = None

    def header_values(self, name: str) -> list[str]:
        """Return every value of header ``name`` (case-insensitive)."""
        wanted = name.lower()
        return [value for key, value in self.headers if key == wanted]


@dataclass(frozen=True)
class Reply:
    """A complete response and what to do once it is sent.

    Attributes:
        data: Status line, headers and body, written in one call.
        summary: Fixed, value-free words for the log.
        after_sent: Called once the write was attempted (even if the client had gone).
        important: Log the summary at INFO instead of DEBUG.
    """

    data: bytes
    summary: str
    after_sent: Callable[[], None] | None = None
    important: bool = False


class RequestRefused(Exception):  # noqa: N818 - a verdict that carries the status
    """The request head broke an HTTP-level rule; ``status`` is the answer."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"{status} {reason}")


class ReceiverClosing(Exception):  # noqa: N818 - a signal to drop the connection
    """The receiver is closing: drop the connection without an answer."""


class Responder(Protocol):
    """What the server asks for an answer to each request."""

    def respond(self, request: HttpRequest) -> Reply:
        """Return the reply to a well-formed request."""

    def refuse(self, status: int, reason: str) -> Reply:
        """Return the reply to a request refused at the HTTP level."""


class LoopbackServer(socketserver.TCPServer):
    """Listens on one loopback address and hands each connection to its own thread.

    One request per connection, each on its own short-lived thread, so an idle or slow client
    never blocks the real callback. Input is capped (request line, headers, body), every
    connection has a deadline, and ``SO_REUSEADDR`` is never set: no second listener can share
    the port. After a reply the server waits briefly for the client to close first, so no
    ``TIME_WAIT`` is left on the port; connections it gives up on are reset (``SO_LINGER`` 0).
    Either way the port can be bound again as soon as :meth:`stop` returns.

    Args:
        family: ``AF_INET`` or ``AF_INET6``.
        address: The loopback ``(host, port)`` to bind; port 0 asks for an ephemeral port.
        responder: Answers each request.
        request_timeout: Seconds a client has to send its request head.

    Raises:
        OSError: The address could not be bound (``EADDRINUSE`` when the port is taken).
    """

    allow_reuse_address = False
    allow_reuse_port = False
    request_queue_size = 64
    timeout = POLL_INTERVAL

    def __init__(
        self,
        family: int,
        address: Address,
        responder: Responder,
        *,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.address_family = family
        self.responder = responder
        self.request_timeout = request_timeout
        self.closing = threading.Event()
        self._threads_lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._open: dict[socket.socket, _Connection] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        super().__init__(address, _Handler)
        self._selector.register(self.socket, selectors.EVENT_READ, "listen")

    def handle_request(self) -> bool:  # type: ignore[override]
        """Serve one connection, or return after ``timeout`` or as soon as :meth:`wake` runs.

        Returns False when the server can no longer wait (its sockets are closed), so a
        loop around it ends instead of spinning.
        """
        try:
            ready = {key.data for key, _ in self._selector.select(self.timeout)}
        except (OSError, ValueError):
            return False
        if "wake" in ready:
            with contextlib.suppress(OSError):
                self._wake_r.recv(64)
        if "listen" in ready:
            self._handle_request_noblock()  # type: ignore[attr-defined]
        return True

    def wake(self) -> None:
        """Make a waiting :meth:`handle_request` return now (thread-safe)."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"!")

    def server_bind(self) -> None:
        """Bind exclusively (Windows shares ports unless told not to), never with reuse."""
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if exclusive is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        super().server_bind()

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """Serve the connection on a new thread, making room by evicting an idle one if needed."""
        if not isinstance(request, socket.socket):
            return
        with self._threads_lock:
            if len(self._open) >= MAX_CONNECTIONS and not self._evict_one_locked():
                _log.debug("reset a connection: too many busy at once")
                abort(request)
                return
            self._open[request] = _Connection(time.monotonic())
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="kit-loopback-connection",
            daemon=True,
        )
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: object) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            abort(request)
            with self._threads_lock:
                self._open.pop(request, None)
                self._threads.discard(threading.current_thread())

    def mark(self, request: socket.socket, stage: str) -> bool:
        """Note a connection's progress: ``busy`` (head read) or ``lingering`` (reply sent).

        Returns:
            False when the connection was evicted to make room (it gets no reply).
        """
        with self._threads_lock:
            connection = self._open.get(request)
            if connection is None or connection.evicted:
                return False
            connection.stage = stage
            return True

    def _evict_one_locked(self) -> bool:
        """Drop the lingering or oldest head-less connection; return whether one was found."""
        idle = [
            (connection.stage != "lingering", connection.opened, sock)
            for sock, connection in self._open.items()
            if connection.stage in ("head", "lingering") and not connection.evicted
        ]
        if not idle:
            return False
        _, _, victim = min(idle, key=lambda item: (item[0], item[1]))
        self._open[victim].evicted = True
        _log.debug("dropped the oldest idle connection to make room")
        with contextlib.suppress(OSError):
            # SHUT_RD wakes its thread's recv without sending a FIN (which would leave
            # TIME_WAIT on our port); the thread then resets and closes it.
            victim.shutdown(socket.SHUT_RD)
        return True

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: object
    ) -> None:
        """Log the failure's type only: the stock handler prints tracebacks to stderr."""
        failure = sys.exc_info()[0]
        name = failure.__name__ if failure is not None else "unknown error"
        _log.warning("a loopback connection failed unexpectedly (%s)", name)

    def server_close(self) -> None:
        """Close the listening socket and the wake-up pair."""
        super().server_close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def stop(self, timeout: float = 2.0) -> None:
        """Close the listening socket, then wait for open connections to be dropped."""
        self.closing.set()
        self.server_close()
        deadline = time.monotonic() + timeout
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


@dataclass
class _Connection:
    """One open connection's place in the queue for eviction.

    Attributes:
        opened: Monotonic time it was accepted.
        stage: ``head`` (still sending its request head), ``busy`` (being answered: never
            evicted) or ``lingering`` (answered, waiting for the client to close).
        evicted: Already shut down to make room; its thread is finishing.
    """

    opened: float
    stage: str = "head"
    evicted: bool = False


class _Handler(socketserver.BaseRequestHandler):
    """Reads one request head under a deadline, writes one reply, then closes."""

    request: socket.socket
    server: LoopbackServer
    disable_nagle_algorithm = True

    def setup(self) -> None:
        self._peer_closed = False
        if self.disable_nagle_algorithm:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = time.monotonic() + self.server.request_timeout
        self._reader = io.BufferedReader(
            _DeadlineReader(self.request, deadline, self.server.closing)
        )

    def handle(self) -> None:
        try:
            try:
                request = read_request(self._reader)
            except RequestRefused as refused:
                if not self.server.mark(self.request, "busy"):
                    raise ReceiverClosing from None  # evicted mid-head: drop, no reply
                reply = self.server.responder.refuse(refused.status, refused.reason)
            else:
                self.server.mark(self.request, "busy")
                # Read now, not when the connection opened: an ended attempt hands its
                # socket to a new responder (late_answer.py) while heads may be arriving.
                reply = self.server.responder.respond(self._with_ends(request))
        except (OSError, ReceiverClosing):
            _log.debug("dropped a connection without a complete request (idle, slow or closed)")
            return
        try:
            self.request.settimeout(self.server.request_timeout)
            self.request.sendall(reply.data)
        except OSError:
            _log.debug("the client went away before the reply was sent")
        finally:
            if reply.after_sent is not None:
                reply.after_sent()
        _log.log(logging.INFO if reply.important else logging.DEBUG, "loopback: %s", reply.summary)
        self.server.mark(self.request, "lingering")
        self._peer_closed = self._linger()

    def _with_ends(self, request: HttpRequest) -> HttpRequest:
        """The request with both ends of its connection, so a responder can ask who sent it."""
        try:
            local = self.request.getsockname()
            peer = self.request.getpeername()
        except OSError:
            return request
        return replace(
            request, local=(str(local[0]), int(local[1])), peer=(str(peer[0]), int(peer[1]))
        )

    def finish(self) -> None:
        self._reader.close()
        if self._peer_closed:
            self.request.close()
        else:
            abort(self.request)

    def _linger(self) -> bool:
        """Drain a little input until the client closes; return whether it did."""
        deadline = time.monotonic() + LINGER_TIMEOUT
        drained = 0
        while drained <= LINGER_BYTES and not self.server.closing.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                self.request.settimeout(min(remaining, POLL_INTERVAL))
                chunk = self.request.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return False
            if not chunk:
                # The client closed first, unless the server ended the read to make room.
                return self.server.mark(self.request, "lingering")
            drained += len(chunk)
        return False


class _DeadlineReader(io.RawIOBase):
    """Socket input that fails once the request's deadline passes or the server closes."""

    def __init__(self, sock: socket.socket, deadline: float, closing: threading.Event) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._closing = closing

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while True:
            if self._closing.is_set():
                raise ReceiverClosing
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the request did not arrive in time")
            self._sock.settimeout(min(remaining, POLL_INTERVAL))
            try:
                return self._sock.recv_into(buffer)
            except TimeoutError:
                continue


def read_request(reader: io.BufferedIOBase) -> HttpRequest:
    """Read and check one request head (request line and headers), never the body.

    Raises:
        RequestRefused: The head is malformed (400) or too large (413, 414, 431).
        TimeoutError: The head did not arrive before the connection's deadline.
        OSError: The connection failed or closed before a request line arrived.
    """
    line = reader.readline(MAX_REQUEST_LINE + 1)
    if not line:
        raise ConnectionAbortedError("closed before sending a request")
    if len(line) > MAX_REQUEST_LINE:
        raise RequestRefused(414, "request line too long")
    method, target = _request_line(line)
    headers: list[tuple[str, str]] = []
    total = 0
    while True:
        raw = reader.readline(MAX_HEAD_BYTES + 1)
        total += len(raw)
        if total > MAX_HEAD_BYTES or len(headers) > MAX_HEADERS:
            raise RequestRefused(431, "headers too large")
        if not raw.endswith(b"\n"):
            raise RequestRefused(400, "incomplete headers")
        if raw in (b"\r\n", b"\n"):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise RequestRefused(400, "malformed header")
        headers.append((name.lower(), value.strip(" \t\r\n")))
    request = HttpRequest(method, target, tuple(headers))
    _check_body(request)
    return request


def _request_line(line: bytes) -> tuple[str, str]:
    try:
        text = line.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError:
        raise RequestRefused(400, "non-ASCII request line") from None
    parts = text.split(" ")
    if (
        len(parts) != 3
        or not line.endswith(b"\n")
        or not _TOKEN.fullmatch(parts[0])
        or parts[2] not in ("HTTP/1.0", "HTTP/1.1")
    ):
        raise RequestRefused(400, "malformed request line")
    return parts[0], parts[1]


def _check_body(request: HttpRequest) -> None:
    lengths = request.header_values("content-length")
    if request.header_values("transfer-encoding"):
        raise RequestRefused(413, "request body of unknown size")
    if len(set(lengths)) > 1 or any(not _DIGITS.fullmatch(value) for value in lengths):
        raise RequestRefused(400, "malformed Content-Length")
    if lengths and int(lengths[0]) > MAX_BODY:
        raise RequestRefused(413, "request body too large")


def abort(sock: socket.socket) -> None:
    """Close ``sock`` with a reset, leaving no ``TIME_WAIT`` on our port (no-op if closed)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()
