"""Can Kit be reached from here? Asked before anyone is sent to the browser (issue 16, 2).

A creator whose computer is offline should hear so from the app, not meet the browser's
"This site can't be reached" on Kit's consent page. :func:`check_reachable` opens (and
closes) one TCP connection to the authorization page's host, or to the proxy the system
would use for it, without sending anything: cheap, no HTTP library to load, and a DNS
failure, a refused connection or silence all mean the browser would fail the same way.
"""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

from kit_desktop.config import is_loopback_host
from kit_desktop.errors import KitUnreachableError

_log = logging.getLogger(__name__)

#: Seconds to wait for the connection before calling Kit unreachable.
REACH_TIMEOUT = 6.0


def check_reachable(
    url: str, *, again: str = "click “Try again”", timeout: float = REACH_TIMEOUT
) -> None:
    """Return if a connection to ``url``'s host (or its proxy) opens; else raise.

    Args:
        url: The authorization page the browser would be sent to.
        again: What starts a new attempt, in the creator's words.
        timeout: Seconds to wait.

    Raises:
        KitUnreachableError: The name did not resolve, or nothing answered.
    """
    host, port = _first_hop(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except socket.gaierror as exc:
        detail = f"{host}: name not found ({exc.errno})"
    except TimeoutError:
        detail = f"{host}:{port}: no answer in {timeout:g} s"
    except OSError as exc:
        detail = f"{host}:{port}: {exc.strerror or type(exc).__name__}"
    _log.info("Kit not reachable: %s", detail)
    raise KitUnreachableError(again=again, detail=detail)


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
