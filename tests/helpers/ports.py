"""Loopback ports for tests: held by a socket wherever possible, probed only where it cannot be.

Most code under test binds port 0 itself (the loopback receiver with an ephemeral redirect
URI, the sandbox, the stand-in servers) and the test reads the port back: no race. A port
that must be *busy* or *refusing* is held by a socket of the test's own for as long as it is
needed (:func:`listening_port`, :func:`refused_port`, :func:`unanswered_port`).

Only :func:`probed_ports` hands out numbers that nothing holds: for the redirect URIs with a
fixed port that the app must bind by itself (see its docstring for the race that remains).
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "ipv6_loopback",
    "listening_port",
    "port_is_free",
    "probed_port",
    "probed_ports",
    "refused_port",
    "unanswered_port",
]

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether this test can bind ``port`` on ``host`` now (e.g. the app's listener is closed).

    Binds without ``SO_REUSEADDR``, as the app does, so a port the app still holds, or one
    another socket shares, counts as taken.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def ipv6_loopback() -> bool:
    """Whether this machine can bind the IPv6 loopback address ``::1``."""
    if not socket.has_ipv6:
        return False
    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError:
            return False
    return True


def probed_ports(count: int) -> tuple[int, ...]:
    """Return ``count`` different loopback ports that nothing is bound to right now.

    For redirect URIs with a fixed port, which the code under test binds by itself.

    The remaining race: each port is released before the code under test binds it, so
    another program may take it in between (the test then fails with a busy port; it never
    passes wrongly). It stays because the app's loopback listener (``LoopbackReceiver``,
    ``bind_first``) binds the registered redirect URIs itself and takes no socket bound
    beforehand, and a fixed-port URI (or a relay page baked with it) names its port before
    that. The race is kept small: the ports come from below the kernel's ephemeral range,
    so no outgoing connection (Chromium's, the sandbox's, a test's) can be given one
    meanwhile, and from a random place there, so parallel runs keep apart.

    Wherever the test does not need the number up front, use an ephemeral redirect URI
    (``http://127.0.0.1:0/...``) and read the port back; for a port that must merely refuse
    connections, :func:`refused_port`.
    """
    first_ephemeral = 32768
    range_file = Path("/proc/sys/net/ipv4/ip_local_port_range")
    if range_file.is_file():
        first_ephemeral = int(range_file.read_text(encoding="ascii").split()[0])
    low = 10_000 if first_ephemeral > 12_000 else 1024
    found: list[int] = []
    while len(found) < count:
        port = low + secrets.randbelow(first_ephemeral - low)
        if port not in found and port_is_free(port):
            found.append(port)
    return tuple(found)


def probed_port() -> int:
    """One port from :func:`probed_ports` (read its docstring for the race that remains)."""
    (port,) = probed_ports(1)
    return port


@contextmanager
def listening_port() -> Iterator[int]:
    """A port another program listens on, for as long as the ``with`` block lasts."""
    with socket.socket() as holder:
        holder.bind((LOOPBACK, 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@contextmanager
def refused_port() -> Iterator[int]:
    """A port that is bound but not listening: connecting to it is refused.

    Nothing else can bind it while the ``with`` block lasts, so it stays refusing.
    """
    with socket.socket() as closed:
        closed.bind((LOOPBACK, 0))
        yield int(closed.getsockname()[1])


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A listening port whose accept queue is full, so a new connection never completes."""
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        fillers = [socket.socket() for _ in range(4)]
        try:
            fillers[0].settimeout(2)
            fillers[0].connect((LOOPBACK, port))
            for filler in fillers[1:]:
                filler.setblocking(False)
                filler.connect_ex((LOOPBACK, port))
            yield port
        finally:
            for filler in fillers:
                filler.close()
