"""The https relay page with one build's settings baked in (no Qt).

Kit only accepts https Redirect URIs and Authorization URLs, so Kit sends its answer to a
static page the publisher hosts (``resources/relay/relay.html``), which passes it on to the
app on ``http://127.0.0.1:<port>``. The page reads its settings from four ``<meta>`` tags:

- ``kit-desktop-install-port``: where App Store installs go (the first redirect URI's port),
  or empty when this build takes no installs;
- ``kit-desktop-callback-ports``: the only ports Kit's answer may be forwarded to (every
  redirect URI's port; catalogue 77), space-separated;
- ``kit-desktop-callback-path``: the path the app listens on (``/callback``);
- ``kit-desktop-app-hosts``: the hosts an install may send the browser back to.

:func:`bake` writes them; the script and style (pinned by CSP hashes) are never touched.
The sandbox serves the result as its stand-in for the publisher's site, and
``make relay-site`` writes it to a folder ready to host.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from kit_desktop.config import INSTALL_PATH, RELAY_CALLBACK_PATH, Settings
from kit_desktop.paths import resource_path

META_INSTALL_PORT = "kit-desktop-install-port"
META_CALLBACK_PORTS = "kit-desktop-callback-ports"
META_CALLBACK_PATH = "kit-desktop-callback-path"
META_APP_HOSTS = "kit-desktop-app-hosts"
#: Ports the page accepts (the app never listens below 1024).
PORT_RANGE = range(1024, 65536)


@dataclass(frozen=True)
class RelaySettings:
    """What one build's relay page must know about the app.

    Attributes:
        install_port: Where App Store installs go, or ``None`` for a build without installs.
        callback_ports: The only ports Kit's answer is forwarded to.
        app_hosts: Hosts an install may return to (``app.kit.com``).
        callback_path: The app's callback path.
    """

    install_port: int | None
    callback_ports: tuple[int, ...]
    app_hosts: tuple[str, ...]
    callback_path: str = RELAY_CALLBACK_PATH

    def __post_init__(self) -> None:
        ports = [*self.callback_ports, *filter(None, [self.install_port])]
        if not self.callback_ports or any(port not in PORT_RANGE for port in ports):
            raise ValueError("relay ports must be 1024-65535, with at least one callback port")
        if not self.app_hosts:
            raise ValueError("the relay page needs at least one app host")


def settings_for(settings: Settings) -> RelaySettings:
    """Return the relay settings of a build: its redirect URIs' ports and its app hosts.

    The first redirect URI's port answers installs when there are two or more (the app
    listens for installs there and connects on the next free one); every port may receive
    Kit's answer (the command line connects on the first free one).

    Raises:
        ValueError: A redirect URI has no fixed port (port 0 is for tests and the sandbox).
    """
    ports = tuple(urlsplit(uri).port or 0 for uri in settings.redirect_uris)
    if 0 in ports:
        raise ValueError("the relay page needs fixed ports; a redirect URI uses port 0")
    install = ports[0] if len(ports) >= 2 else None
    path = callback_path(settings.redirect_uris)
    return RelaySettings(install, tuple(dict.fromkeys(ports)), settings.app_hosts, path)


def callback_path(redirect_uris: Sequence[str]) -> str:
    """The one path the app listens on for Kit's answer, which the page forwards to.

    Raises:
        ValueError: The redirect URIs use different paths (the page has one).
    """
    paths = {urlsplit(uri).path for uri in redirect_uris}
    if len(paths) != 1:
        raise ValueError("the relay page forwards to one path; the redirect URIs use several")
    return paths.pop()


def template() -> str:
    """Return the shipped relay page, unbaked."""
    return resource_path("relay", "relay.html").read_text(encoding="utf-8")


def bake(relay: RelaySettings, page: str | None = None) -> str:
    """Return the relay page with ``relay`` written into its settings tags.

    Args:
        relay: The settings to bake in.
        page: The page to bake (default: the shipped one).

    Raises:
        ValueError: The page lacks one of the settings tags, or has it twice.
    """
    text = template() if page is None else page
    values = {
        META_INSTALL_PORT: "" if relay.install_port is None else str(relay.install_port),
        META_CALLBACK_PORTS: " ".join(str(port) for port in relay.callback_ports),
        META_CALLBACK_PATH: relay.callback_path,
        META_APP_HOSTS: " ".join(relay.app_hosts),
    }
    for name, content in values.items():
        text = set_meta(text, name, content)
    return text


def set_meta(page: str, name: str, content: str) -> str:
    """Return ``page`` with the ``content`` of its one ``<meta name="name">`` replaced.

    Raises:
        ValueError: There is no such tag, or more than one.
    """
    match = _one_meta(page, "name", name)
    return page[: match.start(2)] + html.escape(content, quote=True) + page[match.end(2) :]


def meta(page: str, name: str, *, attribute: str = "name") -> str:
    """Return the ``content`` of the one ``<meta attribute="name">`` in ``page``.

    Raises:
        ValueError: There is no such tag, or more than one.
    """
    return html.unescape(_one_meta(page, attribute, name).group(2))


def _one_meta(page: str, attribute: str, value: str) -> re.Match[str]:
    """The one ``<meta attribute="value" content="...">`` of ``page``; group 2 is the content."""
    pattern = rf'(<meta\s+{re.escape(attribute)}="{re.escape(value)}"\s+content=")([^"]*)("\s*/?>)'
    found = list(re.finditer(pattern, page, flags=re.IGNORECASE))
    if len(found) != 1:
        raise ValueError(f"expected one <meta {attribute}={value!r}>, found {len(found)}")
    return found[0]


def forward_address(page: str, address: str) -> str | None:
    """Where the relay page at ``address`` sends the browser, as its script would.

    A stand-in for the page's script, for browser stand-ins without JavaScript (the smoke
    test's visitor, tests). Kit's answer goes to the port its ``state`` names, which must be
    one of the page's callback ports; an install (``redirect``) goes to the install port.
    The app itself checks everything again; the real script is tested in real Chromium.

    Args:
        page: The relay page's HTML, as served.
        address: The relay page's address with Kit's query.

    Returns:
        ``http://127.0.0.1:<port>/...``, or ``None`` when the page would not forward.
    """
    query = urlsplit(address).query
    params = parse_qs(query)
    redirect = params.get("redirect", [""])[0]
    if redirect:
        port = meta(page, META_INSTALL_PORT)
        return (
            f"http://127.0.0.1:{port}{INSTALL_PATH}?{urlencode({'redirect': redirect})}"
            if port
            else None
        )
    state = params.get("state", [""])[0]
    port_text, dot, _ = state.partition(".")
    ports = meta(page, META_CALLBACK_PORTS).split()
    if not dot or port_text not in ports:
        return None
    return f"http://127.0.0.1:{port_text}{meta(page, META_CALLBACK_PATH)}?{query}"
