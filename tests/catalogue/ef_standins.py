"""Stand-in servers for the section E/F tests: real HTTP on 127.0.0.1, scripted and recorded.

A :class:`StandIn` records every request (method, target, every header, body) and answers as
its routes say: hostile bodies, redirects, a hang until released, a dropped connection, or a
proxy's ``CONNECT``. It holds no tests.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: Longest a stand-in hangs before giving up on its own (tests release it much sooner).
HANG_LIMIT = 60.0


@dataclass(frozen=True)
class Recorded:
    """One request a stand-in received.

    Attributes:
        method: The request method (``CONNECT`` for a proxy tunnel).
        target: The request target exactly as sent (absolute-form through a proxy).
        headers: Every header line, in order, duplicates kept.
        body: The request body.
    """

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header_values(self, name: str) -> list[str]:
        """Every value of the header ``name`` (case-insensitive)."""
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def path(self) -> str:
        """The target's path."""
        return urlsplit(self.target).path or self.target

    def text(self) -> str:
        """Everything received, as text, for leak hunting."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers)
        return f"{self.method} {self.target}\n{head}\n\n{self.body.decode('latin-1')}"


Behaviour = Callable[["StandInHandler"], None]


class StandIn(ThreadingHTTPServer):
    """A scripted HTTP origin (or proxy) on 127.0.0.1 that records every request.

    Routes map a path (or ``CONNECT``, or ``*`` for any other path) to a behaviour.
    :meth:`close` releases anything hanging, then stops and frees the port.

    Attributes:
        routes: Path -> behaviour.
        requests: What arrived, in order.
        raw: Bytes read after a ``CONNECT`` tunnel was opened (a TLS hello, never a token).
        release: Set to let hanging behaviours answer.
        stream_ended: Set when a client closed an endless stream.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(self, routes: dict[str, Behaviour] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.routes: dict[str, Behaviour] = dict(routes or {})
        self.requests: list[Recorded] = []
        self.raw = bytearray()
        self.release = threading.Event()
        self.stream_ended = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def note(self, recorded: Recorded) -> None:
        """Keep one received request."""
        with self._lock:
            self.requests.append(recorded)

    def seen(self) -> list[Recorded]:
        """A copy of what arrived so far."""
        with self._lock:
            return list(self.requests)

    def everything(self) -> str:
        """Every byte received, as text."""
        with self._lock:
            parts = [r.text() for r in self.requests] + [self.raw.decode("latin-1")]
        return "\n".join(parts)

    def start(self) -> StandIn:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Release hangs, stop serving and free the port."""
        self.release.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()


class StandInHandler(BaseHTTPRequestHandler):
    """Records the request, then runs its route's behaviour."""

    server: StandIn
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.note(Recorded(self.command, self.path, tuple(self.headers.items()), body))
        key = "CONNECT" if self.command == "CONNECT" else urlsplit(self.path).path
        routes = self.server.routes
        behaviour = routes.get(key) or routes.get("*") or reply(404, {"errors": ["Not Found"]})
        behaviour(self)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_CONNECT(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Write the whole answer in one go (status line, headers, body)."""
        lines = [f"HTTP/1.1 {status} Stand-in", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()


def reply(status: int, body: object = b"", **headers: str) -> Behaviour:
    """Answer ``status`` with ``body`` (bytes as is, anything else as JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    fields = {
        "Content-Type": "application/json",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }

    def behave(handler: StandInHandler) -> None:
        handler.answer(status, data, fields)

    return behave


def hang_then(then: Behaviour) -> Behaviour:
    """Hang (a slow Kit) until the stand-in is released, then behave as ``then``."""

    def behave(handler: StandInHandler) -> None:
        handler.server.release.wait(HANG_LIMIT)
        try:
            then(handler)
        except OSError:  # the client gave up meanwhile
            handler.close_connection = True

    return behave


def drop() -> Behaviour:
    """Close the connection without answering."""

    def behave(handler: StandInHandler) -> None:
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return behave


def endless(chunk: bytes = b'{"x": "' + b"y" * 16_000) -> Behaviour:
    """A chunked body that never ends (until the client closes or the stand-in is released)."""

    def behave(handler: StandInHandler) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            handler.wfile.write((head + "\r\n").encode())
            while not handler.server.release.is_set():
                handler.wfile.write(frame)
        except OSError:
            handler.server.stream_ended.set()
        handler.close_connection = True

    return behave


def stall() -> Behaviour:
    """Send the head and a few body bytes, then nothing more until released."""

    def behave(handler: StandInHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        handler.wfile.write(b'Content-Length: 1000\r\n\r\n{"subscribers": [')
        handler.wfile.flush()
        handler.server.release.wait(HANG_LIMIT)
        handler.close_connection = True

    return behave


def open_tunnel_and_listen() -> Behaviour:
    """A hostile proxy: accept ``CONNECT``, then keep whatever the client sends, then close."""

    def behave(handler: StandInHandler) -> None:
        handler.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        handler.wfile.flush()
        handler.connection.settimeout(2.0)
        try:
            data = handler.connection.recv(65536)
        except OSError:
            data = b""
        with handler.server._lock:
            handler.server.raw += data
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return behave


class StandIns:
    """Starts stand-ins for one test; :meth:`close_all` releases and closes every one."""

    def __init__(self) -> None:
        self._made: list[StandIn] = []

    def start(self, routes: dict[str, Behaviour] | None = None) -> StandIn:
        server = StandIn(routes).start()
        self._made.append(server)
        return server

    def close_all(self) -> None:
        for server in self._made:
            server.close()
