"""Can Kit be reached from here? Asked before anyone is sent to the browser (issue 16, 2).

A creator whose computer is offline should hear so from the app, not meet the browser's
"This site can't be reached" on Kit's consent page. :func:`check_reachable` looks up the
authorization page's host (or the proxy the system names for it) and opens one TCP
connection to it, sending nothing: cheap, and no HTTP library to load.

Only what is certain stops Connect: the name does not resolve (offline computers fail
here), or a host on this computer refuses (practice mode's Kit is not running). A remote
host that resolves but does not accept the connection is logged and let through: the
browser may know a way this check does not (a proxy set by an auto-configuration script,
a firewall that only lets the browser out), and a creator must never be locked out.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kit_desktop.config import is_loopback_host
from kit_desktop.errors import KitUnreachableError

_log = logging.getLogger(__name__)

#: Seconds for the name lookup, and again for the connection.
REACH_TIMEOUT = 5.0

_AddrInfo = Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]]


@dataclass(frozen=True)
class Unreached:
    """Why a host could not be reached from here.

    Attributes:
        detail: What failed, for the log and for whoever helps (``host:port: refused``).
        certain: Whether the browser cannot get there either: the name does not resolve,
            or a host on this computer refused. Otherwise it may know a way this check
            does not (a proxy set by an auto-configuration script, a firewall rule).
    """

    detail: str
    certain: bool


def check_reachable(
    url: str, *, again: str = "click “Try again”", timeout: float = REACH_TIMEOUT
) -> None:
    """Return unless ``url``'s host (or its proxy) certainly cannot be reached; else raise.

    Args:
        url: The authorization page the browser would be sent to.
        again: What starts a new attempt, in the creator's words.
        timeout: Seconds for the name lookup, and again for the connection.

    Raises:
        KitUnreachableError: The name did not resolve (in time), or a host on this
            computer refused.
    """
    problem = reach_problem(url, timeout=timeout)
    if problem is None:
        return
    if problem.certain:
        _log.info("Kit not reachable: %s", problem.detail)
        raise KitUnreachableError(again=again, detail=problem.detail)
    _log.info(
        "no connection to Kit (%s); the browser is opened anyway: it may know a way",
        problem.detail,
    )


def reach_problem(url: str, *, timeout: float = REACH_TIMEOUT) -> Unreached | None:
    """Look ``url``'s host (or its proxy) up and open one connection to it; say what failed.

    Args:
        url: An http or https address.
        timeout: Seconds for the name lookup, and again for the connection.

    Returns:
        ``None`` when a connection was made, else why not.
    """
    host, port = _first_hop(url)
    addresses = _resolve(host, port, timeout)
    if isinstance(addresses, str):
        return Unreached(addresses, certain=True)
    problem = _connect(addresses, timeout)
    if problem is None:
        return None
    return Unreached(f"{host}:{port}: {problem}", certain=is_loopback_host(host))


def _resolve(host: str, port: int, timeout: float) -> _AddrInfo | str:
    """Look ``host`` up with a time limit (``getaddrinfo`` has none of its own); else why not."""
    found: list[_AddrInfo | OSError] = []

    def lookup() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)

    thread = threading.Thread(target=lookup, name="kit-reach-lookup", daemon=True)
    thread.start()
    thread.join(timeout)
    if not found:
        return f"{host}: no answer from the name server in {timeout:g} s"
    if isinstance(found[0], OSError):
        return f"{host}: name not found ({getattr(found[0], 'errno', '')})"
    return found[0]


def _connect(addresses: _AddrInfo, timeout: float) -> str | None:
    """Open (and close) a connection to the first address that takes one; else why not."""
    problem = "no address"
    for family, kind, proto, _name, address in addresses:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.settimeout(timeout)
                probe.connect(address)
                return None
        except TimeoutError:
            problem = f"no answer in {timeout:g} s"
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
    return problem


def _first_hop(url: str) -> tuple[str, int]:
    """The host and port a connection to ``url`` goes to first: the proxy, if one is used."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if is_loopback_host(host):
        return host, port
    import urllib.request  # loads http.client: only for a host out there

    if urllib.request.proxy_bypass(host):
        return host, port
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy:
        proxied = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if proxied.hostname:
            return proxied.hostname, proxied.port or (443 if proxied.scheme == "https" else 80)
    return host, port
