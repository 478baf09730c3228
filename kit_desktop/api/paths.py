"""Path checks that keep the token on Kit's API origin (catalogue section E)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlencode, urlsplit

from kit_desktop.errors import UnsafeRequestError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def origin_of(url: str) -> tuple[str, str, int]:
    """Return ``(scheme, host, port)`` of ``url`` with the default port filled in."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def api_url(origin: str, path: str, query: Iterable[tuple[str, str]] = ()) -> str:
    """Return ``origin`` + a checked ``/v4/...`` ``path`` (+ query), or refuse.

    Raises:
        UnsafeRequestError: The path could send the token elsewhere or escape ``/v4``.
    """
    raw = path.strip()
    if _SCHEME.match(raw) or raw.startswith("//"):
        raise UnsafeRequestError(
            "Type a path that starts with /v4/ (for example /v4/account), not a full address: "
            "the token is only ever sent to Kit's API."
        )
    if "\\" in raw or _CONTROL.search(raw) or "#" in raw:
        raise UnsafeRequestError("The path has characters that are not allowed (\\, spaces, #).")
    path_part, _, inline_query = raw.partition("?")
    decoded = unquote(path_part)
    segments = decoded.split("/")
    if (
        not path_part.startswith("/v4/")
        or any(seg in (".", "..") for seg in segments)
        or "\\" in decoded
        or "//" in decoded
        or decoded != unquote(decoded)
        or any(ch in decoded for ch in "?#@")
    ):
        raise UnsafeRequestError(
            "Only Kit API paths under /v4/ can be requested (for example /v4/subscribers)."
        )
    url = origin.rstrip("/") + path_part
    pairs = [p for p in inline_query.split("&") if p] if inline_query else []
    extra = urlencode(list(query))
    full_query = "&".join([*pairs, extra] if extra else pairs)
    final = f"{url}?{full_query}" if full_query else url
    if origin_of(final) != origin_of(origin):
        raise UnsafeRequestError(detail="final URL left the API origin")
    return final


def check_header(name: str, value: str) -> None:
    """Refuse an ``Authorization`` override and header names or values with line breaks.

    Raises:
        UnsafeRequestError: The header is not allowed.
    """
    if not _HEADER_NAME.fullmatch(name):
        raise UnsafeRequestError(f"The header name {name[:40]!r} is not valid.")
    if name.lower() == "authorization":
        raise UnsafeRequestError(
            "The Authorization header is set by the app from your Kit connection; "
            "it cannot be typed in."
        )
    if any(ch in value for ch in "\r\n\x00"):
        raise UnsafeRequestError(f"The value of the header {name} has a line break.")
    if value != value.lstrip(" \t") or not value.isprintable():
        raise UnsafeRequestError(
            f"The value of the header {name} starts with a space or has a control character."
        )
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise UnsafeRequestError(
            f"The value of the header {name} has characters a header cannot carry "
            "(use plain letters, digits and punctuation)."
        ) from None
