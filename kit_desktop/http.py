"""The app's HTTP plumbing: a session with explicit time-outs, no redirects, capped reads."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3

from kit_desktop import APP_NAME, __version__
from kit_desktop.config import is_loopback_host
from kit_desktop.errors import KitTimeoutError, NetworkError

log = logging.getLogger(__name__)

USER_AGENT = f"{APP_NAME.replace(' ', '')}/{__version__} python-requests/{requests.__version__}"


class Timeouts(NamedTuple):
    """Connect and read time-outs in seconds."""

    connect: float = 5.0
    read: float = 20.0


DEFAULT_TIMEOUTS = Timeouts()


class _NoNetrcAuth(requests.auth.AuthBase):
    """An explicit 'no auth' so requests never adds ~/.netrc credentials (catalogue 58)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


NO_AUTH = _NoNetrcAuth()


#: Environment variables through which requests changes whom the app trusts or talks to.
OVERRIDE_VARIABLES = (
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)
_reported: set[str] = set()
#: Per-request proxies that override every proxy variable (None entries are dropped).
_NO_PROXY: dict[str, str | None] = {"http": None, "https": None, "all": None}


def environment_overrides(environ: Mapping[str, str] | None = None) -> list[str]:
    """Return ``NAME=value`` for each set variable that changes trust or routing.

    They are honoured (a company proxy or CA is legitimate), but never silently: the log
    and Help > Copy diagnostics name them (catalogue 36 and 58). Passwords in proxy
    addresses are hidden.
    """
    env = os.environ if environ is None else environ
    found = []
    for name in OVERRIDE_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            found.append(f"{name}={_hide_password(value)}")
    return found


def _hide_password(value: str) -> str:
    parts = urlsplit(value) if "://" in value else None
    if parts is None or parts.password is None:
        return value
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username}:***@{host}{port}").geturl()


def report_overrides() -> None:
    """Log each trust or routing override once per process, as a warning."""
    for line in environment_overrides():
        if line not in _reported:
            _reported.add(line)
            log.warning("network setting from the environment is in effect: %s", line)


def new_session() -> requests.Session:
    """Return a session that names the app and asks for JSON."""
    report_overrides()
    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeouts: Timeouts,
    **kwargs: Any,
) -> requests.Response:
    """Send one request: TLS verified, explicit time-outs, redirects never followed, streamed.

    Raises:
        KitTimeoutError: Connecting or reading took too long.
        NetworkError: DNS, refused, reset or TLS failure.
    """
    kwargs.setdefault("auth", NO_AUTH)
    if is_loopback_host(urlsplit(url).hostname):
        # This computer (the practice sandbox) never goes through a proxy: it could not
        # reach it, and would see the practice tokens (catalogue 58).
        kwargs.setdefault("proxies", _NO_PROXY)
    try:
        return session.request(
            method,
            url,
            timeout=(timeouts.connect, timeouts.read),
            allow_redirects=False,
            verify=True,
            stream=True,
            **kwargs,
        )
    except requests.Timeout as exc:
        raise KitTimeoutError(detail=f"{method} {_origin(url)}: {type(exc).__name__}") from exc
    except requests.exceptions.SSLError as exc:
        raise NetworkError(
            "The secure connection to Kit could not be verified, so nothing was sent. "
            "Check the computer's date and any network filter, then try again.",
            detail=f"{method} {_origin(url)}: TLS failure",
        ) from exc
    except requests.RequestException as exc:
        raise NetworkError(detail=f"{method} {_origin(url)}: {type(exc).__name__}") from exc


def read_capped(response: requests.Response, limit: int) -> bytes:
    """Read at most ``limit`` bytes of the body.

    Raises:
        KitTimeoutError: The body stopped arriving for longer than the read time-out.
        NetworkError: The connection broke mid-body, or the body is too large.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=16384):
            size += len(chunk)
            if size > limit:
                raise NetworkError(
                    "Kit's answer was far larger than expected, so it was not read.",
                    detail=f"body over {limit} bytes",
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        # requests wraps a read time-out mid-body in a ConnectionError
        if isinstance(exc, requests.Timeout) or any(
            isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args
        ):
            raise KitTimeoutError(detail="reading the answer: read time-out") from exc
        raise NetworkError(detail=f"reading the answer: {type(exc).__name__}") from exc
    return b"".join(chunks)


def shown_address(location: str, base: str, limit: int = 120) -> str:
    """Return a redirect's ``location`` as it may be shown: ``scheme://host[:port]/path``.

    A relative address is resolved against ``base`` (the address that answered). The
    user name, password, query and fragment are left out (they may carry secrets), other
    characters are percent-encoded, and the result is at most ``limit`` characters. Returns
    '' for an empty or unreadable address, or one that is not http or https.
    """
    if not location.strip():
        return ""
    try:
        parts = urlsplit(urljoin(base, location.strip()))
        host, port = parts.hostname, parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not host:
        return ""
    host = f"[{quote(host, safe=':.')}]" if ":" in host else quote(host, safe=".-")
    shown = f"{parts.scheme}://{host}{'' if port is None else f':{port}'}"
    shown += quote(parts.path, safe="/%-._~!$&'()*+,;=:@")
    return shown if len(shown) <= limit else shown[: limit - 1] + "\u2026"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
