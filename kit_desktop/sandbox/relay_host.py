"""The sandbox as the publisher's https site: it serves the relay page, and Kit's https rule.

Real Kit accepts only https Redirect URIs and Authorization URLs, so a real build sends Kit
its publisher's hosted relay page. Practice mode walks the same road: the sandbox serves that
page from its own origin (``RELAY_PATH``), standing in for the publisher's site, with the
app's ports baked in as ``make relay-site`` would. With ``strict_https`` the sandbox also
refuses, as Kit's app settings do, any plain-http Redirect URI or Authorization URL other
than its own origin.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from kit_desktop import relay_page
from kit_desktop.config import KIT_APP_HOSTS
from kit_desktop.sandbox.messages import Response

#: Where the sandbox serves the relay page (like ``https://example.com/kit-desktop/relay.html``).
RELAY_PATH = "/kit-desktop/relay.html"
#: Kit's words for its https rule (help.kit.com, "Configuring API access").
HTTPS_ONLY = "All URLs have to be secure\u2014i.e., https."

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def check_secure_url(url: str, own_origin: str, what: str) -> str:
    """Return ``url`` if Kit's settings would take it: https, or the sandbox's own origin.

    Args:
        url: A Redirect URI or Authorization URL being registered.
        own_origin: The sandbox's origin, which stands in for the publisher's https site.
        what: ``Redirect URI`` or ``Authorization URL``, for the message.

    Raises:
        ValueError: Anything else, with Kit's words.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if (parts.scheme == "https" and parts.hostname) or origin == own_origin.lower():
        return url
    raise ValueError(
        f"The {what} {url} is not accepted: {HTTPS_ONLY} (Kit's app settings; this sandbox "
        f"takes its own address, {own_origin}, as the stand-in for your https site.)"
    )


class RelayHost:
    """Serves the relay page with the app's ports; thread-safe.

    Ports come from the app's loopback redirect URIs. A URI with port 0 (tests) registers
    no port: the app reports the ports it really bound with :meth:`note_app_port`, as a
    publisher would bake a build's fixed ports into the hosted page.

    Args:
        app_redirect_uris: The app's loopback redirect URIs (first one: installs).
        app_hosts: Hosts an install may return to (the sandbox's own origin is also allowed
            by the page itself).

    Raises:
        ValueError: The redirect URIs use different paths (the page forwards to one).
    """

    def __init__(
        self, app_redirect_uris: Sequence[str], app_hosts: Iterable[str] = KIT_APP_HOSTS
    ) -> None:
        ports = [urlsplit(uri).port or 0 for uri in app_redirect_uris]
        self._path = relay_page.callback_path(app_redirect_uris)
        self._lock = threading.Lock()
        self._install_port = ports[0] or None if len(ports) >= 2 else None
        self._callback_ports = [port for port in ports if port]
        self._app_hosts = tuple(app_hosts)
        self.pages_served = 0  # how often a browser loaded the page (tests follow the road)

    def note_app_port(self, port: int, *, install: bool = False) -> None:
        """Add a port the app bound (for redirect URIs with port 0)."""
        with self._lock:
            if install:
                self._install_port = port
            if port not in self._callback_ports:
                self._callback_ports.append(port)

    def settings(self) -> relay_page.RelaySettings | None:
        """The page's settings now, or ``None`` while the app has no port yet."""
        with self._lock:
            if not self._callback_ports:
                return None
            return relay_page.RelaySettings(
                self._install_port, tuple(self._callback_ports), self._app_hosts, self._path
            )

    def page(self) -> Response:
        """The relay page, baked with the app's ports."""
        with self._lock:
            self.pages_served += 1
        settings = self.settings()
        if settings is None:
            return Response(503, b"The app has not started listening yet.", dict(_PAGE_HEADERS))
        body = relay_page.bake(settings).encode("utf-8")
        headers = {"Content-Type": "text/html; charset=utf-8", **_PAGE_HEADERS}
        return Response(200, body, headers)
