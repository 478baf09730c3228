"""A storm of hostile loopback clients (junk, slow-loris, wrong-state callbacks) on one selector.

One thread drives every attacking socket without blocking, so 650 connections cost one
thread on the client side, and each one's fate is recorded from the client's side: how it
ended (the server closed it: ``eof`` or ``reset``; the client closed it itself; or still
``open`` when the storm gave up) and the status line, if an answer came.

Used by ``tests/stress/test_loopback_stress.py`` and ``bench/stress.py``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import selectors
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

#: The junk kinds, sent round-robin.
JUNK_KINDS = (
    "connect-close",
    "random-bytes",
    "half-line",
    "big-headers",
    "many-headers",
    "wrong-path",
    "head",
    "post",
)
#: The issue's storm: junk connections, slow-loris connections, wrong-state callbacks.
JUNK, SLOW, WRONG = 500, 50, 100
#: Seconds between slow-loris bytes.
DRIP = 0.3
#: Outcomes that mean the server closed the connection.
SERVER_CLOSED = frozenset({"eof", "reset"})
#: Bytes of each answer kept (enough for the status line).
_KEEP = 256


@dataclass(eq=False)
class Client:
    """One attacking connection and what became of it.

    Attributes:
        kind: A junk kind, ``slow-loris`` or ``wrong-state``.
        payload: The bytes to send (all at once, or one per ``drip_every`` seconds).
        drip_every: Seconds between single bytes (slow-loris); 0 sends everything at once.
        outcome: ``eof`` or ``reset`` (the server closed it), ``client-closed``, ``refused``
            (connect failed) or ``open`` (still open when the storm gave up).
        lifetime: Seconds from connect to the end.
    """

    kind: str
    payload: bytes
    drip_every: float = 0.0
    sock: socket.socket | None = None
    connected: bool = False
    sent: int = 0
    next_drip: float = 0.0
    opened: float = 0.0
    lifetime: float = 0.0
    outcome: str | None = None
    error: str = ""
    answer: bytearray = field(default_factory=bytearray)

    @property
    def status(self) -> int | None:
        """The HTTP status the server answered with, if any."""
        if not self.answer.startswith(b"HTTP/1.1 "):
            return None
        return int(self.answer[9:12])


def junk(port: int, count: int) -> list[Client]:
    """``count`` junk clients, the kinds of :data:`JUNK_KINDS` in turn."""
    host = f"Host: 127.0.0.1:{port}\r\n"
    payloads = {
        "connect-close": b"",
        "half-line": b"GET /callback?co",
        "big-headers": f"GET /callback HTTP/1.1\r\n{host}X-Big: {'b' * 20_000}\r\n\r\n".encode(),
        "many-headers": (
            f"GET /callback HTTP/1.1\r\n{host}" + "".join(f"X-{i}: v\r\n" for i in range(200))
        ).encode()
        + b"\r\n",
        "wrong-path": f"GET /favicon.ico HTTP/1.1\r\n{host}\r\n".encode(),
        "head": f"HEAD /callback HTTP/1.1\r\n{host}\r\n".encode(),
        "post": f"POST /callback HTTP/1.1\r\n{host}Content-Length: 5\r\n\r\nhello".encode(),
    }
    clients = []
    for i in range(count):
        kind = JUNK_KINDS[i % len(JUNK_KINDS)]
        payload = _noise(i) if kind == "random-bytes" else payloads[kind]
        clients.append(Client(kind, payload))
    return clients


def _noise(seed: int) -> bytes:
    """512 bytes that look random, the same each run (some hold a newline, some not)."""
    return b"".join(hashlib.sha256(f"{seed}-{n}".encode()).digest() for n in range(16))


def slow_loris(count: int, every: float) -> list[Client]:
    """``count`` clients that send a request head one byte per ``every`` seconds."""
    head = b"GET /callback?code=" + b"s" * 4096
    return [Client("slow-loris", head, drip_every=every) for _ in range(count)]


def wrong_state(port: int, count: int) -> list[Client]:
    """``count`` well-formed callbacks that carry another flow's state."""
    return [
        Client(
            "wrong-state",
            f"GET /callback?code=wrong-{i}&state=not-this-flow-{i} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode(),
        )
        for i in range(count)
    ]


def interleaved(port: int) -> list[Client]:
    """The junk with a slow-loris connection after every tenth: one concurrent wave."""
    rubbish, slow = junk(port, JUNK), slow_loris(SLOW, DRIP)
    step = JUNK // SLOW
    wave: list[Client] = []
    for i in range(SLOW):
        wave += [*rubbish[i * step : (i + 1) * step], slow[i]]
    return wave + rubbish[SLOW * step :]


def slow_loris_first(port: int) -> list[list[Client]]:
    """The slow-loris connections take every slot, then the junk, then wrong states."""
    return [slow_loris(SLOW, DRIP), junk(port, JUNK), wrong_state(port, WRONG)]


def mixed(port: int) -> list[list[Client]]:
    """Junk and slow-loris connections interleaved, then wrong states."""
    return [interleaved(port), wrong_state(port, WRONG)]


class Storm:
    """Opens the clients of each wave in order and follows every connection to its end.

    By default the storm keeps at most ``max_queued`` connections waiting in the listen
    backlog (read from ``/proc/net/tcp`` where there is one): hundreds of connections are
    open together, yet the kernel never drops a handshake because the backlog is full, so
    the run measures the receiver rather than TCP's retry timers. ``max_queued=None`` opens
    each wave at once (a burst). :attr:`launched` is set once every wave is under way
    (connected and its payload, or first byte, sent); :meth:`join` waits for every
    connection to end or for ``give_up_after`` seconds from the start.

    Args:
        port: The receiver's port on 127.0.0.1.
        waves: Groups of clients, opened one group after the other.
        give_up_after: Seconds after the start when still-open connections count as ``open``.
        max_queued: The most connections left in the backlog; ``None``: bursts.
        wave_wait: The longest wait for a wave to get under way before the next one opens
            (``None``: until ``give_up_after``); a burst's handshakes can wait seconds for
            TCP to retry them.
    """

    def __init__(
        self,
        port: int,
        waves: Sequence[Sequence[Client]],
        *,
        give_up_after: float,
        max_queued: int | None = 8,
        wave_wait: float | None = None,
    ) -> None:
        self.port = port
        self.waves = [list(wave) for wave in waves]
        self.clients = [client for wave in self.waves for client in wave]
        self.give_up_after = give_up_after
        self.max_queued = max_queued
        self.wave_wait = wave_wait
        self.launched = threading.Event()
        self.started = 0.0
        self.launch_took = 0.0
        self.took = 0.0
        self._selector = selectors.DefaultSelector()
        self._thread = threading.Thread(target=self._run, name="test-storm", daemon=True)

    def start(self) -> None:
        """Run the storm on its own thread."""
        self._thread.start()

    def join(self) -> None:
        """Wait until every connection has ended (or the storm gave up)."""
        self._thread.join(self.give_up_after + 30)
        assert not self._thread.is_alive(), "the storm thread did not stop"

    def of(self, kind: str) -> list[Client]:
        """The clients of ``kind`` (a junk kind, ``slow-loris`` or ``wrong-state``)."""
        return [client for client in self.clients if client.kind == kind]

    def outcomes(self, kind: str | None = None) -> Counter[str]:
        """How the connections (of ``kind``, or all) ended."""
        return Counter(str(c.outcome) for c in self.clients if kind is None or c.kind == kind)

    def statuses(self, kind: str | None = None) -> Counter[int | None]:
        """The answers' status codes (``None``: no answer) of ``kind``, or all."""
        return Counter(c.status for c in self.clients if kind is None or c.kind == kind)

    # -- the loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        self.started = time.monotonic()
        try:
            for wave in self.waves:
                self._launch(wave)
                until = None if self.wave_wait is None else time.monotonic() + self.wave_wait
                self._pump_until(partial(_under_way, wave), until)
            self.launch_took = time.monotonic() - self.started
            self.launched.set()
            self._pump_until(partial(_under_way, self.clients, ended=True))
            for client in self.clients:
                if client.outcome is None:
                    self._end(client, "open")
        finally:
            self.launched.set()
            self._selector.close()
            self.took = time.monotonic() - self.started

    def _launch(self, wave: list[Client]) -> None:
        waiting = list(reversed(wave))
        while waiting:
            room = len(waiting)
            if self.max_queued is not None:
                queued = accept_queue(self.port)
                room = self.max_queued - queued if queued is not None else 1
            for _ in range(min(room, len(waiting))):
                self._open(waiting.pop())
            if waiting:
                self._pump_once(0.002)
            if time.monotonic() - self.started > self.give_up_after:
                for client in waiting:
                    self._end(client, "open")
                return

    def _pump_until(self, done: Callable[[], bool], until: float | None = None) -> None:
        deadline = self.started + self.give_up_after
        if until is not None:
            deadline = min(deadline, until)
        while not done() and time.monotonic() < deadline:
            self._pump_once(min(0.05, max(0.0, deadline - time.monotonic())))

    def _pump_once(self, wait: float) -> None:
        for key, mask in self._selector.select(wait):
            self._on_ready(key.data, mask)
        self._drip(time.monotonic())

    def _open(self, client: Client) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        client.sock = sock
        client.opened = time.monotonic()
        code = sock.connect_ex(("127.0.0.1", self.port))
        if code not in (0, errno.EINPROGRESS):
            client.error = errno.errorcode.get(code, str(code))
            self._end(client, "refused")
            return
        self._selector.register(sock, selectors.EVENT_WRITE, client)

    def _on_ready(self, client: Client, mask: int) -> None:
        sock = client.sock
        assert sock is not None
        if not client.connected:
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                client.error = errno.errorcode.get(code, str(code))
                self._end(client, "reset" if code == errno.ECONNRESET else "refused")
                return
            client.connected = True
            if client.kind == "connect-close":
                self._end(client, "client-closed")
                return
            client.next_drip = time.monotonic()
            if client.drip_every:
                self._drip_one(client)
            else:
                self._send(client)
            self._watch(client)
            return
        if mask & selectors.EVENT_READ:
            self._read(client)
        if client.outcome is None and mask & selectors.EVENT_WRITE:
            self._send(client)
            self._watch(client)

    def _watch(self, client: Client) -> None:
        if client.outcome is not None or client.sock is None:
            return
        events = selectors.EVENT_READ
        if not client.drip_every and client.sent < len(client.payload):
            events |= selectors.EVENT_WRITE
        self._selector.modify(client.sock, events, client)

    def _send(self, client: Client) -> None:
        assert client.sock is not None
        try:
            client.sent += client.sock.send(client.payload[client.sent :])
        except BlockingIOError:
            return
        except OSError:  # reset or broken pipe: the server dropped it
            self._read_rest(client)

    def _drip(self, now: float) -> None:
        for client in self.clients:
            if (
                client.drip_every
                and client.connected
                and client.outcome is None
                and now >= client.next_drip
            ):
                self._drip_one(client)

    def _drip_one(self, client: Client) -> None:
        assert client.sock is not None
        client.next_drip += client.drip_every
        if client.sent >= len(client.payload):
            return
        try:
            client.sent += client.sock.send(client.payload[client.sent : client.sent + 1])
        except BlockingIOError:
            return
        except OSError:
            self._read_rest(client)

    def _read(self, client: Client) -> None:
        assert client.sock is not None
        try:
            chunk = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            self._end(client, "reset")
            return
        if not chunk:
            self._end(client, "eof")
            return
        if len(client.answer) < _KEEP:
            client.answer += chunk[: _KEEP - len(client.answer)]

    def _read_rest(self, client: Client) -> None:
        """A send failed: keep what answer there is, then call it a reset."""
        assert client.sock is not None
        with contextlib.suppress(OSError):
            while len(client.answer) < _KEEP and (chunk := client.sock.recv(65536)):
                client.answer += chunk[: _KEEP - len(client.answer)]
        self._end(client, "reset")

    def _end(self, client: Client, outcome: str) -> None:
        client.outcome = outcome
        client.lifetime = time.monotonic() - client.opened
        sock = client.sock
        if sock is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        sock.close()


def _under_way(clients: Sequence[Client], *, ended: bool = False) -> bool:
    """Whether every client has ended (or, unless ``ended``, connected and begun sending)."""
    return all(
        c.outcome is not None or (not ended and c.connected and (c.sent > 0 or not c.payload))
        for c in clients
    )


def accept_queue(port: int) -> int | None:
    """Connections waiting in the backlog of the listener on ``port`` (Linux), else ``None``."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                for line in lines:
                    fields = line.split()
                    if fields[1].endswith(suffix) and fields[3] == "0A":  # 0A: LISTEN
                        return int(fields[4].partition(":")[2], 16)
        except OSError:
            continue
    return None
