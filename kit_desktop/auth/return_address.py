"""Return addresses (an App Store install's ``redirect``), judged as the browser resolves them.

Kit's App Store opens the app's Authorization URL with ``redirect=R``, Kit's app page, and
the app sends the browser back to ``R`` at the end. A browser resolves ``R`` by the WHATWG
URL standard before it navigates: ``https://app.kit.com/apps/%2e%2e/x`` becomes
``https://app.kit.com/x``. So :func:`check_install_redirect` first resolves ``R`` the same
way (:func:`resolve_url`), applies the host, port and path rules to the resolved URL, and
returns the resolved URL: what the app redirects to is exactly what was checked (security
catalogue case 72).

The resolver covers the parts of WHATWG parsing that matter for an absolute ``http`` or
``https`` URL written in the plain form Kit uses, and refuses every other form rather than
guess how a browser would rewrite it (anything it accepts, real Chromium resolves to the
same ``href``; see ``tests/catalogue/test_g_return_addresses.py``).

Stdlib only, no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "APP_PAGE_PATH",
    "APP_PAGE_PREFIX",
    "MAX_REDIRECT_LENGTH",
    "InstallRefusedError",
    "ResolvedUrl",
    "check_install_redirect",
    "remove_dot_segments",
    "resolve_url",
]

#: Longest ``redirect`` accepted.
MAX_REDIRECT_LENGTH = 2048
#: Kit's App Store itself (the bare documented form of the ``redirect``).
APP_PAGE_PATH = "/apps"
#: Kit's app pages live under this path.
APP_PAGE_PREFIX = "/apps/"

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: ``scheme://authority``, then the rest (path and query); no fragment is ever accepted.
_ABSOLUTE = re.compile(r"(?P<scheme>[A-Za-z]+)://(?P<authority>[^/?]*)(?P<rest>.*)", re.DOTALL)
_HOST_PORT = re.compile(r"(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]*))?")
#: Characters every browser leaves as they are in a path (RFC 3986 ``pchar`` and ``/``, less
#: ``'``, which browsers escape in a query): anything else would be rewritten, so is refused.
_PATH = re.compile(r"(?:[A-Za-z0-9\-._~!$&()*+,;=:@/]|%[0-9A-Fa-f]{2})*")
_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~!$&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
#: Percent-encoded ``/`` and ``\``: a server that decodes them before routing climbs out.
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c)", re.IGNORECASE)
_SINGLE_DOT = frozenset({".", "%2e"})
_DOUBLE_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})
_DECIMAL_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")


class InstallRefusedError(ValueError):
    """A ``redirect`` that is not Kit's app page (never followed).

    Attributes:
        reason: A fixed, value-free phrase for the log.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResolvedUrl:
    """An absolute ``http(s)`` URL as a browser resolves it.

    Attributes:
        scheme: ``http`` or ``https``, lower-cased.
        host: The host name, lower-cased (a trailing dot, if any, is kept, as browsers do).
        port: The port, or None for none or the scheme's default one.
        path: The path with its dot segments removed; never empty.
        query: The query without its ``?``; None when there is no ``?`` at all.
    """

    scheme: str
    host: str
    port: int | None
    path: str
    query: str | None

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``, as the browser serializes an origin."""
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"

    @property
    def href(self) -> str:
        """The whole URL, as the browser serializes it (``new URL(value).href``)."""
        query = "" if self.query is None else f"?{self.query}"
        return f"{self.origin}{self.path}{query}"


def remove_dot_segments(path: str) -> str:
    """Remove dot segments from an absolute path, as the WHATWG URL path state does.

    A segment is ``.`` when it is ``.`` or ``%2e``, and ``..`` when it is ``..``, ``.%2e``,
    ``%2e.`` or ``%2e%2e`` (case-insensitive). ``..`` drops the segment before it (never
    above the root); a ``.`` or ``..`` in last place leaves a trailing slash. Anything else,
    ``a%2eb`` or ``...`` for instance, stays as written.

    Args:
        path: A path starting with ``/`` (the part of a URL before ``?``).

    Returns:
        The resolved path, starting with ``/``.
    """
    segments = path.split("/")[1:]
    kept: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        folded = segment.lower()
        if folded in _DOUBLE_DOT:
            if kept:
                kept.pop()
            if last:
                kept.append("")
        elif folded in _SINGLE_DOT:
            if last:
                kept.append("")
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def resolve_url(value: str) -> ResolvedUrl:
    """Resolve an absolute ``http`` or ``https`` URL as a browser (WHATWG URL) does.

    Only the plain form is resolved: ``scheme://host[:port][/path][?query]`` in printable
    ASCII, a host of letters, digits, dots and hyphens, and a path and query of characters a
    browser leaves as they are. Scheme and host are lower-cased, a default port is dropped
    and dot segments are removed (:func:`remove_dot_segments`); the query is kept as is.

    Args:
        value: The URL as written.

    Returns:
        The URL as the browser would resolve it.

    Raises:
        InstallRefusedError: Any other form, even one a browser would accept after rewriting
            it (other schemes, missing or extra slashes after the scheme, credentials,
            fragments, percent-encoded or internationalized hosts, IPv6 literals, hosts that
            are not canonical IPv4 addresses yet end in a number, bad ports, characters the
            browser would escape, malformed percent escapes, whitespace, backslashes).
    """
    if not value.isascii() or not value.isprintable() or any(ch in value for ch in " \\#"):
        raise InstallRefusedError("redirect has unsafe characters")
    parts = _ABSOLUTE.fullmatch(value)
    if parts is None:
        raise InstallRefusedError("redirect is not an absolute URL")
    scheme = parts["scheme"].lower()
    if scheme not in _DEFAULT_PORTS:
        raise InstallRefusedError("redirect has another scheme")
    authority = _HOST_PORT.fullmatch(parts["authority"])
    if authority is None:
        raise InstallRefusedError("redirect has credentials or an unusual host")
    host = _check_host(authority["host"].lower())
    port = _check_port(authority["port"], scheme)
    path, mark, query = parts["rest"].partition("?")
    if not _PATH.fullmatch(path) or not _QUERY.fullmatch(query):
        raise InstallRefusedError("redirect has characters a browser would rewrite")
    return ResolvedUrl(
        scheme=scheme,
        host=host,
        port=port,
        path=remove_dot_segments(path or "/"),
        query=query if mark else None,
    )


def check_install_redirect(
    value: str, app_hosts: Sequence[str], *, extra_origins: Sequence[str] = ()
) -> str:
    """Return where an install may send the browser back: ``value`` resolved, if Kit's app page.

    ``value`` is resolved first (:func:`resolve_url`), and the rules apply to the resolved
    URL, which is returned: Kit's App Store ``/apps`` or a page under ``/apps/``, on an
    allowed host over ``https`` on port 443 (or on an extra origin).

    Args:
        value: The decoded ``redirect`` parameter.
        app_hosts: Allowed hosts (exact, case-insensitive); only ``https`` on port 443.
        extra_origins: Exact origins also allowed whatever their scheme, for the built-in
            sandbox's App Store (``http://127.0.0.1:PORT``).

    Returns:
        The resolved URL (``https://app.kit.com/apps/1`` for ``https://APP.KIT.COM:443/apps/1``).

    Raises:
        InstallRefusedError: Anything else: a form :func:`resolve_url` refuses, another scheme
            or host, another port, a resolved path outside ``/apps``, a percent-encoded slash
            or backslash in the path, a path parameter on a dot segment (``..;``).
    """
    if not value or len(value) > MAX_REDIRECT_LENGTH:
        raise InstallRefusedError("missing or oversized redirect")
    url = resolve_url(value)
    if url.path != APP_PAGE_PATH and not url.path.startswith(APP_PAGE_PREFIX):
        raise InstallRefusedError("redirect is not an app page")
    if _ENCODED_SEPARATOR.search(url.path) or _has_dot_segment_parameter(url.path):
        raise InstallRefusedError("redirect has an encoded separator or a dot parameter")
    if url.origin in {extra.lower().rstrip("/") for extra in extra_origins}:
        return url.href
    if url.scheme != "https" or url.host not in {host.lower() for host in app_hosts}:
        raise InstallRefusedError("redirect is not on Kit's app host")
    if url.port is not None:
        raise InstallRefusedError("redirect uses another port")
    return url.href


def _check_host(host: str) -> str:
    """Return ``host`` if a browser keeps it as written (lower-cased), else refuse it."""
    labels = host.split(".")
    if any(label.startswith("xn--") for label in labels):
        raise InstallRefusedError("redirect has an internationalized host")
    last = labels[-2] if len(labels) > 1 and labels[-1] == "" else labels[-1]
    if last.isdigit() or last.startswith("0x"):
        # WHATWG reads a host ending in a number as IPv4 and rewrites any other spelling
        # of it (127.1, 0x7f.0.0.1); only the canonical dotted quad stays as written.
        octets = host.split(".")
        if len(octets) != 4 or not all(
            _DECIMAL_OCTET.fullmatch(octet) and int(octet) <= 255 for octet in octets
        ):
            raise InstallRefusedError("redirect has an unusual IPv4 host")
    return host


def _check_port(port: str | None, scheme: str) -> int | None:
    """Return the port a browser keeps (None for none or the default one), else refuse it."""
    if not port:
        return None
    number = int(port)
    if number > 65535:
        raise InstallRefusedError("redirect has a bad port")
    return None if number == _DEFAULT_PORTS[scheme] else number


def _has_dot_segment_parameter(path: str) -> bool:
    """Whether a segment is a dot segment with a ``;`` parameter (``..;``), read as ``..``."""
    for segment in path.split("/"):
        name, semicolon, _ = segment.partition(";")
        folded = name.lower()
        if semicolon and (folded in _DOUBLE_DOT or folded in _SINGLE_DOT):
            return True
    return False
