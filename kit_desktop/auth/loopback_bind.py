"""Where a loopback listener binds: redirect URIs checked and turned into addresses (no Qt).

Shared by the callback receiver (:mod:`kit_desktop.auth.loopback`) and the App Store install
entry (:mod:`kit_desktop.auth.install_entry`). Every address is a loopback IP literal from a
registered redirect URI; the first free one is bound, never a wildcard and never with
``SO_REUSEADDR`` (:class:`~kit_desktop.auth.loopback_http.LoopbackServer`).
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from kit_desktop.auth.loopback_http import REQUEST_TIMEOUT, LoopbackServer, Responder
from kit_desktop.auth.start_link import START_PATH
from kit_desktop.config import check_redirect_uri
from kit_desktop.errors import ConfigError, LoopbackError, PortInUseError

__all__ = ["DONE_PATH", "Binding", "bind_first", "parse_redirect_uri"]

_log = logging.getLogger("kit_desktop.auth.loopback")

#: The fixed page the browser is sent to after the callback, so the code leaves the address bar.
DONE_PATH = "/done"


@dataclass(frozen=True)
class Binding:
    """One loopback address to listen on, from a redirect URI."""

    family: int
    host: str
    port: int
    path: str
    uri: str

    @property
    def literal(self) -> str:
        """The host as it appears in a URL (IPv6 in brackets)."""
        return f"[{self.host}]" if self.family == socket.AF_INET6 else self.host


def bind_first(
    bindings: Sequence[Binding], responder: Responder, request_timeout: float = REQUEST_TIMEOUT
) -> tuple[LoopbackServer, Binding]:
    """Bind the first free address of ``bindings``; return the server and the binding.

    Raises:
        PortInUseError: Every port is taken; names the first one.
        LoopbackError: No address could be bound for another reason.
    """
    busy: list[int] = []
    failures: list[str] = []
    for binding in bindings:
        try:
            server = LoopbackServer(
                binding.family,
                (binding.host, binding.port),
                responder,
                request_timeout=request_timeout,
            )
        except OSError as exc:
            if _is_busy(exc):
                busy.append(binding.port)
                _log.info("port %d is in use; trying the next redirect URI", binding.port)
            else:
                failures.append(f"{binding.literal}:{binding.port}: {exc.strerror or exc}")
            continue
        return server, binding
    if busy:
        raise PortInUseError(busy[0], detail=f"ports in use: {busy}")
    raise LoopbackError(detail="; ".join(failures))


def parse_redirect_uri(uri: str) -> Binding:
    """Return where to listen for the loopback redirect URI ``uri``.

    Raises:
        ConfigError: ``uri`` is not a loopback ``http`` URI with a port and path.
    """
    parts = urlsplit(check_redirect_uri(uri))
    host = parts.hostname or ""
    if parts.path in (DONE_PATH, START_PATH):
        raise ConfigError(f"The redirect URI {uri!r} must not use the path {parts.path}.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return Binding(family, host, parts.port or 0, parts.path, uri)


def _is_busy(exc: OSError) -> bool:
    if exc.errno == errno.EADDRINUSE:
        return True
    # Windows: WSAEADDRINUSE, or WSAEACCES when another socket holds the port exclusively.
    return sys.platform == "win32" and getattr(exc, "winerror", None) in (10048, 10013)
